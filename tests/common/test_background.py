"""background_worker: one thread processing items in order, fed from the event loop."""

from __future__ import annotations

import threading

import anyio
import pytest

from cloud.common.background import BackgroundWorker, background_worker


async def test_items_processed_in_order_in_one_other_thread() -> None:
    seen: list[int] = []
    threads: set[int] = set()

    def work(item: int) -> None:
        threads.add(threading.get_ident())
        seen.append(item)

    async with background_worker(work) as worker:
        for i in range(200):
            await worker.put(i)
    # Leaving the block waited for every item.
    assert seen == list(range(200))
    assert len(threads) == 1
    assert threading.get_ident() not in threads


async def test_put_waits_when_depth_items_are_pending() -> None:
    release = threading.Event()
    started = threading.Event()

    def work(item: int) -> None:
        started.set()
        release.wait(10)

    queued = 0
    async with background_worker(work, depth=2) as worker:

        async def feed() -> None:
            nonlocal queued
            for i in range(5):
                await worker.put(i)
                queued += 1

        async with anyio.create_task_group() as tg:
            tg.start_soon(feed)
            await anyio.to_thread.run_sync(started.wait, 10)
            await anyio.sleep(0.2)
            # One item is being worked on and holds a place; one more fits.
            assert queued == 2
            release.set()
    assert queued == 5


async def test_failure_is_raised_by_a_later_put_and_stops_the_work() -> None:
    done: list[int] = []

    def work(item: int) -> None:
        if item == 3:
            raise OSError(28, "No space left on device")
        done.append(item)

    with pytest.raises(OSError, match="No space left"):
        async with background_worker(work, depth=1) as worker:
            for i in range(100):
                await worker.put(i)
    assert done == [0, 1, 2]


async def test_failure_of_the_last_item_is_raised_on_leaving() -> None:
    def work(item: int) -> None:
        raise ValueError(f"bad {item}")

    with pytest.raises(ValueError, match="bad 0"):
        async with background_worker(work) as worker:
            await worker.put(0)


async def test_leaving_by_an_exception_drops_pending_items_and_ends_the_thread() -> None:
    gate = threading.Event()
    done: list[int] = []
    worker_ref: list[BackgroundWorker[int]] = []

    def work(item: int) -> None:
        gate.wait(10)
        done.append(item)

    with pytest.raises(RuntimeError, match="receive failed"):
        async with background_worker(work, depth=4) as worker:
            worker_ref.append(worker)
            for i in range(4):
                await worker.put(i)
            gate.set()
            raise RuntimeError("receive failed")
    # The item in hand may finish; the rest are dropped, and the thread is gone.
    assert done in ([], [0])
    assert not worker_ref[0]._thread.is_alive()


async def test_cancellation_still_waits_for_the_thread() -> None:
    gate = threading.Event()
    worker_ref: list[BackgroundWorker[int]] = []

    def work(item: int) -> None:
        gate.wait(10)

    with anyio.move_on_after(0.1):
        async with background_worker(work, depth=1) as worker:
            worker_ref.append(worker)
            await worker.put(0)
            threading.Timer(0.3, gate.set).start()
            await anyio.sleep(5)
    assert not worker_ref[0]._thread.is_alive()


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError):
        BackgroundWorker(lambda item: None, depth=0)
