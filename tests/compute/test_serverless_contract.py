"""The ServerlessClient contract: the same cases, unchanged, on every backend."""

from __future__ import annotations

import json

import anyio
import pytest

from cloud.common.base import ServerlessClient
from cloud.common.enums import ResourceState, ResourceType
from cloud.common.exceptions import ConfigurationError, FunctionError, NotFoundError

from .conftest import FUNCTION_TAGS
from .harness import ServerlessHarness


async def test_list_functions_every_page(serverless: ServerlessClient, functions: list[str]) -> None:
    listed = [r async for r in serverless.list_functions(page_size=1)]
    ids = [r.id for r in listed]
    assert len(ids) == len(set(ids))
    assert set(functions) <= set(ids)
    for r in listed:
        assert r.resource_type is ResourceType.FUNCTION and r.provider is serverless.provider


async def test_get_function(serverless: ServerlessClient, functions: list[str]) -> None:
    found = await serverless.get_function(functions[0])
    assert found.id == functions[0]
    assert found.resource_type is ResourceType.FUNCTION
    assert found.state is ResourceState.ACTIVE
    assert dict(found.tags).items() >= FUNCTION_TAGS.items()
    assert found.raw


async def test_invoke_json_and_bytes(serverless: ServerlessClient, functions: list[str]) -> None:
    answer = await serverless.invoke_function(functions[0], {"ants": [1, 2, 3], "name": "ünï"})
    assert json.loads(answer) == {"ants": [1, 2, 3], "name": "ünï"}
    # bytes go as they are (Lambda requires them to be JSON, so these are)
    raw = '["raw", "bytes", "\u00fc"]'.encode()
    assert await serverless.invoke_function(functions[1], raw) == raw
    assert serverless.stats.bytes_received > 0


async def test_function_failure_is_a_typed_error_carrying_its_payload(
    serverless: ServerlessClient, serverless_harness: ServerlessHarness, functions: list[str]
) -> None:
    await serverless_harness.fail_next(functions[2])
    with pytest.raises(FunctionError) as info:
        await serverless.invoke_function(functions[2], {"x": 1})
    err = info.value
    assert err.function == functions[2]
    assert err.error_type and err.payload
    assert err.provider == serverless.provider.value and err.operation == "invoke_function"
    assert serverless.stats.retries == 0  # the function's own failure is never retried
    assert serverless.stats.errors["FunctionError"] == 1
    # the next invocation works again
    assert json.loads(await serverless.invoke_function(functions[2], {"x": 2})) == {"x": 2}


async def test_fire_and_forget(
    serverless: ServerlessClient, serverless_harness: ServerlessHarness, functions: list[str]
) -> None:
    if not serverless_harness.async_invocation:
        with pytest.raises(ConfigurationError):
            await serverless.invoke_function(functions[0], {"queued": True}, wait=False)
        return
    assert await serverless.invoke_function(functions[0], {"queued": True}, wait=False) == b""
    if serverless_harness.invocations is not None:
        with anyio.fail_after(10):
            while b'{"queued":true}' not in await serverless_harness.invocations(functions[0]):
                await anyio.sleep(0.05)


async def test_missing_function_is_not_found(
    serverless: ServerlessClient, serverless_harness: ServerlessHarness
) -> None:
    with pytest.raises(NotFoundError):
        await serverless.get_function(serverless_harness.missing_name)
    if serverless_harness.invoke_checks_existence:
        with pytest.raises(NotFoundError):
            await serverless.invoke_function(serverless_harness.missing_name, b"{}")


async def test_bad_names_and_payloads_fail_before_io(
    serverless: ServerlessClient, serverless_harness: ServerlessHarness
) -> None:
    for bad in serverless_harness.bad_names:
        with pytest.raises(ConfigurationError):
            await serverless.get_function(bad)
        with pytest.raises(ConfigurationError):
            await serverless.invoke_function(bad, b"")
    for payload in ({"x": {1, 2}}, "text", 42):
        with pytest.raises(ConfigurationError):
            await serverless.invoke_function(serverless_harness.missing_name, payload)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        serverless.list_functions(page_size=-1)
    assert serverless.stats.requests == 0


def test_sync_facade(serverless_harness: ServerlessHarness, functions: list[str]) -> None:
    with serverless_harness.sync_class(**serverless_harness.kwargs) as client:
        assert set(functions) <= {r.id for r in client.list_functions()}
        assert json.loads(client.invoke_function(functions[0], {"sync": True})) == {"sync": True}
        with pytest.raises(NotFoundError):
            client.get_function(serverless_harness.missing_name)
