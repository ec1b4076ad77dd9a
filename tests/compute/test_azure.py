"""Azure VM and Functions specifics, on the fake validated against the management SDKs."""

from __future__ import annotations

import sys

import httpx
import pytest

from cloud.azure import AzureFunctionsClient, AzureVMClient
from cloud.common.enums import ResourceState
from cloud.common.exceptions import (
    AuthenticationError,
    ConfigurationError,
    FunctionError,
    MissingDependencyError,
    NotFoundError,
    ServerError,
)
from cloud.common.retry import RetryPolicy

from .fakes.azure import FUNCTION_KEY, SUBSCRIPTION, AzureFake, FakeCredential


async def _no_sleep(_: float) -> None:
    return None


def _vms(fake: AzureFake, **kwargs: object) -> AzureVMClient:
    options = {"subscription_id": SUBSCRIPTION, "base_url": fake.server.url, "credential": FakeCredential()}
    options.update(kwargs)
    return AzureVMClient(polling_interval=0.01, **options)  # type: ignore[arg-type]


async def test_resource_group_scope_plain_names_and_arm_ids(azure_fake: AzureFake) -> None:
    azure_fake.add_vm("rg-solo", "only-vm", {"env": "test"}, power="deallocated")
    async with _vms(azure_fake, resource_group="rg-solo") as vms:
        listed = await vms.list_instances().collect()
        assert [r.id for r in listed] == ["rg-solo/only-vm"]
        assert listed[0].state is ResourceState.STOPPED and listed[0].region == "westeurope"
        arm_id = (
            f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-solo/providers/Microsoft.Compute/virtualMachines/only-vm"
        )
        assert (await vms.get_instance(arm_id)).id == "rg-solo/only-vm"
        await vms.start_instance("only-vm")
        assert (await vms.get_instance("only-vm")).state is ResourceState.RUNNING
        with pytest.raises(NotFoundError) as info:
            await vms.get_instance("missing-vm")
        assert info.value.code == "ResourceNotFound" and info.value.status_code == 404


async def test_a_rejected_token_is_authentication_error(azure_fake: AzureFake) -> None:
    async with _vms(azure_fake, credential=FakeCredential("stale-token-XYZ")) as vms:
        with pytest.raises(AuthenticationError) as info:
            await vms.get_instance("rg-1/vm")
        assert "stale-token-XYZ" not in str(info.value)


async def test_function_app_scope_and_the_key_stays_secret(azure_fake: AzureFake) -> None:
    fn = azure_fake.add_function("rg-apps", "app-solo", "hello", {"team": "ants"})
    async with AzureFunctionsClient(
        subscription_id=SUBSCRIPTION,
        resource_group="rg-apps",
        function_app="app-solo",
        base_url=azure_fake.server.url,
        credential=FakeCredential(),
    ) as functions:
        assert [f.id async for f in functions.list_functions(page_size=1)] == [fn]
        assert await functions.invoke_function("hello", b'"hi"') == b'"hi"'
        azure_fake.fail_next.add("hello")
        with pytest.raises(FunctionError) as info:
            await functions.invoke_function("hello", b"{}")
        assert info.value.payload.startswith(b"Exception while executing function")
        assert FUNCTION_KEY not in str(info.value) and FUNCTION_KEY not in repr(info.value.__dict__)
        with pytest.raises(ConfigurationError):
            await functions.invoke_function("hello", b"{}", wait=False)


async def test_the_fake_rejects_what_the_sdk_would_not_send(azure_fake: AzureFake) -> None:
    base = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Compute/virtualMachines"
    before = len(azure_fake.server.rejections)
    async with httpx.AsyncClient(
        base_url=azure_fake.server.url, headers={"Authorization": "Bearer fake-arm-token"}
    ) as http:
        for params in ({"api-version": "2019-01-01", "statusOnly": "true"}, {"api-version": "2026-04-01", "top": "5"}):
            answer = await http.get(base, params=params)
            assert answer.status_code == 400 and "FAKE REJECTED" in answer.text
        answer = await http.post(
            f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/explode"
        )
        assert answer.status_code == 400
    assert len(azure_fake.server.rejections) == before + 3
    del azure_fake.server.rejections[before:]  # expected: keep the session check clean


async def test_missing_management_sdk_names_the_extra(azure_fake: AzureFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "azure.mgmt.compute.aio", None)
    async with _vms(azure_fake) as vms:
        with pytest.raises(MissingDependencyError) as info:
            await vms.get_instance("rg-1/vm")
    assert "azure-compute" in str(info.value)


def test_bad_construction_is_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    with pytest.raises(ConfigurationError):
        AzureVMClient()
    for kwargs in (
        {"subscription_id": "not-a-guid"},
        {"subscription_id": SUBSCRIPTION, "base_url": "ftp://x"},
        {"subscription_id": SUBSCRIPTION, "resource_group": "../x"},
        {"subscription_id": SUBSCRIPTION, "credential": "a-string"},
    ):
        with pytest.raises(ConfigurationError):
            AzureVMClient(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        AzureFunctionsClient(subscription_id=SUBSCRIPTION, function_app="app")  # needs resource_group


async def test_a_failed_long_running_operation_is_a_typed_error(azure_fake: AzureFake) -> None:
    instance = azure_fake.add_vm("rg-lro", "no-capacity", {}, power="deallocated")
    azure_fake.failing_operations["no-capacity"] = 2
    async with _vms(azure_fake, retry=RetryPolicy(max_attempts=2, sleep=_no_sleep)) as vms:
        with pytest.raises(ServerError) as info:  # capacity: a retryable server error, retried once
            await vms.start_instance(instance)
        assert info.value.provider == "azure" and info.value.operation == "start_instance"
        assert info.value.code == "AllocationFailed" and "sufficient capacity" in str(info.value)
        assert vms.stats.retries == 1
        assert (await vms.get_instance(instance)).state is ResourceState.STOPPED
        azure_fake.failing_operations["no-capacity"] = 1
        await vms.start_instance(instance)  # fails once, then the retry starts it
        assert vms.stats.retries == 2
        assert (await vms.get_instance(instance)).state is ResourceState.RUNNING
