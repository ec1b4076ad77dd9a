"""AzureBlobClient: the storage contract on Azure Blob Storage (``azure.storage.blob.aio``)."""

from __future__ import annotations

import base64
import hashlib
import math
import os
import sys
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, TypeVar

import anyio
import anyio.to_thread

from cloud.common.base import DEFAULT_CHUNK_SIZE, MAX_SIGN_SECONDS, StorageClient
from cloud.common.chunks import rechunk
from cloud.common.enums import CloudProvider
from cloud.common.exceptions import (
    APIError,
    BadRequestError,
    CloudError,
    ConfigurationError,
    ConflictError,
    IntegrityError,
    RequestTimeoutError,
    ServerError,
    TransportError,
)
from cloud.common.file_blocks import open_file_blocks
from cloud.common.files import (
    read_small_file,
)
from cloud.common.http_ranges import range_header, total_from_content_range
from cloud.common.integrity import md5_of
from cloud.common.lazy_open import OpenOnce
from cloud.common.models import CloudCredentials, ObjectMetadata, plain_etag, utc_datetime
from cloud.common.objects import RangeStream, body_chunks
from cloud.common.operations import OperationRunner
from cloud.common.pagination import AsyncPaginator, Page
from cloud.common.redaction import redact, redact_url
from cloud.common.retry import RetryPolicy
from cloud.common.transfer_engine import (
    download_in_ranges,
    read_in_ranges,
    upload_blocks,
    upload_in_parts,
)
from cloud.common.types import ProgressCallback, StrPath
from cloud.common.validation import check_object_name, check_prefix

from .blob_handles import direct_blobs, lazy_blob_service
from .blob_requests import UNSATISFIABLE, answer_metadata, delete_blob, get_blob, head_blob, put_blob
from .blocks import BlockUpload
from .config import (
    account_name_from_url,
    check_account_key,
    check_account_url,
    check_container_name,
    parse_connection_string,
    settings_from_environment,
)
from .direct import DirectBlobs
from .errors import error_code_of, from_status, translate
from .listing import list_page
from .ranges import RangedRead, md5_mismatch
from .transport import close_response, env_proxy_applies, one_retry_layer_transport, read_body, read_some

if TYPE_CHECKING:
    # The SDK (azure-core, azure-storage-blob, aiohttp) loads on a client's first call (or
    # when a key or SAS credential is given to the constructor), not with this module.
    from azure.core.credentials import AzureNamedKeyCredential, AzureSasCredential
    from azure.core.credentials_async import AsyncTokenCredential
    from azure.core.pipeline.transport import AsyncHttpResponse, AsyncHttpTransport, HttpRequest
    from azure.storage.blob import BlobProperties, BlobSasPermissions, UserDelegationKey
    from azure.storage.blob.aio import BlobClient, BlobServiceClient, ContainerClient

__all__ = ["AzureBlobClient", "AzureCredential"]

T = TypeVar("T")
X = TypeVar("X")
B = TypeVar("B", bytes, memoryview)  # a block as loaded: bytes, or a view of a reused buffer

AzureCredential: TypeAlias = (
    "str | AzureNamedKeyCredential | AzureSasCredential | AsyncTokenCredential | CloudCredentials | Mapping[str, str]"
)
"""What ``credential=`` accepts: an account key (``str``), a SAS token (``str`` with ``sig=``),
an ``AzureNamedKeyCredential``, an ``AzureSasCredential``, an async token credential from
``azure.identity.aio``, a :class:`~cloud.common.models.CloudCredentials` (``account_key`` or
``connection_string``) or ``{"account_name": ..., "account_key": ...}``."""

DEFAULT_BLOCK_SIZE = 8 * 1024 * 1024
"""Block size of parallel uploads and range size of parallel downloads (8 MiB)."""
DEFAULT_MAX_CONCURRENCY = 8
"""Blocks or ranges in flight per transfer."""
MAX_BLOCKS = 50_000
"""Azure's limit of committed blocks per blob (the block size grows to stay under it)."""
MAX_BLOCK_SIZE = 4000 * 1024 * 1024
MAX_PAGE_SIZE = 5000
_BATCH_SIZE = 256  # Azure's limit of sub-requests per batch
_CONTAINER_CACHE = 256  # ContainerClients kept per session (the cache is reset past this)
_MAX_RANGE_MD5 = 4 * 1024 * 1024  # the service gives a range's MD5 only up to 4 MiB
_SAS_CLOCK_SKEW = timedelta(minutes=5)


def _method_permission(method: str) -> BlobSasPermissions:
    """The SAS permission a signed URL for ``method`` (one of ``SIGNABLE_METHODS``) needs."""
    from azure.storage.blob import BlobSasPermissions

    return {
        "GET": BlobSasPermissions(read=True),
        "HEAD": BlobSasPermissions(read=True),
        "PUT": BlobSasPermissions(create=True, write=True),
        "DELETE": BlobSasPermissions(delete=True),
    }[method]


def _core_credentials() -> Any:
    """``azure.core.credentials`` (imported on first need: a client built from a
    connection string or the default credential never needs it at construction)."""
    import azure.core.credentials

    return azure.core.credentials


def _is_sdk_credential(credential: object, name: str) -> bool:
    """``isinstance(credential, azure.core.credentials.<name>)``, without importing
    azure-core when it is not loaded (then ``credential`` cannot be one)."""
    module = sys.modules.get("azure.core.credentials")
    return module is not None and isinstance(credential, getattr(module, name))


@dataclass(frozen=True)
class _Chunk:
    """One ranged read: the bytes, and what the answer says about the whole blob."""

    data: bytes
    total: int
    etag: str | None
    md5: bytes | None


