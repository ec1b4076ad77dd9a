"""Blob handles for the direct path: a service client whose blob clients are built only when
something beyond a blob's names is asked of them, and the direct requests of an opened
service when they apply (:func:`direct_blobs`)."""

from __future__ import annotations

import functools
from typing import Any

from .direct import DirectBlobs

__all__ = ["BlobHandle", "direct_blobs", "lazy_blob_service"]


@functools.cache
def lazy_blob_service() -> type[Any]:
    """``BlobServiceClient`` whose ``get_blob_client`` gives a :class:`BlobHandle` (defined
    on first use: the SDK loads with the first client)."""
    from azure.storage.blob.aio import BlobServiceClient

    class _LazyBlobService(BlobServiceClient):
        def get_blob_client(
            self, container: Any, blob: str, snapshot: Any = None, *, version_id: Any = None, **kwargs: Any
        ) -> Any:
            if snapshot is None and version_id is None and not kwargs and isinstance(container, str):
                return BlobHandle(self, container, blob)
            return super().get_blob_client(container, blob, snapshot, version_id=version_id, **kwargs)

    return _LazyBlobService


class BlobHandle:
    """A blob's names, standing for the SDK's ``BlobClient`` of it: the client is built
    the first time anything else is asked of the handle (the direct requests need only the
    names; building a ``BlobClient`` costs as much as a direct request)."""

    __slots__ = ("_real", "_service", "blob_name", "container_name")

    def __init__(self, service: Any, container: str, blob: str) -> None:
        self._service = service
        self.container_name = container
        self.blob_name = blob
        self._real: Any = None

    def __getattr__(self, attribute: str) -> Any:
        real = self._real
        if real is None:
            service = self._service
            from azure.storage.blob.aio import BlobServiceClient

            real = self._real = BlobServiceClient.get_blob_client(service, self.container_name, self.blob_name)
        return getattr(real, attribute)


def direct_blobs(service: Any) -> DirectBlobs | None:
    """The direct requests of an opened service, when they apply: the service was built for
    them (azure-core's aiohttp transport built by us, no proxy from the environment) and
    authorizes its blob requests in a way they repeat exactly: the account's shared key (on
    URLs without a query, which it would sign too), a SAS token (in the URL or as an
    ``AzureSasCredential``), or a token credential over https (over http the SDK refuses
    bearer tokens: its path raises that error)."""
    if not isinstance(service, lazy_blob_service()):
        return None
    from azure.core.credentials import AzureSasCredential
    from azure.storage.blob._shared.authentication import SharedKeyCredentialPolicy
    from azure.storage.blob._shared.policies_async import AsyncStorageBearerTokenCredentialPolicy
    from azure.storage.blob.aio import BlobServiceClient

    from .sharedkey import SharedKeySigner

    transport = service._config.transport
    session = getattr(transport, "session", None)
    if session is None:
        return None
    # The query the SDK's blob clients of this service carry (a SAS in the URL), as it
    # computes it.
    sample: Any = BlobServiceClient.get_blob_client(service, "c", "b")
    query: str = sample._query_str
    credential = service.credential
    policy = getattr(service, "_credential_policy", None)
    auth: dict[str, Any] = {"query": query}
    if isinstance(credential, SharedKeyCredentialPolicy):
        if query:
            return None
        auth["signer"] = SharedKeySigner(credential.account_name, credential.account_key)
    elif isinstance(credential, AzureSasCredential):
        if query:
            return None
        auth["sas"] = credential
    elif isinstance(policy, AsyncStorageBearerTokenCredentialPolicy):
        if query or service.scheme.lower() != "https":
            return None
        auth["bearer"] = policy
    elif credential is not None or not query:
        return None
    return DirectBlobs(
        session,
        prefix=f"{service.scheme}://{service.primary_hostname}/",
        api_version=service.api_version,
        user_agent=service._config.user_agent_policy.user_agent,
        connection_timeout=transport.connection_config.timeout,
        read_timeout=transport.connection_config.read_timeout,
        **auth,
    )
