"""AzureVMClient: the compute contract on Azure Virtual Machines (``azure-mgmt-compute``
async, ``azure-identity``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from cloud.common.base import ComputeClient
from cloud.common.enums import CloudProvider, ResourceState, ResourceType
from cloud.common.exceptions import ConfigurationError
from cloud.common.models import CloudResource, utc_datetime
from cloud.common.pagination import AsyncPaginator
from cloud.common.retry import RetryPolicy

from .arm import ARMClient, as_mapping, check_name, check_resource_group

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

__all__ = ["POWER_STATES", "AzureVMClient"]

POWER_STATES: Mapping[str, ResourceState] = {
    "starting": ResourceState.PENDING,
    "running": ResourceState.RUNNING,
    "stopping": ResourceState.STOPPING,
    "deallocating": ResourceState.STOPPING,
    "stopped": ResourceState.STOPPED,
    "deallocated": ResourceState.STOPPED,
    "hibernated": ResourceState.SUSPENDED,
}
"""Azure ``PowerState/<state>`` codes -> :class:`ResourceState`."""

_ARM_ID = re.compile(
    r"/subscriptions/[^/]+/resourceGroups/(?P<group>[^/]+)/providers/Microsoft\.Compute/virtualMachines/(?P<name>[^/]+)",
    re.IGNORECASE,
)


class AzureVMClient(ARMClient, ComputeClient):
    """The compute contract on Azure Virtual Machines.

    ``AzureVMClient(subscription_id=...)`` uses ``DefaultAzureCredential``;
    ``credential=`` any async token credential; ``base_url=`` another Resource Manager
    endpoint; ``resource_group=`` limits listings to one group (else the whole
    subscription, with power states: ``statusOnly=true``).  Instance ids are
    ``resource-group/vm-name`` (full ARM ids are accepted too).  ``tags`` are the VM's tags,
    ``state`` its ``PowerState`` (``deallocated`` and ``stopped`` are both stopped).
    :meth:`stop_instance` deallocates (stops billing for compute, as ``az vm deallocate``);
    start and stop wait for their long-running operation, polled every ``Retry-After``
    seconds, else every ``polling_interval`` (the SDK's default, 30 s, when not given).  Needs the ``azure-compute``
    extra.
    """

    provider: ClassVar[CloudProvider] = CloudProvider.AZURE
    _sdk_modules: ClassVar[tuple[str, ...]] = ("azure.mgmt.compute.aio",)

    def __init__(
        self,
        *,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        credential: AsyncTokenCredential | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        polling_interval: float | None = None,
    ) -> None:
        super().__init__()
        self.resource_group = check_resource_group(resource_group) if resource_group is not None else None
        self._configure(
            subscription_id=subscription_id,
            credential=credential,
            base_url=base_url,
            retry=retry,
            timeout=timeout,
            polling_interval=polling_interval,
        )

    def _create_sdk(self, credential: Any) -> Any:
        from azure.mgmt.compute.aio import ComputeManagementClient

        return ComputeManagementClient(credential, self.subscription_id, **self._sdk_options())

    def _split(self, instance_id: object) -> tuple[str, str]:
        if not isinstance(instance_id, str):
            raise ConfigurationError("instance_id must be 'resource-group/vm-name'")
        arm = _ARM_ID.fullmatch(instance_id)
        if arm is not None:
            group, name = arm["group"], arm["name"]
        else:
            group, sep, name = instance_id.partition("/")
            if not sep:
                group, name = self.resource_group or "", instance_id
        try:
            return check_resource_group(group), check_name(name, "VM")
        except ConfigurationError:
            raise ConfigurationError(
                f"invalid Azure VM id {instance_id[:100]!r}: use 'resource-group/vm-name' or an ARM id"
            ) from None

    def list_instances(
        self, *, page_size: int | None = None, timeout: float | None = None
    ) -> AsyncPaginator[CloudResource]:
        """List VMs lazily with their power states, one ARM page at a time (split to
        ``page_size``)."""
        group, options = self.resource_group, self._call_options

        def pager(sdk: Any) -> Any:
            if group is not None:
                return sdk.virtual_machines.list(group, expand="instanceView", **options)
            return sdk.virtual_machines.list_all(status_only="true", **options)

        return self._pages("list_instances", pager, self._resource, page_size=page_size, timeout=timeout)

    async def get_instance(self, instance_id: str, *, timeout: float | None = None) -> CloudResource:
        """Describe one VM with its power state (``NotFoundError`` if missing)."""
        group, name = self._split(instance_id)
        vm = await self._call(
            "get_instance",
            lambda sdk: sdk.virtual_machines.get(group, name, expand="instanceView", **self._call_options),
            timeout=timeout,
        )
        return self._resource(vm)

    async def start_instance(self, instance_id: str, *, timeout: float | None = None) -> None:
        """Start the VM and wait for the operation."""
        group, name = self._split(instance_id)

        async def start(sdk: Any) -> None:
            poller = await sdk.virtual_machines.begin_start(group, name, **self._call_options)
            await poller.result()

        await self._call("start_instance", start, timeout=timeout)

    async def stop_instance(self, instance_id: str, *, timeout: float | None = None) -> None:
        """Deallocate the VM (stopped, compute no longer billed) and wait for the operation."""
        group, name = self._split(instance_id)

        async def stop(sdk: Any) -> None:
            poller = await sdk.virtual_machines.begin_deallocate(group, name, **self._call_options)
            await poller.result()

        await self._call("stop_instance", stop, timeout=timeout)

    def _resource(self, vm: Any) -> CloudResource:
        raw = as_mapping(vm)
        arm_id = str(raw.get("id") or "")
        found = _ARM_ID.fullmatch(arm_id)
        name = str(raw.get("name") or (found["name"] if found else ""))
        group = found["group"] if found else (self.resource_group or "")
        properties = raw.get("properties") or {}
        statuses = (properties.get("instanceView") or {}).get("statuses") or []
        state: ResourceState | None = ResourceState.UNKNOWN
        for status in statuses:
            code = str(status.get("code") or "")
            if code.startswith("PowerState/"):
                state = POWER_STATES.get(code.split("/", 1)[1], ResourceState.UNKNOWN)
            elif code.startswith("ProvisioningState/deleting"):
                state = ResourceState.TERMINATED
                break
        return CloudResource(
            id=f"{group}/{name}",
            name=name,
            provider=CloudProvider.AZURE,
            resource_type=ResourceType.INSTANCE,
            region=raw.get("location"),
            tags={str(k): str(v) for k, v in (raw.get("tags") or {}).items()},
            raw=raw,
            state=state,
            created=utc_datetime(getattr(getattr(vm, "properties", None), "time_created", None)),
        )
