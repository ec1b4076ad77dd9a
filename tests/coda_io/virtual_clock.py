"""Virtual time for limiter and pacing tests: no real sleeping.

``VirtualClock.sleep`` parks the calling task; a driver task waits until every other task
is blocked, then jumps time to the earliest wake-up and releases the sleepers due then.
Time therefore advances only when nothing else can run, exactly as a real clock would look
to the code under test, but instantly.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.lowlevel


class VirtualClock:
    """A clock (``time``) and a ``sleep`` for :class:`~cloud.coda_io.limiter.SlidingWindowLimiter`."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self._sleepers: list[tuple[float, int, anyio.Event]] = []
        self._seq = 0
        self._added: anyio.Event | None = None
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        if delay <= 0:
            await anyio.lowlevel.checkpoint()
            return
        event = anyio.Event()
        heapq.heappush(self._sleepers, (self.now + delay, self._seq, event))
        self._seq += 1
        if self._added is not None:
            self._added.set()
        await event.wait()

    async def _settle(self) -> None:
        """Yield until every other task is blocked on something."""
        this = asyncio.current_task()
        for _ in range(10_000):
            await asyncio.sleep(0)
            blocked = True
            for task in asyncio.all_tasks():
                if task is this:
                    continue
                waiter = task._fut_waiter  # type: ignore[attr-defined]
                if waiter is None or waiter.done():
                    blocked = False
                    break
            if blocked:
                return
        raise RuntimeError("tasks never settled")

    async def _drive(self) -> None:
        while True:
            await self._settle()
            if not self._sleepers:
                self._added = anyio.Event()
                await self._added.wait()
                self._added = None
                continue
            when = self._sleepers[0][0]
            self.now = max(self.now, when)
            while self._sleepers and self._sleepers[0][0] <= self.now:
                _, _, event = heapq.heappop(self._sleepers)
                event.set()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[VirtualClock]:
        """Drive virtual time for the duration of the block."""
        async with anyio.create_task_group() as group:
            group.start_soon(self._drive)
            try:
                yield self
            finally:
                group.cancel_scope.cancel()
