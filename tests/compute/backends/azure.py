"""Azure on the loopback fake of :mod:`tests.compute.fakes.azure` (requests validated against
the management SDKs' request builders, answers built from their models), with an injected
token credential."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import pytest

from cloud.azure import AzureFunctionsClient, AzureVMClient, SyncAzureFunctionsClient, SyncAzureVMClient

from ..fakes.azure import SUBSCRIPTION, AzureFake, FakeCredential
from ..harness import ComputeHarness, ServerlessHarness


def compute(request: pytest.FixtureRequest) -> ComputeHarness:
    """AzureVMClient (the whole subscription) on the fake."""
    fake: AzureFake = request.getfixturevalue("azure_fake")

    async def create(n: int, tags: Mapping[str, str]) -> list[str]:
        return [fake.add_vm(f"rg-{i % 3}", f"vm-{uuid.uuid4().hex[:12]}", dict(tags)) for i in range(n)]

    async def terminate(instance_id: str) -> None:
        group, name = instance_id.split("/")
        with fake.lock:
            del fake.vms[(group, name)]

    return ComputeHarness(
        name="azure",
        async_class=AzureVMClient,
        sync_class=SyncAzureVMClient,
        kwargs={
            "subscription_id": SUBSCRIPTION,
            "base_url": fake.server.url,
            "credential": FakeCredential(),
            "polling_interval": 0.01,
        },
        create_instances=create,
        terminate=terminate,
        missing_id="rg-1/no-such-vm",
        bad_ids=["", "rg/../x", "rg/a/b", "../vm", "rg/-vm", "rg/vm?x=1", "rg/" + "v" * 65],
    )


def serverless(request: pytest.FixtureRequest) -> ServerlessHarness:
    """AzureFunctionsClient (every function app of the subscription) on the fake."""
    fake: AzureFake = request.getfixturevalue("azure_fake")

    async def create(names: list[str], tags: Mapping[str, str]) -> list[str]:
        return [fake.add_function(f"rg-{i % 2}", f"app-{i % 2}", n, dict(tags)) for i, n in enumerate(names)]

    async def fail_next(name: str) -> None:
        with fake.lock:
            fake.fail_next.add(name.rsplit("/", 1)[1])

    async def invocations(name: str) -> list[bytes]:
        with fake.lock:
            return list(fake.received.get(name.rsplit("/", 1)[1], []))

    return ServerlessHarness(
        name="azure",
        async_class=AzureFunctionsClient,
        sync_class=SyncAzureFunctionsClient,
        kwargs={"subscription_id": SUBSCRIPTION, "base_url": fake.server.url, "credential": FakeCredential()},
        create_functions=create,
        fail_next=fail_next,
        missing_name="rg-1/app-1/no-such-function",
        bad_names=["", "fn", "rg/app", "rg/app/../x", "rg/app/fn/extra", "rg/-app/fn"],
        async_invocation=False,  # Azure Functions has no asynchronous invocation of HTTP functions
        invocations=invocations,
    )
