"""The ComputeClient contract: the same cases, unchanged, on every backend."""

from __future__ import annotations

import anyio
import pytest

from cloud.common.base import ComputeClient
from cloud.common.enums import ResourceState, ResourceType
from cloud.common.exceptions import ConfigurationError, ConflictError, NotFoundError, RequestTimeoutError
from cloud.common.models import CloudResource

from .conftest import FLEET_SIZE, FLEET_TAGS
from .harness import ComputeHarness


async def test_list_pages_across_many_instances(compute: ComputeClient, fleet: list[str]) -> None:
    pages = [page async for page in compute.list_instances(page_size=10).pages()]
    assert len(pages) >= FLEET_SIZE // 10
    assert all(len(page.items) <= 10 for page in pages)
    listed = [r for page in pages for r in page.items]
    by_id = {r.id: r for r in listed}
    assert len(by_id) == len(listed)  # no instance twice across pages
    assert set(fleet) <= set(by_id)
    for instance_id in fleet:
        found = by_id[instance_id]
        assert isinstance(found, CloudResource)
        assert found.resource_type is ResourceType.INSTANCE
        assert found.provider is compute.provider
        assert dict(found.tags).items() >= FLEET_TAGS.items()
        assert isinstance(found.state, ResourceState)


async def test_collect_with_limit_fetches_lazily(compute: ComputeClient, fleet: list[str]) -> None:
    before = compute.stats.requests
    first = await compute.list_instances(page_size=10).collect(limit=3)
    assert len(first) == 3
    assert compute.stats.requests - before == 1  # one page was enough


async def test_get_instance_describes_it(compute: ComputeClient, fleet: list[str]) -> None:
    found = await compute.get_instance(fleet[0])
    assert found.id == fleet[0]
    assert found.state is ResourceState.RUNNING
    assert found.resource_type is ResourceType.INSTANCE
    assert dict(found.tags).items() >= FLEET_TAGS.items()
    assert found.name and found.region
    assert found.raw


async def test_stop_wait_start_wait(compute: ComputeClient, instance: str) -> None:
    await compute.stop_instance(instance, timeout=30)
    stopped = await compute.wait_for_state(instance, ResourceState.STOPPED, poll_interval=0.05, timeout=30)
    assert stopped.state is ResourceState.STOPPED and stopped.id == instance
    await compute.start_instance(instance, timeout=30)
    running = await compute.wait_for_state(instance, "running", poll_interval=0.05, timeout=30)
    assert running.state is ResourceState.RUNNING


async def test_wait_for_state_has_a_deadline(compute: ComputeClient, instance: str) -> None:
    started = anyio.current_time()
    with pytest.raises(RequestTimeoutError):
        await compute.wait_for_state(instance, ResourceState.STOPPED, poll_interval=0.05, timeout=0.5)
    assert anyio.current_time() - started < 5
    assert compute.stats.errors["RequestTimeoutError"] >= 1


async def test_waiting_on_a_terminated_instance_fails_at_once(
    compute: ComputeClient, compute_harness: ComputeHarness, instance: str
) -> None:
    await compute_harness.terminate(instance)
    with pytest.raises((ConflictError, NotFoundError)):
        await compute.wait_for_state(instance, ResourceState.RUNNING, poll_interval=0.05, timeout=30)


async def test_missing_instance_is_not_found(compute: ComputeClient, compute_harness: ComputeHarness) -> None:
    for call in (compute.get_instance, compute.start_instance, compute.stop_instance):
        with pytest.raises(NotFoundError) as info:
            await call(compute_harness.missing_id)
        assert info.value.provider == compute.provider.value


async def test_bad_ids_and_arguments_fail_before_io(compute: ComputeClient, compute_harness: ComputeHarness) -> None:
    for bad in compute_harness.bad_ids:
        for call in (compute.get_instance, compute.start_instance, compute.stop_instance):
            with pytest.raises(ConfigurationError):
                await call(bad)
    with pytest.raises(ConfigurationError):
        await compute.wait_for_state(compute_harness.missing_id, "sleeping")
    with pytest.raises(ConfigurationError):
        await compute.wait_for_state(compute_harness.missing_id, ResourceState.RUNNING, poll_interval=0)
    with pytest.raises(ConfigurationError):
        compute.list_instances(page_size=0)
    with pytest.raises(ConfigurationError):
        await compute.get_instance(compute_harness.missing_id, timeout=-1)
    assert compute.stats.requests == 0


def test_sync_facade(compute_harness: ComputeHarness) -> None:
    with compute_harness.sync_class(**compute_harness.kwargs) as client:
        listed = list(client.list_instances(page_size=10))
        assert all(isinstance(r, CloudResource) for r in listed)
        if listed:
            assert client.get_instance(listed[0].id).id == listed[0].id
        with pytest.raises(NotFoundError):
            client.get_instance(compute_harness.missing_id)
