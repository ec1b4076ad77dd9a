"""ComputeEngineClient: the compute contract on Google Compute Engine (REST API v1, httpx,
gcloud-aio-auth tokens)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from cloud.common.base import ComputeClient
from cloud.common.enums import CloudProvider, ResourceState, ResourceType
from cloud.common.exceptions import APIError, ConfigurationError, error_class_for_status
from cloud.common.models import CloudCredentials, CloudResource, utc_datetime
from cloud.common.pagination import AsyncPaginator
from cloud.common.retry import RetryPolicy
from cloud.common.types import StrPath

from .rest import GoogleRESTClient
from .rest import translate as translate

if TYPE_CHECKING:
    import httpx

__all__ = ["GCE_STATES", "ComputeEngineClient"]

GCE_STATES: Mapping[str, ResourceState] = {
    "PROVISIONING": ResourceState.PENDING,
    "STAGING": ResourceState.PENDING,
    "PENDING": ResourceState.PENDING,
    "RUNNING": ResourceState.RUNNING,
    "REPAIRING": ResourceState.RUNNING,
    "PENDING_STOP": ResourceState.STOPPING,
    "STOPPING": ResourceState.STOPPING,
    "SUSPENDING": ResourceState.STOPPING,
    "SUSPENDED": ResourceState.SUSPENDED,
    # Compute Engine's TERMINATED is a stopped instance (it can be started again).
    "TERMINATED": ResourceState.STOPPED,
    "STOPPED": ResourceState.STOPPED,
    "DEPROVISIONING": ResourceState.TERMINATED,
}
"""Compute Engine ``Instance.status`` -> :class:`ResourceState`."""

_ZONE = re.compile(r"[a-z]+(?:-[a-z0-9]+)+-[a-z]")
_NAME = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
_OPERATION = re.compile(r"[A-Za-z0-9_-]{1,128}")
_MAX_PAGE = 500
_WAIT_ROUNDS = 100


class ComputeEngineClient(GoogleRESTClient, ComputeClient):
    """The compute contract on Google Compute Engine.

    ``ComputeEngineClient(project="my-project")`` uses Application Default Credentials;
    ``service_account_file=`` a key file; ``credentials=CloudCredentials(token=...)`` a
    bearer token as it is; ``api_root=`` another endpoint (default
    ``https://compute.googleapis.com``); ``transport=`` an httpx transport.  Instance ids
    are ``zone/name`` (``us-central1-a/web-1``), or just ``name`` when ``zone=`` is given
    (listings then cover that zone only; otherwise every zone through
    ``aggregatedList``).  ``tags`` are the instance's labels.  Start and stop wait for
    their zone operation to finish (``zoneOperations.wait``) and raise its error; they
    carry a ``requestId``, so a retried request is not applied twice.
    """

    provider: ClassVar[CloudProvider] = CloudProvider.GCP
    default_api_root: ClassVar[str] = "https://compute.googleapis.com"

    def __init__(
        self,
        *,
        project: str | None = None,
        zone: str | None = None,
        service_account_file: StrPath | None = None,
        credentials: CloudCredentials | None = None,
        api_root: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__()
        if zone is not None and (not isinstance(zone, str) or not _ZONE.fullmatch(zone)):
            raise ConfigurationError(f"invalid zone {str(zone)[:80]!r}: use a zone such as 'us-central1-a'")
        self.zone = zone
        self._configure(
            project=project,
            service_account_file=service_account_file,
            credentials=credentials,
            api_root=api_root,
            retry=retry,
            timeout=timeout,
            transport=transport,
        )

    def _split(self, instance_id: object) -> tuple[str, str]:
        if not isinstance(instance_id, str):
            raise ConfigurationError("instance_id must be a string 'zone/name'")
        zone, sep, name = instance_id.rpartition("/")
        if not sep:
            zone = self.zone or ""
        if not _ZONE.fullmatch(zone) or not _NAME.fullmatch(name):
            raise ConfigurationError(
                f"invalid Compute Engine instance id {instance_id[:80]!r}: use 'zone/name' (or a name with zone=)"
            )
        return zone, name

    async def _base(self) -> str:
        return f"{self.api_root}/compute/v1/projects/{quote(await self._project(), safe='')}"

    def list_instances(
        self, *, page_size: int | None = None, timeout: float | None = None
    ) -> AsyncPaginator[CloudResource]:
        """List instances lazily (``maxResults`` pages of at most 500), of ``zone`` when the
        client has one, else of every zone."""
        if page_size is not None and (isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1):
            raise ConfigurationError("page_size must be a positive integer")
        params: dict[str, str | int] = {}
        if page_size is not None:
            params["maxResults"] = min(page_size, _MAX_PAGE)
        zone = self.zone

        async def url() -> str:
            base = await self._base()
            return f"{base}/zones/{zone}/instances" if zone else f"{base}/aggregated/instances"

        return self._paginate(
            "list_instances",
            url,
            params,
            items=lambda answer: (self._resource(i) for i in _instances(answer)),
            timeout=timeout,
        )

    async def get_instance(self, instance_id: str, *, timeout: float | None = None) -> CloudResource:
        """Describe one instance (``NotFoundError`` if missing)."""
        zone, name = self._split(instance_id)
        url = f"{await self._base()}/zones/{zone}/instances/{name}"
        return self._resource(await self._send("get_instance", "GET", url, timeout=timeout))

    async def start_instance(self, instance_id: str, *, timeout: float | None = None) -> None:
        """``instances.start`` and wait for its operation (the instance is then running or
        starting)."""
        await self._act("start_instance", instance_id, "start", timeout=timeout)

    async def stop_instance(self, instance_id: str, *, timeout: float | None = None) -> None:
        """``instances.stop`` and wait for its operation."""
        await self._act("stop_instance", instance_id, "stop", timeout=timeout)

    async def _act(self, operation: str, instance_id: str, verb: str, *, timeout: float | None) -> None:
        zone, name = self._split(instance_id)
        base = await self._base()
        params = {"requestId": str(uuid.uuid4())}  # makes the POST safe to retry
        op = await self._send(
            operation, "POST", f"{base}/zones/{zone}/instances/{name}/{verb}", params=params, timeout=timeout
        )
        for _ in range(_WAIT_ROUNDS):
            if op.get("status") == "DONE":
                break
            op_name = str(op.get("name") or "")
            if not _OPERATION.fullmatch(op_name):
                raise APIError(
                    f"Compute Engine answered with an unusable operation name {op_name[:80]!r}",
                    provider="gcp",
                    operation=operation,
                )
            # wait answers when the operation is done or after about two minutes
            op = await self._send(operation, "POST", f"{base}/zones/{zone}/operations/{op_name}/wait", timeout=timeout)
        _raise_operation_error(op, operation)

    def _resource(self, data: Mapping[str, Any]) -> CloudResource:
        zone = str(data.get("zone") or "").rsplit("/", 1)[-1]
        name = str(data.get("name") or "")
        labels = data.get("labels") or {}
        return CloudResource(
            id=f"{zone}/{name}",
            name=name,
            provider=CloudProvider.GCP,
            resource_type=ResourceType.INSTANCE,
            region=zone.rsplit("-", 1)[0] if zone else None,
            tags={str(k): str(v) for k, v in labels.items()},
            raw=dict(data),
            state=GCE_STATES.get(str(data.get("status")), ResourceState.UNKNOWN),
            created=_timestamp(data.get("creationTimestamp")),
        )


def _instances(answer: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    items = answer.get("items")
    if isinstance(items, list):  # zones/{zone}/instances
        yield from items
    elif isinstance(items, dict):  # aggregated/instances: {"zones/x": {"instances": [...]}}
        for scope in items.values():
            yield from (scope or {}).get("instances") or ()


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return utc_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _raise_operation_error(op: Mapping[str, Any], operation: str) -> None:
    if op.get("status") != "DONE":
        raise APIError(
            "the Compute Engine operation did not finish", code="OperationNotDone", provider="gcp", operation=operation
        )
    errors = (op.get("error") or {}).get("errors") or []
    if not errors:
        return
    first = errors[0] if isinstance(errors[0], dict) else {}
    status = op.get("httpErrorStatusCode")
    cls = error_class_for_status(status) if isinstance(status, int) else APIError
    raise cls(
        f"Compute Engine operation failed: {first.get('code')}: {first.get('message')}",
        status_code=status if isinstance(status, int) else None,
        code=str(first.get("code")) if first.get("code") else None,
        provider="gcp",
        operation=operation,
    )
