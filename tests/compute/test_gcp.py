"""Compute Engine and Cloud Functions specifics, on the discovery-validated fake."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from cloud.common.enums import ResourceState
from cloud.common.exceptions import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    RequestTimeoutError,
    ServerError,
)
from cloud.common.models import CloudCredentials
from cloud.common.retry import RetryPolicy
from cloud.gcp import CloudFunctionsClient, ComputeEngineClient

from .fakes.gcp import PROJECT, TOKEN, GoogleFake


async def _no_sleep(_: float) -> None:
    return None


FAST_RETRY = RetryPolicy(max_attempts=4, sleep=_no_sleep)


@pytest.fixture
def fake(google_fake: tuple[GoogleFake, str]) -> GoogleFake:
    return google_fake[0]


async def test_zone_scoped_client_lists_one_zone_and_takes_plain_names(fake: GoogleFake) -> None:
    fake.add_instance("us-east1-c", "solo", {"scope": "zone"}, status="TERMINATED")
    async with ComputeEngineClient(
        project=PROJECT, zone="us-east1-c", api_root=fake.server.url, credentials=CloudCredentials(token=TOKEN)
    ) as gce:
        listed = await gce.list_instances(page_size=1).collect()
        assert [r.id for r in listed] == ["us-east1-c/solo"]
        found = await gce.get_instance("solo")
        assert found.state is ResourceState.STOPPED  # Compute Engine's TERMINATED is "stopped"
        assert found.region == "us-east1" and found.created is not None
        await gce.start_instance("solo")
        assert (await gce.get_instance("solo")).state is ResourceState.RUNNING
    methods = {r.raw_path.rsplit("/", 2)[-1] for r in fake.server.requests}
    assert "wait" in methods  # the start operation was waited for


async def test_wrong_token_is_authentication_error_and_wrong_project_not_found(fake: GoogleFake) -> None:
    async with ComputeEngineClient(
        project=PROJECT, api_root=fake.server.url, credentials=CloudCredentials(token="wrong-token-123")
    ) as gce:
        with pytest.raises(AuthenticationError) as info:
            await gce.get_instance("us-central1-a/vm")
        assert "wrong-token-123" not in repr(info.value.__dict__)
    async with ComputeEngineClient(
        project="other-project", api_root=fake.server.url, credentials=CloudCredentials(token=TOKEN)
    ) as gce:
        with pytest.raises(NotFoundError):
            await gce.get_instance("us-central1-a/vm")
    async with CloudFunctionsClient(
        project="other-project", api_root=fake.server.url, credentials=CloudCredentials(token=TOKEN)
    ) as gcf:
        with pytest.raises(PermissionDeniedError) as denied:
            await gcf.list_functions().collect()
        assert denied.value.code == "PERMISSION_DENIED"


async def test_wait_false_publishes_to_the_trigger_topic(google_fake: tuple[GoogleFake, str]) -> None:
    fake, key_file = google_fake
    fn = fake.add_function("us-central1", "on-message", {"kind": "event"}, topic="ants-topic")
    async with CloudFunctionsClient(project=PROJECT, api_root=fake.server.url, service_account_file=key_file) as gcf:
        assert await gcf.invoke_function(fn, {"queued": 1}, wait=False) == b""
        assert fake.received["on-message"] == [b'{"queued":1}']
        with pytest.raises(ConfigurationError):
            await gcf.invoke_function(fn, {"sync": 1})  # no HTTPS URL: event-triggered


async def test_the_fake_rejects_requests_outside_the_discovery_document() -> None:
    fake = GoogleFake()
    try:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(base_url=fake.server.url, headers=headers) as http:
            bad: list[tuple[str, str, dict[str, Any]]] = [
                ("GET", f"/compute/v1/projects/{PROJECT}/aggregated/instances", {"returnPartialSuccess": "yes"}),
                ("GET", f"/compute/v1/projects/{PROJECT}/aggregated/instances", {"maxResults": "ten"}),
                ("POST", f"/compute/v1/projects/{PROJECT}/zones/z/instances/vm/reboot", {}),
                ("GET", f"/v2/projects/{PROJECT}/locations/us-central1/functions", {"pageSize": "1", "bogus": "1"}),
            ]
            for method, path, params in bad:
                answer = await http.request(method, path, params=params)
                assert answer.status_code == 400 and "FAKE REJECTED" in answer.text, (path, answer.text)
        assert len(fake.server.rejections) == len(bad)
    finally:
        fake.server.stop()


def test_bad_construction_is_configuration_error() -> None:
    for kwargs in ({"zone": "Moon-1"}, {"api_root": "ftp://x"}, {"project": "a/b"}, {"timeout": 0}):
        with pytest.raises(ConfigurationError):
            ComputeEngineClient(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        CloudFunctionsClient(location="../x")


async def test_one_retry_policy_and_one_deadline(google_fake: tuple[GoogleFake, str]) -> None:
    fake, key_file = google_fake
    fake.add_instance("europe-west1-b", "retried", {})
    async with ComputeEngineClient(
        project=PROJECT, api_root=fake.server.url, service_account_file=key_file, retry=FAST_RETRY
    ) as gce:
        fake.faults[:] = [503, 429]
        assert (await gce.get_instance("europe-west1-b/retried")).name == "retried"
        assert (
            gce.stats.retries == 2 and gce.stats.errors["ServerError"] == 1 and gce.stats.errors["RateLimitError"] == 1
        )
        fake.delay = 0.3
        try:
            started = anyio.current_time()
            with pytest.raises(RequestTimeoutError):
                await gce.get_instance("europe-west1-b/retried", timeout=0.1)
            assert anyio.current_time() - started < 0.3
        finally:
            fake.delay = 0.0
        fake.faults[:] = [403]
        with pytest.raises(PermissionDeniedError):  # not retryable: one attempt
            await gce.start_instance("europe-west1-b/retried")
        assert gce.stats.retries == 2


async def test_a_failed_zone_operation_is_a_typed_error(google_fake: tuple[GoogleFake, str]) -> None:
    fake, key_file = google_fake
    instance = fake.add_instance("us-central1-a", "no-capacity", {}, status="TERMINATED")
    fake.failing_operations.add("no-capacity")
    async with ComputeEngineClient(project=PROJECT, api_root=fake.server.url, service_account_file=key_file) as gce:
        with pytest.raises(ServerError) as info:
            await gce.start_instance(instance)
        assert info.value.code == "ZONE_RESOURCE_POOL_EXHAUSTED" and info.value.status_code == 503
        assert info.value.provider == "gcp" and info.value.operation == "start_instance"
        assert (await gce.get_instance(instance)).state is ResourceState.STOPPED
