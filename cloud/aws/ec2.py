"""EC2Client: the compute contract on Amazon EC2 (aiobotocore ``ec2``)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from cloud.common.base import ComputeClient
from cloud.common.enums import CloudProvider, ResourceState, ResourceType
from cloud.common.exceptions import ConfigurationError, NotFoundError
from cloud.common.models import CloudCredentials, CloudResource, utc_datetime
from cloud.common.pagination import AsyncPaginator
from cloud.common.retry import RetryPolicy

from .service import AWSServiceClient, check_page_size

__all__ = ["EC2_STATES", "EC2Client"]

EC2_STATES: Mapping[str, ResourceState] = {
    "pending": ResourceState.PENDING,
    "running": ResourceState.RUNNING,
    "stopping": ResourceState.STOPPING,
    "stopped": ResourceState.STOPPED,
    "shutting-down": ResourceState.TERMINATED,
    "terminated": ResourceState.TERMINATED,
}
"""EC2 ``State.Name`` -> :class:`ResourceState`."""

_INSTANCE_ID = re.compile(r"i-[0-9a-f]{8,17}")


def check_instance_id(instance_id: object) -> str:
    """An EC2 instance id (``i-`` and 8 or 17 hex digits), or ``ConfigurationError``."""
    if not isinstance(instance_id, str) or not _INSTANCE_ID.fullmatch(instance_id):
        raise ConfigurationError(f"invalid EC2 instance id {str(instance_id)[:80]!r}: expected 'i-' and hex digits")
    return instance_id


class EC2Client(AWSServiceClient, ComputeClient):
    """The compute contract on Amazon EC2 (or an EC2-compatible endpoint such as moto).

    ``EC2Client(region="eu-west-1")`` uses the standard AWS credential chain;
    ``credentials=``, ``profile=`` and ``endpoint_url=`` work as on :class:`S3Client`.
    Instances are :class:`CloudResource` objects whose ``id`` is the instance id, ``name``
    its ``Name`` tag (else the id), ``tags`` its tags, ``state`` from ``State.Name``
    (``shutting-down`` counts as terminated) and ``region`` its availability zone's
    region.  Listings use ``DescribeInstances`` pages (EC2 accepts 5 to 1000 per page).
    One aiobotocore client is opened on the first call and closed by :meth:`aclose`.
    """

    provider: ClassVar[CloudProvider] = CloudProvider.AWS
    service: ClassVar[str] = "ec2"

    def __init__(
        self,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        credentials: CloudCredentials | None = None,
        profile: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
    ) -> None:
        super().__init__()
        self._configure(
            region=region,
            endpoint_url=endpoint_url,
            credentials=credentials,
            profile=profile,
            retry=retry,
            timeout=timeout,
        )

    def list_instances(
        self, *, page_size: int | None = None, timeout: float | None = None
    ) -> AsyncPaginator[CloudResource]:
        """List instances (terminated ones too, while EC2 still reports them) lazily, one
        ``DescribeInstances`` page at a time (``page_size`` is clamped to EC2's 5..1000)."""
        size = check_page_size(page_size, 5, 1000)
        params: dict[str, Any] = {} if size is None else {"MaxResults": size}
        return self._paginate(
            "list_instances",
            "describe_instances",
            params,
            token_in="NextToken",
            token_out="NextToken",
            items=lambda response: (self._resource(i) for i in _instances(response)),
            timeout=timeout,
        )

    async def get_instance(self, instance_id: str, *, timeout: float | None = None) -> CloudResource:
        """Describe one instance (``NotFoundError`` if EC2 does not know it)."""
        check_instance_id(instance_id)
        response = await self._request(
            "get_instance", "describe_instances", {"InstanceIds": [instance_id]}, timeout=timeout
        )
        for instance in _instances(response):
            return self._resource(instance)
        raise NotFoundError(f"instance {instance_id!r} not found", provider="aws", operation="get_instance")

    async def start_instance(self, instance_id: str, *, timeout: float | None = None) -> None:
        """``StartInstances`` for one instance (already running: nothing happens)."""
        check_instance_id(instance_id)
        await self._request("start_instance", "start_instances", {"InstanceIds": [instance_id]}, timeout=timeout)

    async def stop_instance(self, instance_id: str, *, timeout: float | None = None) -> None:
        """``StopInstances`` for one instance (already stopped: nothing happens)."""
        check_instance_id(instance_id)
        await self._request("stop_instance", "stop_instances", {"InstanceIds": [instance_id]}, timeout=timeout)

    def _resource(self, data: Mapping[str, Any]) -> CloudResource:
        tags = {str(t.get("Key")): str(t.get("Value", "")) for t in data.get("Tags") or ()}
        instance_id = str(data.get("InstanceId", ""))
        zone = str((data.get("Placement") or {}).get("AvailabilityZone") or "")
        region = re.sub(r"[a-z]$", "", zone) if zone else self.region
        name = (data.get("State") or {}).get("Name")
        return CloudResource(
            id=instance_id,
            name=tags.get("Name") or instance_id,
            provider=CloudProvider.AWS,
            resource_type=ResourceType.INSTANCE,
            region=region,
            tags=tags,
            raw=dict(data),
            state=EC2_STATES.get(str(name), ResourceState.UNKNOWN),
            created=utc_datetime(data.get("LaunchTime")),
        )


def _instances(response: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for reservation in response.get("Reservations") or ():
        yield from reservation.get("Instances") or ()
