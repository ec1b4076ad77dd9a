"""The one bounded-concurrency helper behind every bulk operation (``upload_many``,
``download_many``, ``delete_objects``, :func:`cloud.transfer.transfer`)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import TypeVar

import anyio

from .exceptions import ConfigurationError

__all__ = ["map_bounded", "run_all"]

T = TypeVar("T")
R = TypeVar("R")


async def _indexed(items: AsyncIterable[T]) -> AsyncIterator[tuple[int, T]]:
    index = 0
    iterator = aiter(items)
    try:
        async for item in iterator:
            yield index, item
            index += 1
    finally:
        # Close the caller's generator now, in this task, not whenever it is collected.
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()


async def run_all(jobs: Sequence[Callable[[], Awaitable[None]]]) -> None:
    """Run ``jobs`` concurrently.  The first exception cancels the others and is raised as
    itself, never wrapped in an exception group."""
    failures: list[Exception] = []
    async with anyio.create_task_group() as tg:

        async def guarded(job: Callable[[], Awaitable[None]]) -> None:
            try:
                await job()
            except Exception as exc:
                if not failures:
                    failures.append(exc)
                tg.cancel_scope.cancel()

        for job in jobs:
            tg.start_soon(guarded, job)
    if failures:
        raise failures[0]


async def map_bounded(
    items: Iterable[T] | AsyncIterable[T],
    work: Callable[[T], Awaitable[R]],
    concurrency: int,
    *,
    on_done: Callable[[T, R], None] | None = None,
    alongside: Sequence[Callable[[], Awaitable[None]]] = (),
) -> list[R]:
    """Return ``[await work(item) for item in items]`` (in input order) with at most
    ``concurrency`` calls in flight.

    A fixed pool of worker tasks pulls from one (sync or async) iterator, so items are read
    lazily, as workers become free (at most ``concurrency`` are held at once), and no task is
    created per item.  ``on_done(item, result)`` is called as each finishes.  ``alongside``
    jobs (e.g. a checksum that follows the parts as they land) run in the same task group.
    The first exception, from ``work``, the iterator or a job, cancels the rest and is raised
    as itself (never wrapped in an exception group); callers that want "one failure does not
    stop the rest" catch inside ``work``.
    """
    if concurrency < 1:
        raise ConfigurationError("concurrency must be at least 1")
    results: dict[int, R] = {}

    async def finish(index: int, item: T) -> None:
        result = await work(item)
        results[index] = result
        if on_done is not None:
            on_done(item, result)

    if not isinstance(items, AsyncIterable):
        # A plain iterator is advanced with no await, so workers need no lock: a lock (or
        # any await) here would hand out at most one item per event-loop iteration, which
        # caps the real concurrency far below ``concurrency`` when iterations are slow.
        numbered = enumerate(items)

        async def sync_worker() -> None:
            for index, item in numbered:
                await finish(index, item)

        await run_all([*([sync_worker] * concurrency), *alongside])
        return [results[i] for i in range(len(results))]

    iterator = _indexed(items)
    lock = anyio.Lock()

    async def worker() -> None:
        while True:
            async with lock:
                try:
                    index, item = await iterator.__anext__()
                except StopAsyncIteration:
                    return
            await finish(index, item)

    try:
        await run_all([*([worker] * concurrency), *alongside])
    finally:
        with anyio.CancelScope(shield=True):
            await iterator.aclose()  # type: ignore[attr-defined]
    return [results[i] for i in range(len(results))]
