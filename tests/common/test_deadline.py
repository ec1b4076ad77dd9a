"""``timeout=`` is one deadline for the whole call: every request, retry and back-off."""

from __future__ import annotations

import time
from typing import ClassVar

import anyio
import pytest

from cloud.common.base import CloudClient
from cloud.common.enums import CloudProvider
from cloud.common.exceptions import ConfigurationError, RequestTimeoutError, ServerError
from cloud.common.operations import OperationRunner
from cloud.common.retry import RetryPolicy


class _Slow(CloudClient):
    """A client whose calls are made of several slow steps, each one retried."""

    provider: ClassVar[CloudProvider] = CloudProvider.LOCAL

    def __init__(self, *, timeout: float | None = None, step: float = 0.3) -> None:
        super().__init__()
        self.step = step
        self.started = 0
        self._runner = OperationRunner(
            provider="local",
            translate=lambda exc, op: None,
            retry=RetryPolicy(max_attempts=10, base_delay=0.05, jitter=False),
            stats=self.stats,
            timeout=timeout,
        )

    async def aclose(self) -> None:
        pass

    async def steps(self, count: int, *, timeout: float | None = None) -> int:
        for _ in range(count):
            await self._runner.call("steps", self._one_step, timeout=timeout)
        return count

    async def flaky(self, *, timeout: float | None = None) -> None:
        async def fail() -> None:
            self.started += 1
            await anyio.sleep(self.step)
            raise ServerError("busy", status_code=503)

        await self._runner.call("flaky", fail, timeout=timeout)

    async def nested(self, *, timeout: float | None = None) -> int:
        return await self.steps(2, timeout=timeout)

    async def _one_step(self) -> None:
        self.started += 1
        await anyio.sleep(self.step)


async def _elapsed_error(call: object) -> tuple[float, BaseException]:
    began = time.monotonic()
    with pytest.raises(RequestTimeoutError) as info:
        await call  # type: ignore[misc]
    return time.monotonic() - began, info.value


async def test_many_requests_share_one_deadline() -> None:
    client = _Slow()
    elapsed, err = await _elapsed_error(client.steps(10, timeout=0.5))
    assert elapsed < 1.0  # not 10 x 0.3 s, nor 0.5 s per request
    assert client.started == 2
    assert isinstance(err, TimeoutError) and err.operation == "steps" and err.provider == "local"
    assert client.stats.errors.get("RequestTimeoutError") == 1


async def test_retries_and_backoff_are_inside_the_deadline() -> None:
    client = _Slow()
    elapsed, _ = await _elapsed_error(client.flaky(timeout=0.5))
    assert elapsed < 1.0
    assert client.started == 2  # two attempts fit, the third would start past the deadline


async def test_the_clients_default_timeout_bounds_every_call() -> None:
    client = _Slow(timeout=0.5)
    assert client.default_timeout == 0.5
    elapsed, _ = await _elapsed_error(client.steps(10))
    assert elapsed < 1.0


async def test_a_nested_call_never_restarts_the_clock() -> None:
    client = _Slow(step=0.3)
    elapsed, err = await _elapsed_error(client.nested(timeout=0.45))
    assert elapsed < 0.9
    assert err.operation == "nested"  # type: ignore[attr-defined]


async def test_a_call_within_its_deadline_succeeds() -> None:
    assert await _Slow(step=0.01).steps(3, timeout=5) == 3


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "1", True])
async def test_a_timeout_that_is_not_a_positive_number_is_refused_before_io(bad: object) -> None:
    client = _Slow()
    with pytest.raises(ConfigurationError):
        await client.steps(1, timeout=bad)  # type: ignore[arg-type]
    assert client.started == 0


@pytest.mark.parametrize("bad", [0, -3, True, 2.5])
async def test_a_concurrency_below_one_is_refused_before_io(bad: object, tmp_path: object) -> None:
    from cloud.local import LocalStorageClient

    async with LocalStorageClient() as store:
        with pytest.raises(ConfigurationError):
            await store.upload_many("bucket", [], concurrency=bad)  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError):
            await store.download_many("bucket", [], concurrency=bad)  # type: ignore[arg-type]
