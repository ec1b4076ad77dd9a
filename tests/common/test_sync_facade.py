"""The one sync mechanism: calls, iterators, errors, lifecycle, threads, loops and fork."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar

import anyio
import pytest

from cloud.common import sync as sync_module
from cloud.common.base import CloudClient
from cloud.common.enums import CloudProvider
from cloud.common.exceptions import NotFoundError
from cloud.common.pagination import AsyncPaginator, Page
from cloud.common.sync import SyncClient, SyncPaginator

ROOT = Path(__file__).resolve().parents[2]


class Probe(CloudClient):
    """A tiny async client that records what happens to it."""

    provider: ClassVar[CloudProvider] = CloudProvider.LOCAL
    created: ClassVar[int] = 0

    def __init__(self, *, value: int = 0) -> None:
        super().__init__()
        if value < 0:
            raise ValueError("value must not be negative")
        self.value = value
        self.closed = 0
        self.finished_generators: list[int] = []
        type(self).created += 1

    async def aclose(self) -> None:
        self.closed += 1

    async def add(self, a: int, *, b: int = 0) -> int:
        await anyio.sleep(0)
        return a + b + self.value

    async def where(self) -> str:
        return threading.current_thread().name

    async def fail(self) -> None:
        raise NotFoundError("no such thing", code="Missing")

    async def exit_code(self) -> None:
        raise SystemExit(3)

    async def wait_until(self, started: threading.Event, cancelled: threading.Event, seconds: float) -> None:
        started.set()
        try:
            await anyio.sleep(seconds)
        except BaseException:
            cancelled.set()
            raise

    async def count(self, n: int) -> AsyncIterator[int]:
        try:
            for i in range(n):
                yield i
        finally:
            self.finished_generators.append(n)

    def listing(self, pages: int) -> AsyncPaginator[int]:
        async def fetch(token: str | None) -> Page[int]:
            index = int(token or 0)
            return Page([index * 10, index * 10 + 1], str(index + 1) if index + 1 < pages else None)

        return AsyncPaginator(fetch)


class SyncProbe(SyncClient[Probe]):
    _async_class = Probe


def test_plain_calls_run_in_the_loop_thread() -> None:
    with SyncProbe(value=2) as probe:
        assert probe.add(1, b=3) == 6
        assert probe.where() == "cloud-sync-loop"
    assert SyncProbe.add.__doc__ is None or isinstance(SyncProbe.add.__doc__, str)


def test_constructor_arguments_validated_at_once() -> None:
    with pytest.raises(ValueError):
        SyncProbe(value=-1)


def test_exception_type_is_kept() -> None:
    with SyncProbe() as probe, pytest.raises(NotFoundError) as info:
        probe.fail()
    assert info.value.code == "Missing"


def test_base_exceptions_come_back_to_the_caller_and_the_loop_survives() -> None:
    with SyncProbe(value=1) as probe:
        with pytest.raises(SystemExit):
            probe.exit_code()
        assert probe.add(1) == 2


@pytest.mark.skipif(
    not hasattr(signal, "pthread_kill")
    and os.environ.get("CI", "").lower() not in ("1", "true", "yes")
    and os.environ.get("CLOUD_REQUIRE_EMULATORS") != "1",
    reason="POSIX signals only (in CI the test runs, and fails without them)",
)
def test_interrupt_while_waiting_cancels_the_work_in_the_loop() -> None:
    assert threading.current_thread() is threading.main_thread()  # Python delivers SIGINT there
    # Ctrl-C's usual meaning, whatever handler an earlier test or plugin left installed.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with SyncProbe() as probe:
            started, cancelled = threading.Event(), threading.Event()
            caller = threading.current_thread()

            def interrupt() -> None:
                if started.wait(10):
                    signal.pthread_kill(caller.ident or 0, signal.SIGINT)  # as the terminal sends it

            threading.Thread(target=interrupt, daemon=True).start()
            with pytest.raises(KeyboardInterrupt):
                # Bounded: if the interrupt never lands, the call ends and the test fails.
                probe.wait_until(started, cancelled, 20.0)
            assert cancelled.wait(10)
            assert probe.add(2) == 2  # the facade still works
    finally:
        signal.signal(signal.SIGINT, previous)


def test_iteration_and_early_break_closes_the_async_generator() -> None:
    with SyncProbe() as probe:
        assert list(probe.count(3)) == [0, 1, 2]
        for item in probe.count(100):
            if item == 2:
                break
        gc.collect()
        _, client = probe._async_client()
        assert client.finished_generators == [3, 100]
        iterator = probe.count(50)
        assert next(iterator) == 0
        iterator.close()
        assert client.finished_generators == [3, 100, 50]


def test_paginators_become_sync_paginators() -> None:
    with SyncProbe() as probe:
        paginator = probe.listing(3)
        assert isinstance(paginator, SyncPaginator)
        assert list(paginator) == [0, 1, 10, 11, 20, 21]
        assert [list(p.items) for p in probe.listing(2).pages()] == [[0, 1], [10, 11]]
        assert probe.listing(3).collect(limit=3) == [0, 1, 10]


def test_close_is_idempotent_and_final() -> None:
    probe = SyncProbe()
    probe.add(1)
    _, client = probe._async_client()
    probe.close()
    probe.close()
    assert client.closed == 1
    with pytest.raises(RuntimeError, match="closed"):
        probe.add(1)
    unused = SyncProbe()
    unused.close()  # closing a client that never opened does nothing


def test_two_threads_share_one_client() -> None:
    before = Probe.created
    with SyncProbe(value=1) as probe:

        def work(offset: int) -> list[int]:
            return [probe.add(offset + i) for i in range(200)]

        with ThreadPoolExecutor(max_workers=2) as pool:
            a, b = pool.map(work, [0, 1000])
        assert a == [i + 1 for i in range(200)]
        assert b == [1000 + i + 1 for i in range(200)]
    # one instance validated the arguments, exactly one served every call
    assert Probe.created - before == 2


def test_many_threads_share_one_client_results_and_errors_reach_their_callers() -> None:
    with SyncProbe(value=1) as probe:

        def work(offset: int) -> list[int]:
            out = []
            for i in range(100):
                out.append(probe.add(offset + i))
                if i % 10 == 0:
                    with pytest.raises(NotFoundError) as info:
                        probe.fail()
                    # raised with its own traceback, down to the async method
                    assert info.traceback[-1].name == "fail"
            return out

        with ThreadPoolExecutor(max_workers=32) as pool:
            results = list(pool.map(work, [1000 * t for t in range(32)]))
        assert results == [[1000 * t + i + 1 for i in range(100)] for t in range(32)]


def test_call_queued_while_the_loop_is_busy_starts_once_it_is_free() -> None:
    # A call queued while the loop thread is busy may skip the wake-up; the loop must still
    # start it before it next waits for I/O.
    with SyncProbe(value=1) as probe:
        assert probe.add(1) == 2  # loop and client exist
        gate, busy = threading.Event(), threading.Event()

        def block() -> None:
            busy.set()
            gate.wait(10)

        sync_module._PORTAL.get().loop.call_soon_threadsafe(block)
        assert busy.wait(10)
        results: list[int] = []
        caller = threading.Thread(target=lambda: results.append(probe.add(5)), daemon=True)
        caller.start()
        time.sleep(0.2)  # the call is queued while the loop thread is held
        gate.set()
        caller.join(10)
        assert results == [6]


def test_called_inside_running_loop_raises_clear_error() -> None:
    probe = SyncProbe()

    async def inside() -> None:
        with pytest.raises(RuntimeError, match="running asyncio event loop"):
            probe.add(1)

    anyio.run(inside)
    probe.close()


def test_usable_after_fork_in_child() -> None:
    probe = SyncProbe(value=5)
    assert probe.add(1) == 6  # the portal and async client exist before the fork
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        try:
            result = probe.add(2)
            os.write(write_end, str(result).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail("the sync client hung in the forked child")
    with os.fdopen(read_end) as f:
        assert f.read() == "7"
    assert probe.add(3) == 8  # the parent still works
    probe.close()


def test_mypy_sees_the_sync_return_types(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        textwrap.dedent(
            """
            from cloud.local import SyncLocalStorageClient

            with SyncLocalStorageClient() as client:
                reveal_type(client.list_objects("b"))
                reveal_type(client.ensure_bucket("b"))
                reveal_type(client.iter_objects("b"))
                reveal_type(client.open_read("b", "k"))
                reveal_type(client.get_metadata("b", "k"))
                reveal_type(client.stats)
                client.put_bytes("b", "k", "not bytes")
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--config-file", "/dev/null", str(sample)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert "Revealed type" in result.stdout, (result.stdout, result.stderr)
    out = result.stdout.replace("builtins.", "")
    assert 'Revealed type is "list[str]"' in out, out
    assert 'Revealed type is "bool"' in out, out
    assert 'Revealed type is "cloud.common.sync.SyncPaginator[cloud.common.models.ObjectMetadata]"' in out, out
    assert 'Revealed type is "typing.Iterator[bytes]"' in out, out
    assert 'Revealed type is "dict[str, Any]"' in out, out
    assert 'Revealed type is "cloud.common.stats.ClientStats"' in out, out
    assert 'Argument 3 to "put_bytes" of "SyncLocalStorageClient" has incompatible type "str"' in out, out
