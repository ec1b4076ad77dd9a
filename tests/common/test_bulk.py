"""map_bounded: the one bounded-concurrency helper."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from cloud.common.bulk import map_bounded
from cloud.common.exceptions import ConfigurationError


async def test_results_in_input_order_with_bounded_concurrency() -> None:
    in_flight = 0
    peak = 0
    pulled: list[int] = []

    def source() -> object:
        for i in range(50):
            pulled.append(i)
            yield i

    full = anyio.Event()

    async def work(i: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        if in_flight == 4:
            full.set()
        # Items are pulled lazily: never more than the workers hold.
        assert len(pulled) <= i + 4
        if i < 4:
            await full.wait()  # the first four only finish once four are in flight together
        await anyio.sleep(0)
        in_flight -= 1
        return i * 2

    done: list[int] = []
    with anyio.fail_after(30):
        out = await map_bounded(source(), work, 4, on_done=lambda item, _: done.append(item))  # type: ignore[arg-type]
    assert out == [i * 2 for i in range(50)]
    assert peak == 4
    assert sorted(done) == list(range(50))


async def test_async_iterables_and_alongside_jobs() -> None:
    async def source() -> AsyncIterator[int]:
        for i in range(5):
            yield i

    ran: list[str] = []

    async def job() -> None:
        ran.append("job")

    async def work(i: int) -> int:
        return i

    assert await map_bounded(source(), work, 2, alongside=[job]) == [0, 1, 2, 3, 4]
    assert ran == ["job"]


async def test_first_error_is_raised_as_itself_and_cancels_the_rest() -> None:
    started: list[int] = []
    closed: list[bool] = []

    async def source() -> AsyncIterator[int]:
        try:
            for i in range(100):
                yield i
        finally:
            closed.append(True)

    async def work(i: int) -> int:
        started.append(i)
        if i == 3:
            raise KeyError("three")
        await anyio.sleep(0.01)
        return i

    with pytest.raises(KeyError, match="three"):
        await map_bounded(source(), work, 2)
    assert len(started) < 100
    assert closed == [True]


async def test_iterator_errors_propagate() -> None:
    def source() -> object:
        yield 1
        raise OSError("listing failed")

    async def work(i: int) -> int:
        return i

    with pytest.raises(OSError, match="listing failed"):
        await map_bounded(source(), work, 3)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        await map_bounded([], work, 0)


async def test_short_jobs_still_run_at_full_concurrency() -> None:
    """Handing out the next item costs no event-loop iteration: jobs that finish within one
    iteration still keep ``concurrency`` of them in flight (a lock with a checkpoint per
    handout let only one or two run at once, whatever the concurrency)."""
    in_flight = 0
    peak = 0

    async def work(i: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await anyio.sleep(0)  # one loop iteration, like a request answered at once
        in_flight -= 1
        return i

    assert await map_bounded(range(500), work, 50) == list(range(500))
    assert peak == 50
