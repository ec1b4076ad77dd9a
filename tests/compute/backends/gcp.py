"""GCP on the loopback fake of :mod:`tests.compute.fakes.gcp` (requests validated against the
discovery documents), authenticated through gcloud-aio-auth with a service-account key whose
``token_uri`` is the fake's."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import pytest

from cloud.gcp import CloudFunctionsClient, ComputeEngineClient, SyncCloudFunctionsClient, SyncComputeEngineClient

from ..fakes.gcp import PROJECT, ZONES, GoogleFake
from ..harness import ComputeHarness, ServerlessHarness


def _fake(request: pytest.FixtureRequest) -> tuple[GoogleFake, str]:
    fake, key_file = request.getfixturevalue("google_fake")
    return fake, key_file


def compute(request: pytest.FixtureRequest) -> ComputeHarness:
    """ComputeEngineClient (every zone, through aggregatedList) on the fake."""
    fake, key_file = _fake(request)

    async def create(n: int, tags: Mapping[str, str]) -> list[str]:
        return [fake.add_instance(ZONES[i % 2], f"vm-{uuid.uuid4().hex[:12]}", dict(tags)) for i in range(n)]

    async def terminate(instance_id: str) -> None:
        zone, name = instance_id.split("/")
        with fake.lock:
            del fake.instances[(zone, name)]

    return ComputeHarness(
        name="gcp",
        async_class=ComputeEngineClient,
        sync_class=SyncComputeEngineClient,
        kwargs={"project": PROJECT, "api_root": fake.server.url, "service_account_file": key_file},
        create_instances=create,
        terminate=terminate,
        missing_id="us-central1-a/no-such-vm",
        bad_ids=["", "vm-1", "us-central1-a/../x", "us-central1-a/UPPER", "zone/a/b", "us-central1-a/vm_1"],
    )


def serverless(request: pytest.FixtureRequest) -> ServerlessHarness:
    """CloudFunctionsClient (every location) on the fake; functions are HTTP-triggered."""
    fake, key_file = _fake(request)

    async def create(names: list[str], tags: Mapping[str, str]) -> list[str]:
        return [
            fake.add_function("us-central1" if i % 2 else "europe-west1", n, dict(tags)) for i, n in enumerate(names)
        ]

    async def fail_next(name: str) -> None:
        with fake.lock:
            fake.fail_next.add(name.rsplit("/", 1)[1])

    async def invocations(name: str) -> list[bytes]:
        with fake.lock:
            return list(fake.received.get(name.rsplit("/", 1)[1], []))

    return ServerlessHarness(
        name="gcp",
        async_class=CloudFunctionsClient,
        sync_class=SyncCloudFunctionsClient,
        kwargs={"project": PROJECT, "api_root": fake.server.url, "service_account_file": key_file},
        create_functions=create,
        fail_next=fail_next,
        missing_name="us-central1/no-such-function",
        bad_names=["", "a/b/c", "us-central1/../x", "us-central1/-bad", "us-central1/" + "x" * 64],
        async_invocation=False,  # HTTP functions have none; Pub/Sub-triggered ones: tests/compute/test_gcp.py
        invocations=invocations,
    )