class AzureBlobClient(StorageClient):
    """The storage contract on Azure Blob Storage; a *bucket* is a container.

    Give ``connection_string=``, or ``account_url=`` with an optional ``credential=``
    (default: ``azure.identity.aio.DefaultAzureCredential``, created on first use).  With
    neither, ``AZURE_STORAGE_CONNECTION_STRING``, ``AZURE_STORAGE_ACCOUNT_URL`` or
    ``AZURE_STORAGE_ACCOUNT`` is used.  Construction does no I/O; one
    ``BlobServiceClient`` (one connection pool) is opened on the first call and closed by
    :meth:`aclose`, together with any credential this client created.

    Files larger than ``block_size`` are uploaded as blocks staged in parallel
    (``max_concurrency`` at once), each with its own Content-MD5 that the service checks,
    and committed only when every block arrived; a smaller one is one Put Blob whose
    Content-MD5 the service checks and stores.  Downloads use parallel ranged reads
    written at their offsets into a temp file renamed into place once complete and
    verified (against the blob's Content-MD5 when it has one, else range by range where
    ranges are at most 4 MiB).  Every request carries one integrity check, never two.
    Memory in flight is bounded by about ``max_concurrency * block_size`` per transfer,
    whatever the object's size.
    azure-core's own retries are switched off: every request is retried by ``retry`` (a
    :class:`~cloud.common.retry.RetryPolicy`), like every other provider.  ``transport``
    (an ``azure.core`` async transport) is for tests and proxies.
    """

    provider: ClassVar[CloudProvider] = CloudProvider.AZURE

    def __init__(
        self,
        *,
        account_url: str | None = None,
        credential: AzureCredential | None = None,
        connection_string: str | None = None,
        block_size: int = DEFAULT_BLOCK_SIZE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        transport: AsyncHttpTransport[HttpRequest, AsyncHttpResponse] | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(block_size, int) or not 1 <= block_size <= MAX_BLOCK_SIZE:
            raise ConfigurationError(f"block_size must be between 1 byte and {MAX_BLOCK_SIZE} bytes")
        if not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise ConfigurationError("max_concurrency must be at least 1")
        if timeout is not None and timeout <= 0:
            raise ConfigurationError("timeout must be positive")
        self.block_size = block_size
        self.max_concurrency = max_concurrency
        self._transport = transport
        self._account_key: str | None = None
        self._sas_token: str | None = None
        self._connection_string: str | None = None
        self._sdk_credential: Any = None
        self._default_credential = False
        self._auth = ""
        self._configure(account_url, credential, connection_string)
        self._runner = OperationRunner(
            provider=self.provider.value,
            translate=self._translate,
            retry=retry,
            stats=self.stats,
            timeout=timeout,
            secrets=self._secrets,
        )
        self._service: BlobServiceClient | None = None
        self._containers: dict[str, ContainerClient] = {}
        self._owned_credential: Any = None
        self._once: OpenOnce[BlobServiceClient] = OpenOnce()
        self._batch_supported: bool | None = None
        self._delegation: tuple[datetime, datetime, UserDelegationKey] | None = None
        # The hot blob requests without azure-core's pipeline (see direct_blobs).
        self._direct: DirectBlobs | None = None
        self._direct_enabled = True

    # -- configuration (no I/O) ------------------------------------------------------------

    def _configure(
        self, account_url: str | None, credential: AzureCredential | None, connection_string: str | None
    ) -> None:
        if isinstance(credential, CloudCredentials):
            if credential.connection_string:
                if connection_string:
                    raise ConfigurationError("give connection_string once, not also inside credential")
                connection_string, credential = credential.connection_string, None
            elif credential.account_key:
                name = credential.account_name or (account_name_from_url(account_url) if account_url else None)
                if not name:
                    raise ConfigurationError("CloudCredentials.account_key needs account_name (or an account_url)")
                credential = _core_credentials().AzureNamedKeyCredential(name, credential.account_key)
            elif credential.token:
                credential = credential.token if "sig=" in credential.token else None
                if credential is None:
                    raise ConfigurationError("for Azure, CloudCredentials.token must be a SAS token")
            else:
                raise ConfigurationError("CloudCredentials for Azure need account_key, connection_string or token")
        if connection_string is not None and account_url is not None:
            raise ConfigurationError("give either connection_string or account_url, not both")
        if connection_string is None and account_url is None:
            connection_string, account_url = settings_from_environment()
            if connection_string is None and account_url is None:
                raise ConfigurationError(
                    "AzureBlobClient needs connection_string= or account_url= (or the environment variable "
                    "AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT_URL or AZURE_STORAGE_ACCOUNT)"
                )
        if connection_string is not None:
            if credential is not None:
                raise ConfigurationError("a connection string carries its own credential: do not also give one")
            info = parse_connection_string(connection_string)
            self._connection_string = connection_string
            self.account_url = info.account_url
            self.account_name = info.account_name
            self._account_key = info.account_key
            self._sas_token = info.sas_token
            self._auth = "connection string"
            return
        assert account_url is not None
        self.account_url = check_account_url(account_url).rstrip("/")
        self.account_name = account_name_from_url(self.account_url)
        if "sig=" in self.account_url and credential is None:
            self._sas_token = self.account_url.split("?", 1)[-1]
            self._auth = "SAS in URL"
            return
        if credential is None:
            self._default_credential = True
            self._auth = "DefaultAzureCredential"
        elif isinstance(credential, str):
            if "sig=" in credential:
                self._sas_token = credential.lstrip("?")
                self._sdk_credential = _core_credentials().AzureSasCredential(self._sas_token)
                self._auth = "SAS token"
            else:
                if not self.account_name:
                    raise ConfigurationError("an account key needs an account_url that names the account")
                self._account_key = check_account_key(credential)
                self._sdk_credential = _core_credentials().AzureNamedKeyCredential(self.account_name, credential)
                self._auth = "account key"
        elif _is_sdk_credential(credential, "AzureNamedKeyCredential"):
            assert isinstance(credential, _core_credentials().AzureNamedKeyCredential)
            self.account_name = credential.named_key.name
            self._account_key = check_account_key(credential.named_key.key)
            self._sdk_credential = credential
            self._auth = "account key"
        elif _is_sdk_credential(credential, "AzureSasCredential"):
            assert isinstance(credential, _core_credentials().AzureSasCredential)
            self._sas_token = credential.signature
            self._sdk_credential = credential
            self._auth = "SAS token"
        elif isinstance(credential, Mapping):
            name = credential.get("account_name") or self.account_name
            key = credential.get("account_key")
            if not name or not key:
                raise ConfigurationError("a credential mapping needs 'account_name' and 'account_key'")
            self.account_name = name
            self._account_key = check_account_key(key)
            self._sdk_credential = _core_credentials().AzureNamedKeyCredential(name, key)
            self._auth = "account key"
        elif hasattr(credential, "get_token"):
            import inspect

            if not inspect.iscoroutinefunction(credential.get_token):
                raise ConfigurationError(
                    "the credential must be asynchronous: use azure.identity.aio (not azure.identity) credentials"
                )
            self._sdk_credential = credential
            self._auth = f"token credential ({type(credential).__name__})"
        else:
            raise ConfigurationError(f"unsupported Azure credential type {type(credential).__name__}")

    def _secrets(self) -> list[str]:
        return [s for s in (self._account_key, self._sas_token, self._connection_string) if s]

    def _translate(self, exc: BaseException, operation: str) -> CloudError | None:
        # The table is errors.translate; the runner redacts the message, this the body too.
        err = translate(exc, operation)
        if isinstance(err, APIError) and err.body:
            err.body = redact(err.body, self._secrets())
        return err

    def __repr__(self) -> str:
        return f"<AzureBlobClient account_url={redact_url(self.account_url)!r} auth={self._auth!r}>"

    # -- session -----------------------------------------------------------------------------

    def _build_service(self) -> BlobServiceClient:
        from azure.storage.blob._shared.constants import CONNECTION_TIMEOUT, DATA_BLOCK_SIZE, READ_TIMEOUT
        from azure.storage.blob.aio import BlobServiceClient

        options: dict[str, Any] = {
            "retry_total": 0,  # our RetryPolicy retries, not azure-core's
            "max_single_get_size": self.block_size,
            "max_chunk_get_size": self.block_size,
            "max_single_put_size": self.block_size,
            "max_block_size": self.block_size,
        }
        direct = False
        if self._transport is not None:
            options["transport"] = self._transport
        else:
            env = env_proxy_applies(self.account_url)
            # Which credentials the direct requests serve is decided when the service opens.
            direct = self._direct_enabled and not env
            if not env:
                options["use_env_settings"] = False
            # The settings the SDK gives the transport it would build itself (256 KiB body
            # blocks, its connect and read timeouts).
            options["transport"] = one_retry_layer_transport()(
                use_env_settings=env,
                connection_timeout=CONNECTION_TIMEOUT,
                read_timeout=READ_TIMEOUT,
                connection_data_block_size=DATA_BLOCK_SIZE,
            )
        # With the direct requests, a blob client is built only when something else than its
        # names is asked of it (the direct requests need only those).
        service_class = lazy_blob_service() if direct else BlobServiceClient
        if self._connection_string is not None:
            return service_class.from_connection_string(self._connection_string, **options)
        credential = self._sdk_credential
        if (self._default_credential or hasattr(credential, "get_token")) and not self.account_url.lower().startswith(
            "https://"
        ):
            # The SDK's own refusal (a ValueError from its constructor), as a CloudError.
            raise ConfigurationError("a token credential needs an https account URL (no bearer tokens over http)")
        if self._default_credential:
            from azure.identity.aio import DefaultAzureCredential

            credential = self._owned_credential = DefaultAzureCredential()
        return service_class(self.account_url, credential=credential, **options)

    async def _svc(self) -> BlobServiceClient:
        service = self._service
        if service is not None:
            return service
        return await self._once.get(lambda: self._service, self._open_service)

    async def _open_service(self) -> None:
        service = self._build_service()
        await service.__aenter__()
        self._direct = direct_blobs(service)
        self._service = service

    async def _container(self, bucket: str) -> ContainerClient:
        """The session's ``ContainerClient`` for ``bucket`` (one per bucket, reused)."""
        service = self._service or await self._svc()
        container = self._containers.get(bucket)
        if container is None:
            if len(self._containers) >= _CONTAINER_CACHE:
                self._containers.clear()
            container = self._containers[bucket] = service.get_container_client(bucket)
        return container

    async def _blob(self, bucket: str, name: str) -> BlobClient:
        return (self._service or await self._svc()).get_blob_client(bucket, name)

    async def _open_blob(self, operation: str, bucket: str, name: str, timeout: float | None) -> BlobClient:
        """One ``BlobClient`` for a whole operation (all its ranges, blocks and retries);
        the runner is needed only while the session is not open yet."""
        service = self._service
        if service is not None:
            return service.get_blob_client(bucket, name)
        return await self._runner_open(operation, bucket, name, timeout)

    async def aclose(self) -> None:
        """Close the service client (its connection pool) and any credential this client
        created.  Idempotent; a later call opens a new session."""
        service, self._service = self._service, None
        self._direct = None
        self._containers = {}
        credential, self._owned_credential = self._owned_credential, None
        try:
            if service is not None:
                await service.close()
        finally:
            if credential is not None:
                await credential.close()

    async def _call(
        self, operation: str, fn: Callable[[], Awaitable[T]], *, timeout: float | None, idempotent: bool = True
    ) -> T:
        return await self._runner.call(operation, fn, idempotent=idempotent, timeout=timeout)

    def _fail(self, error: CloudError, operation: str) -> CloudError:
        err = self._runner.to_cloud_error(error, operation)
        assert err is not None
        self.stats.record_error(err)
        return err

    # -- buckets -----------------------------------------------------------------------------

    async def ensure_bucket(self, bucket: str, *, timeout: float | None = None) -> bool:
        """Create the container if needed: ``True`` if created, ``False`` if it existed."""
        check_container_name(bucket)

        async def create() -> bool:
            from azure.core.exceptions import ResourceExistsError  # loaded with the client

            container = await self._container(bucket)
            try:
                await container.create_container()
            except ResourceExistsError as exc:
                if error_code_of(exc) == "ContainerAlreadyExists":
                    return False
                raise
            return True

        return await self._call("ensure_bucket", create, timeout=timeout)

    async def delete_bucket(self, bucket: str, *, force: bool = False, timeout: float | None = None) -> None:
        """Delete the container.  Azure would delete a container with blobs in it, so a
        non-empty one is refused with ``ConflictError`` unless ``force`` (then its blobs are
        deleted first)."""
        check_container_name(bucket)
        if force:
            async for page in self.iter_objects(bucket, page_size=MAX_PAGE_SIZE, timeout=timeout).pages():
                await self.delete_objects(bucket, [m.name for m in page.items], timeout=timeout)
        else:

            async def any_blob() -> bool:
                container = await self._container(bucket)
                pages = container.list_blob_names(results_per_page=1).by_page()
                async for page in pages:
                    async for _ in page:
                        return True
                return False

            if await self._call("delete_bucket", any_blob, timeout=timeout):
                raise self._fail(
                    ConflictError(
                        f"container {bucket!r} is not empty (use force=True to delete its blobs too)",
                        code="ContainerNotEmpty",
                    ),
                    "delete_bucket",
                )

        async def delete() -> None:
            await (await self._container(bucket)).delete_container()

        await self._call("delete_bucket", delete, timeout=timeout)

    async def _bucket_exists(self, bucket: str, *, timeout: float | None = None) -> bool:
        check_container_name(bucket)

        async def exists() -> bool:
            return await (await self._container(bucket)).exists()

        return await self._call("bucket_exists", exists, timeout=timeout)

    # -- helpers -----------------------------------------------------------------------------

    def _check(self, bucket: str, object_name: str) -> None:
        check_container_name(bucket)
        check_object_name(object_name)

    def _meta(self, bucket: str, name: str, props: BlobProperties) -> ObjectMetadata:
        # Called once per listed blob: positional arguments, no helper calls on the usual
        # path (the SDK's times are already UTC, its ETags quoted, most blobs carry no metadata).
        settings = props.content_settings
        etag = props.etag
        modified: datetime | None = props.last_modified
        if modified is not None and modified.tzinfo is not timezone.utc:
            modified = utc_datetime(modified)
        user = props.metadata
        return ObjectMetadata(
            name,
            bucket,
            props.size or 0,
            plain_etag(etag),
            settings.content_type if settings is not None else None,
            modified,
            {k.lower(): v for k, v in user.items()} if user else {},
            _AZURE,
        )

    def _block_size_for(self, size: int) -> int:
        return max(self.block_size, math.ceil(size / MAX_BLOCKS))

    # -- uploads -----------------------------------------------------------------------------

    async def _upload_file(
        self,
        local_path: StrPath,
        bucket: str,
        object_name: str,
        ctype: str,
        meta: dict[str, str],
        progress: ProgressCallback | None,
        timeout: float | None,
    ) -> None:
        """The primitive of :meth:`upload_file`: one request up to ``block_size`` (the file
        read in one piece), else blocks read from disk and staged in parallel, committed at
        the end (nothing is committed on failure)."""
        path = os.fspath(local_path)
        op = "upload_file"
        _, data = await read_small_file(path, self.block_size)  # one hop at most, none up to 64 KiB
        if data is not None:
            await self._put_single(op, bucket, object_name, data, ctype, meta, progress, timeout)
            return
        async with open_file_blocks(path, self._block_size_for, _md5_digest) as blocks:
            await self._put_blocks(
                op,
                bucket,
                object_name,
                blocks.spans(),
                blocks.load,
                ctype,
                meta,
                progress,
                timeout,
                release=blocks.release,
            )

    async def _upload_stream(
        self,
        bucket: str,
        object_name: str,
        chunks: AsyncIterable[bytes],
        ctype: str,
        meta: dict[str, str],
        progress: ProgressCallback | None,
        timeout: float | None,
    ) -> None:
        """The primitive of :meth:`upload_stream`: chunks regrouped into blocks of
        ``block_size`` staged in parallel and committed at the end (one request if the
        whole stream fits in one block).  Nothing is committed on failure."""
        # Blocks double in size every 10,000 so a stream of any length stays under Azure's
        # 50,000-block limit.
        blocks = rechunk(chunks, self.block_size, grow_every=10_000)
        await self._upload("upload_stream", bucket, object_name, blocks, ctype, meta, progress, timeout)

    async def _put_bytes(
        self,
        bucket: str,
        object_name: str,
        payload: bytes,
        ctype: str,
        meta: dict[str, str],
        timeout: float | None,
    ) -> ObjectMetadata:
        """The primitive of :meth:`put_bytes`: a block blob (a single request also sets the
        blob's Content-MD5)."""
        blocks = _memory_blocks(payload, self._block_size_for(len(payload)))
        result = await self._upload("put_bytes", bucket, object_name, blocks, ctype, meta, None, timeout)
        return ObjectMetadata(
            name=object_name,
            bucket=bucket,
            size=len(payload),
            etag=plain_etag(result.get("etag")),
            content_type=ctype,
            last_modified=utc_datetime(result.get("last_modified")),
            metadata=dict(meta),
            provider=self.provider,
        )

    async def _upload(
        self,
        operation: str,
        bucket: str,
        name: str,
        blocks: AsyncIterator[bytes],
        content_type: str,
        metadata: dict[str, str],
        progress: ProgressCallback | None,
        timeout: float | None,
    ) -> dict[str, Any]:
        """Upload ``blocks``: a single Put Blob when there is at most one, else Put Block
        for each (in parallel) and Put Block List to commit them."""

        async def single(data: bytes) -> dict[str, Any]:
            return await self._put_single(operation, bucket, name, data, content_type, metadata, progress, timeout)

        async def in_parts(parts: AsyncIterator[bytes]) -> dict[str, Any]:
            async def load(data: bytes) -> tuple[bytes, bytes]:
                return data, await md5_of(data)

            return await self._put_blocks(
                operation, bucket, name, parts, load, content_type, metadata, progress, timeout
            )

        try:
            return await upload_blocks(blocks, single=single, in_parts=in_parts)
        except CloudError as exc:
            converted = self._fail_in(operation)(exc)
            if converted is exc:
                raise
            raise converted from None

    async def _put_single(
        self,
        operation: str,
        bucket: str,
        name: str,
        data: bytes,
        content_type: str,
        metadata: dict[str, str],
        progress: ProgressCallback | None,
        timeout: float | None,
    ) -> dict[str, Any]:
        """One Put Blob.  The body is hashed once: the digest goes in the request's
        Content-MD5 (the service rejects a body that does not match) and becomes the
        blob's Content-MD5 property, which readers verify."""
        from azure.storage.blob import ContentSettings  # loaded with the client

        md5 = await md5_of(data)
        settings = ContentSettings(content_type=content_type, content_md5=bytearray(md5))

        async def put() -> dict[str, Any]:
            blob = await self._blob(bucket, name)  # opens the service, and with it the direct requests
            direct = self._direct
            if direct is not None:
                sent = await put_blob(direct, bucket, name, data, md5, content_type, metadata)
                if sent is not None:
                    return sent
            return await blob.upload_blob(
                data,
                blob_type="BlockBlob",
                length=len(data),
                overwrite=True,
                metadata=metadata,
                content_settings=settings,
                transactional_content_md5=md5,
                max_concurrency=1,
            )

        result = await self._call(operation, put, timeout=timeout)
        self.stats.add_sent(len(data))
        if progress is not None and data:
            progress(len(data))
        return result

    async def _put_blocks(
        self,
        operation: str,
        bucket: str,
        name: str,
        items: Iterable[X] | AsyncIterable[X],
        load: Callable[[X], Awaitable[tuple[B, bytes]]],
        content_type: str,
        metadata: dict[str, str],
        progress: ProgressCallback | None,
        timeout: float | None,
        *,
        release: Callable[[B], None] | None = None,
    ) -> dict[str, Any]:
        """Stage a block per item, ``max_concurrency`` at once, and commit them in order.

        Each worker takes the next item, ``load``\\ s it (its bytes and their MD5: for a
        file, one read + hash in a worker thread) and stages it with that MD5 as the
        request's Content-MD5, which the service checks: a corrupted block is rejected.
        The blocks are also hashed in order into the whole blob's MD5, stored as its
        Content-MD5 at commit, which every read of the whole blob checks (a ranged download
        could not be verified otherwise).  At most ``max_concurrency`` blocks are in
        memory; ``release`` gets each block's data back once it is staged (or failed)."""
        blob = await self._open_blob(operation, bucket, name, timeout)

        async def begin() -> BlockUpload[X, B]:
            return BlockUpload(self, operation, blob, load, release, content_type, metadata, progress)

        return await upload_in_parts(
            items,
            begin,
            concurrency=self.max_concurrency,
            max_parts=MAX_BLOCKS,
            too_many=f"more than {MAX_BLOCKS} blocks: use a larger block_size",
        )

    async def _runner_open(self, operation: str, bucket: str, name: str, timeout: float | None) -> BlobClient:
        async def get() -> BlobClient:
            return await self._blob(bucket, name)

        return await self._call(operation, get, timeout=timeout)

    def _fail_in(self, operation: str) -> Callable[[Exception], Exception]:
        def convert(exc: Exception) -> Exception:
            if isinstance(exc, CloudError) and exc.operation is None:
                return self._fail(exc, operation)
            return exc

        return convert

    # -- reads -------------------------------------------------------------------------------

    async def _fetch(
        self,
        operation: str,
        blob: BlobClient,
        offset: int,
        length: int | None,
        *,
        etag: str | None,
        timeout: float | None,
        validate: bool = False,
    ) -> _Chunk:
        """One ranged GET through the runner.  ``etag`` pins later ranges to the version the
        first one saw (a change in between fails with ``PreconditionFailedError``).  An
        offset at or past the end gives an empty chunk (``total`` unknown: -1).  With
        ``validate`` (ranges of at most 4 MiB), the service sends the range's MD5 and the
        bytes are checked against it; an answer that holds the whole blob is checked against
        the blob's Content-MD5.  Either check failing is retried.  The body is taken as the
        SDK joined it: no copy."""

        async def get() -> _Chunk:
            from azure.core.exceptions import HttpResponseError  # loaded with the client
            from azure.storage.blob._deserialize import deserialize_blob_stream
            from azure.storage.blob._generated.models import ModifiedAccessConditions

            # The generated operation, not ``download_blob``: the latter retries a broken
            # body itself (3 tries, 1 s sleeps, invisible to our policy and stats) and then
            # hides the cause in a status-less HttpResponseError.
            byte_range = range_header(offset, length)
            direct = self._direct

            async def download(ranged: str | None, range_md5: bool, *, whole: bool) -> Any:
                # One Get Blob, direct where it applies; UNSATISFIABLE for a 416 to a range.
                if direct is not None:
                    stream = await get_blob(direct, blob, ranged, range_md5, etag, whole=whole)
                    if stream is not None:
                        return stream
                conditions = {"modified_access_conditions": ModifiedAccessConditions(if_match=etag)} if etag else {}
                try:
                    _, stream = await blob._client.blob.download(
                        range=ranged, range_get_content_md5=range_md5 or None, cls=deserialize_blob_stream, **conditions
                    )
                except HttpResponseError as exc:
                    if whole or exc.status_code != 416:
                        raise
                    return UNSATISFIABLE
                return stream

            stream = await download(byte_range, validate, whole=False)
            if stream is UNSATISFIABLE:
                if offset > 0:
                    return _Chunk(b"", -1, None, None)
                # A range on an empty blob is unsatisfiable: read it without one.
                stream = await download(None, False, whole=True)
            finished = False
            try:
                data = await read_body(stream)
                finished = True
            finally:
                if not finished:  # cancelled or broken: give the connection back now
                    close_response(stream)
            headers = stream.response.headers
            expected = headers.get("Content-Length")
            if expected is not None and expected.isdigit() and int(expected) != len(data):
                raise TransportError(f"the response ended after {len(data)} of {expected} bytes")
            sent_md5 = headers.get("Content-MD5") if validate else None
            if sent_md5 and base64.b64encode(await md5_of(data)).decode("ascii") != sent_md5:
                raise IntegrityError("a range read does not match the MD5 the service sent for it")
            whole_md5 = headers.get("x-ms-blob-content-md5") or (None if byte_range else headers.get("Content-MD5"))
            md5 = base64.b64decode(whole_md5) if whole_md5 else None
            props = stream.properties
            total = _total_size(props, offset, len(data))
            if md5 is not None and offset == 0 and len(data) == total and await md5_of(data) != md5:
                # The whole blob in one answer: checked here, so a corrupted one is retried.
                raise IntegrityError("the blob read does not match its Content-MD5 (corrupted in transit?)")
            return _Chunk(data, total, props.etag, md5)

        chunk = await self._call(operation, get, timeout=timeout)
        self.stats.add_received(len(chunk.data))
        return chunk

    async def _first_range(
        self,
        operation: str,
        blob: BlobClient,
        offset: int,
        length: int,
        *,
        etag: str | None,
        timeout: float | None,
        whole: bool,
    ) -> tuple[_Chunk, int]:
        """The first range of a read and the size of the ranges that follow it.

        A read of the whole blob is checked against the blob's Content-MD5 when it has one
        (ranges of ``block_size``).  Without one (a blob committed from blocks by another
        tool), or for part of a blob, every range is at most 4 MiB and checked against the
        MD5 the service computes for it; a first range read before that was known is read
        again that way."""
        checked = min(self.block_size, _MAX_RANGE_MD5)
        if whole:
            first = await self._fetch(operation, blob, offset, length, etag=etag, timeout=timeout)
            if first.md5 is not None or first.total < 0 or not first.data:
                return first, self.block_size
            etag = first.etag
        first = await self._fetch(
            operation, blob, offset, min(length, checked), etag=etag, timeout=timeout, validate=True
        )
        return first, checked

    async def stat(self, bucket: str, object_name: str, *, timeout: float | None = None) -> ObjectMetadata:
        """Describe one blob (``NotFoundError`` if missing)."""
        self._check(bucket, object_name)

        async def head() -> ObjectMetadata:
            blob = await self._blob(bucket, object_name)  # opens the service, and the direct requests
            direct = self._direct
            if direct is not None:
                meta = await head_blob(direct, bucket, object_name)
                if meta is not None:
                    return meta
            props = await blob.get_blob_properties()
            return self._meta(bucket, object_name, props)

        return await self._call("stat", head, timeout=timeout)

    async def _read_bytes(
        self,
        bucket: str,
        object_name: str,
        offset: int,
        length: int | None,
        *,
        version: str | None,
        timeout: float | None,
    ) -> bytes:
        """The primitive of :meth:`get_bytes`: the transfer engine's read in ranges (pinned
        to ``version`` when given, else to the first range's ETag); a whole blob is checked
        against its Content-MD5, anything else range by range against the MD5 the service
        sends for it."""
        op = "get_bytes"
        blob = await self._open_blob(op, bucket, object_name, timeout)
        pinned = f'"{version}"' if version else None
        return await read_in_ranges(
            lambda: RangedRead(
                self, blob, bucket, object_name, op, offset=offset, length=length, etag=pinned, timeout=timeout
            ),
            concurrency=self.max_concurrency,
            runner=self._runner,
            operation=op,
        )

    async def open_read(
        self,
        bucket: str,
        object_name: str,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        timeout: float | None = None,
    ) -> AsyncIterator[bytes]:
        """Stream the blob in chunks of at most ``chunk_size`` bytes: sequential ranged reads
        of at least 1 MiB, each retried on its own and pinned to the first one's ETag; the
        Content-MD5, when present, is checked at the end, otherwise every range is checked
        against the MD5 the service sends for it."""
        self._check(bucket, object_name)
        if chunk_size <= 0:
            raise ConfigurationError("chunk_size must be positive")
        window = max(chunk_size, min(self.block_size, DEFAULT_CHUNK_SIZE))
        op = "open_read"
        blob = await self._open_blob(op, bucket, object_name, timeout)
        first, step = await self._first_range(op, blob, 0, window, etag=None, timeout=timeout, whole=True)
        validate = first.md5 is None
        if validate:
            window = step
        offset = 0
        etag, expected, total = first.etag, first.md5, first.total
        if expected is not None and len(first.data) == total:
            expected = None  # the whole blob in one answer: ``_fetch`` has checked it already
        digest = hashlib.md5(usedforsecurity=False)
        pending: _Chunk | None = first
        while total >= 0 and (offset < total or pending is not None):
            chunk = pending or await self._fetch(
                op, blob, offset, window, etag=etag, timeout=timeout, validate=validate
            )
            pending = None
            if chunk.total < 0:
                break
            if not chunk.data:
                break
            offset += len(chunk.data)
            if expected is not None:
                digest.update(chunk.data)
            for i in range(0, len(chunk.data), chunk_size):
                yield chunk.data[i : i + chunk_size]
        if expected is not None and offset == total and digest.digest() != expected:
            raise self._fail(md5_mismatch(bucket, object_name), op)

    async def download_file(
        self,
        bucket: str,
        object_name: str,
        local_path: StrPath,
        *,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> bool:
        """Download the blob into ``local_path`` (the transfer engine's ranged download).

        A blob that fits in one range (``block_size``) takes one request, is checked against
        its Content-MD5 (when it has one) and written in one go.  A larger one is read in
        parallel ranges pinned to the first answer's ETag, each written at its offset as it
        arrives (at most ``max_concurrency`` ranges in memory) into a temp file renamed into
        place once complete and verified: the blob's Content-MD5, hashed over the ranges in
        order as they land, or, for a blob without one, each range of at most 4 MiB against
        the MD5 the service sends for it.  A whole-blob mismatch downloads it again."""
        self._check(bucket, object_name)
        blob = await self._open_blob("download_file", bucket, object_name, timeout)
        await download_in_ranges(
            local_path,
            lambda: RangedRead(self, blob, bucket, object_name, "download_file", timeout=timeout),
            concurrency=self.max_concurrency,
            progress=progress,
            runner=self._runner,
            operation="download_file",
        )
        return True

    # -- deletes and copies ------------------------------------------------------------------

    async def delete_object(self, bucket: str, object_name: str, *, timeout: float | None = None) -> None:
        """Delete a blob and its snapshots (a missing blob is not an error)."""
        self._check(bucket, object_name)

        async def delete() -> None:
            from azure.core.exceptions import ResourceNotFoundError  # loaded with the client

            blob = await self._blob(bucket, object_name)  # opens the service, and the direct requests
            direct = self._direct
            try:
                if direct is not None and await delete_blob(direct, bucket, object_name):
                    return
                await blob.delete_blob(delete_snapshots="include")
            except ResourceNotFoundError as exc:
                if error_code_of(exc) != "BlobNotFound":
                    raise

        await self._call("delete_object", delete, timeout=timeout)

    _delete_batch_size = _BATCH_SIZE

    def _delete_batches_in_flight(self) -> int:
        return 4

    async def _delete_batch(
        self, bucket: str, names: list[str], *, timeout: float | None
    ) -> tuple[list[CloudError], bool]:
        """One Blob Batch request; where the service does not support batches (Azurite),
        one request per blob."""
        if len(names) > 1 and self._batch_supported is not False:
            try:
                errors = await self._send_batch(bucket, names, timeout)
                self._batch_supported = True
                return errors, False
            except _BatchUnsupportedError:
                self._batch_supported = False
        return await super()._delete_batch(bucket, names, timeout=timeout)

    async def _send_batch(self, bucket: str, names: list[str], timeout: float | None) -> list[CloudError]:
        async def send() -> list[Any]:
            container = await self._container(bucket)
            parts = await container.delete_blobs(*names, delete_snapshots="include", raise_on_any_failure=False)
            return [part async for part in parts]

        try:
            parts = await self._call("delete_objects", send, timeout=timeout)
        except BadRequestError as exc:
            raise _BatchUnsupportedError from exc
        if len(parts) != len(names):
            # Azurite answers a batch it cannot parse with one 400 InvalidInput part.
            raise _BatchUnsupportedError
        errors: list[CloudError] = []
        for name, part in zip(names, parts, strict=True):
            status = int(part.status_code)
            code = part.headers.get("x-ms-error-code")
            if 200 <= status < 300 or (status == 404 and code == "BlobNotFound"):
                continue
            err = from_status(
                status, code, f"could not delete {name!r}", request_id=part.headers.get("x-ms-request-id")
            )
            errors.append(self._fail(err, "delete_objects"))
        return errors

    async def copy_object(
        self,
        source_bucket: str,
        source_name: str,
        dest_bucket: str,
        dest_name: str,
        *,
        timeout: float | None = None,
    ) -> None:
        """Copy a blob server-side (content type and metadata kept); waits for the copy to
        finish (``timeout`` bounds the whole wait)."""
        self._check(source_bucket, source_name)
        self._check(dest_bucket, dest_name)
        op = "copy_object"

        async def start() -> dict[str, Any]:
            source = await self._blob(source_bucket, source_name)
            target = await self._blob(dest_bucket, dest_name)
            return await target.start_copy_from_url(source.url)

        result = await self._call(op, start, timeout=timeout)
        status = str(result.get("copy_status") or "success")
        if status == "pending":
            status = await self._wait_for_copy(dest_bucket, dest_name, timeout)
        if status != "success":
            raise self._fail(ServerError(f"copy ended with status {status!r}", code="CopyFailed"), op)

    async def _wait_for_copy(self, bucket: str, name: str, timeout: float | None) -> str:
        async def head() -> BlobProperties:
            return await (await self._blob(bucket, name)).get_blob_properties()

        delay = 0.05
        try:
            with anyio.fail_after(timeout):
                while True:
                    await anyio.sleep(delay)
                    delay = min(delay * 2, 2.0)
                    props = await self._call("copy_object", head, timeout=timeout)
                    copy = props.copy
                    status = str(copy.status or "success") if copy is not None else "success"
                    if status != "pending":
                        return status
        except TimeoutError as exc:
            if isinstance(exc, CloudError):
                raise
            raise self._fail(RequestTimeoutError(f"the copy did not finish within {timeout}s"), "copy_object") from exc

    # -- listings ----------------------------------------------------------------------------

    def iter_objects(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        page_size: int | None = None,
        timeout: float | None = None,
    ) -> AsyncPaginator[ObjectMetadata]:
        """List blobs lazily in name order, one service page at a time (``page_size`` up to
        5,000, the service's default), following Azure's continuation markers; with
        ``delimiter``, common prefixes come as ``is_prefix=True`` entries."""
        check_container_name(bucket)
        check_prefix(prefix, delimiter)
        if delimiter == "":
            raise ConfigurationError("delimiter must not be empty")
        if page_size is not None and not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ConfigurationError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")

        async def fetch(token: str | None) -> Page[ObjectMetadata]:
            async def get() -> Page[ObjectMetadata]:
                container = await self._container(bucket)
                items, marker = await list_page(
                    container,
                    bucket,
                    prefix=prefix or None,
                    delimiter=delimiter,
                    page_size=page_size,
                    marker=token,
                    meta=self._meta,
                )
                if delimiter is not None:
                    items.sort(key=lambda m: m.name)  # the service puts prefixes before blobs
                return Page(items, marker)

            return await self._call("iter_objects", get, timeout=timeout)

        return AsyncPaginator(fetch)

    # -- URLs --------------------------------------------------------------------------------

    async def _sign_url(
        self, bucket: str, object_name: str, method: str, expires: int, *, timeout: float | None
    ) -> str:
        """A SAS URL, signed with the account key when there is one (connection string or
        key credential), else with a user delegation key obtained with the token
        credential; a SAS-only client raises ``ConfigurationError``."""
        permission = _method_permission(method)
        if self._account_key is None and not (self._default_credential or hasattr(self._sdk_credential, "get_token")):
            raise ConfigurationError(
                f"this client authenticates with a {self._auth}: signing needs an account key or a token credential"
            )
        from azure.storage.blob import generate_blob_sas  # loaded with the client

        now = datetime.now(timezone.utc)
        start, expiry = now - _SAS_CLOCK_SKEW, now + timedelta(seconds=expires)
        blob = await self._runner_open("sign_url", bucket, object_name, timeout)
        account = blob.account_name or self.account_name
        if not account:
            raise ConfigurationError("cannot tell the account name from the account URL")
        if self._account_key is not None:
            token = generate_blob_sas(
                account,
                bucket,
                object_name,
                account_key=self._account_key,
                permission=permission,
                expiry=expiry,
                start=start,
            )
        else:
            key = await self._delegation_key(now, expiry, timeout)
            token = generate_blob_sas(
                account,
                bucket,
                object_name,
                user_delegation_key=key,
                permission=permission,
                expiry=expiry,
                start=start,
            )
        base = blob.url.split("?", 1)[0]
        return f"{base}?{token}"

    async def _delegation_key(self, now: datetime, expiry: datetime, timeout: float | None) -> UserDelegationKey:
        """A user delegation key valid until at least ``expiry``: one is requested for at
        least an hour (at most 7 days) and reused for later URLs it covers."""
        cached = self._delegation
        if cached is not None and cached[0] <= now - _SAS_CLOCK_SKEW and cached[1] >= expiry:
            return cached[2]
        key_start = now - _SAS_CLOCK_SKEW
        key_expiry = min(max(expiry, now + timedelta(hours=1)), now + timedelta(seconds=MAX_SIGN_SECONDS))

        async def request() -> UserDelegationKey:
            return await (await self._svc()).get_user_delegation_key(key_start, key_expiry)

        key = await self._call("sign_url", request, timeout=timeout)
        self._delegation = (key_start, key_expiry, key)
        return key

    async def _open_range(
        self,
        bucket: str,
        object_name: str,
        offset: int,
        length: int | None,
        *,
        version: str | None = None,
        timeout: float | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        operation: str = "open",
    ) -> RangeStream:
        """The primitive of :meth:`open`: one GET, direct or with the generated operation,
        as :meth:`_fetch` (ranged unless the whole blob is read, pinned to the ETag
        ``version``), whose headers describe the blob; its body is streamed as it arrives
        (in pieces of at most ``chunk_size``), the whole blob checked against its
        Content-MD5 when it has one."""
        from azure.storage.blob._deserialize import deserialize_blob_stream  # loaded with the client
        from azure.storage.blob._generated.models import ModifiedAccessConditions

        blob = await self._open_blob(operation, bucket, object_name, timeout)
        byte_range = range_header(offset, length)
        conditions = {"modified_access_conditions": ModifiedAccessConditions(if_match=version)} if version else {}

        async def get() -> tuple[Any, ObjectMetadata]:
            direct = self._direct
            if direct is not None:
                # A 416 raises here, as the generated operation's does; None: the SDK's way.
                stream = await get_blob(direct, blob, byte_range, False, version, whole=True)
                if stream is not None:
                    done = False
                    try:  # the headers read as the SDK reads them (and fail where it fails)
                        meta = answer_metadata(bucket, object_name, stream.headers, 0)
                        done = True
                    finally:
                        if not done:
                            close_response(stream)
                    return stream, meta
            _, stream = await blob._client.blob.download(range=byte_range, cls=deserialize_blob_stream, **conditions)
            return stream, self._meta(bucket, object_name, stream.properties)

        stream, meta = await self._call(operation, get, timeout=timeout)
        headers = stream.response.headers
        announced = headers.get("Content-Length") or ""
        sent = int(announced) if announced.isdigit() else 0
        props = stream.properties
        whole_md5 = headers.get("x-ms-blob-content-md5") or headers.get("Content-MD5")
        expected = base64.b64decode(whole_md5) if whole_md5 and byte_range is None else None
        meta = ObjectMetadata(
            meta.name,
            meta.bucket,
            _total_size(props, offset, sent),
            meta.etag,
            meta.content_type,
            meta.last_modified,
            meta.metadata,
            meta.provider,
        )
        digest = hashlib.md5(usedforsecurity=False) if expected is not None else None

        def check() -> None:
            if digest is not None and digest.digest() != expected:
                raise self._fail(md5_mismatch(bucket, object_name), operation)

        async def read(_: int) -> bytes:
            return await read_some(stream)

        chunks = body_chunks(
            read,
            chunk_size=chunk_size,
            runner=self._runner,
            operation=operation,
            timeout=timeout,
            update=digest.update if digest is not None else None,
            verify=check,
            close=lambda: close_response(stream),
        )
        return RangeStream(meta, length=sent, version=props.etag, chunks=chunks, close=lambda: close_response(stream))


class _BatchUnsupportedError(Exception):
    """The service did not accept a blob batch."""


_AZURE = CloudProvider.AZURE


def _total_size(props: BlobProperties, offset: int, got: int) -> int:
    total = total_from_content_range(getattr(props, "content_range", None))
    return offset + got if total is None else total


def _md5_digest(view: memoryview) -> bytes:
    return hashlib.md5(view, usedforsecurity=False).digest()


async def _memory_blocks(data: bytes, block_size: int) -> AsyncIterator[bytes]:
    for offset in range(0, len(data), block_size):
        yield data[offset : offset + block_size]
