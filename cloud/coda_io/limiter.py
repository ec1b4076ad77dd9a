"""Client-side pacing for Coda's rate limits: one sliding-window token bucket per class.

Coda does not say how it counts, so the limiter assumes the strictest reading: at most
``N`` requests in *any* window of ``T`` seconds.  A bucket holds ``N`` tokens; a request
takes one, and the token comes back exactly ``T`` seconds after the request was spent.  A
burst of ``N`` therefore goes at once, and no window of ``T`` seconds ever holds more than
``N`` requests.

"Spent" is the moment the response arrived (or the attempt ended): the server counts a
request somewhere between the moment it was sent and the moment it answered, so counting
from the answer keeps the guarantee at the server whatever the network delay was.
Waiters are served first come, first served.  Time comes from anyio's clock unless a
``clock`` and ``sleep`` are injected (tests drive a virtual clock, without sleeping).

The buckets live in this process unless :class:`CodaRateLimiter` is given a ``backend``
(:class:`LimiterBackend`): then the spent tokens are kept where every process using the
same token sees them -- an SQLite file for processes of one machine
(:class:`~cloud.coda_io.limiter_sqlite.SQLiteLimiterBackend`), Redis for many machines
(:class:`~cloud.coda_io.limiter_redis.RedisLimiterBackend`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields, replace
from typing import Protocol

import anyio

from cloud.common.exceptions import ConfigurationError

from .types import RateClass

__all__ = [
    "DEFAULT_LEASE",
    "RATE_CLASSES",
    "CodaRateLimiter",
    "CodaRateLimits",
    "LimiterBackend",
    "RateLimit",
    "SharedWindowLimiter",
    "SlidingWindowLimiter",
]

RateLimit = tuple[int, float]
"""``(requests, seconds)``: at most ``requests`` in any window of ``seconds``."""

DEFAULT_LEASE = 300.0
"""How long a request may hold a token of a shared backend before it counts as spent (what
frees the tokens of a process that died mid-request): longer than any request takes."""

RATE_CLASSES: tuple[RateClass, ...] = ("read", "write", "write_doc_content", "list_docs", "analytics")
"""Every rate-limit class, in the order of :class:`CodaRateLimits`'s fields."""


@dataclass(frozen=True)
class CodaRateLimits:
    """Coda's rate limits, one ``(requests, seconds)`` pair per class; ``None`` disables one.

    The defaults are Coda's published figures: reading 100 per 6 s, writing
    (POST/PUT/PATCH/DELETE) 10 per 6 s, writing doc content 5 per 10 s, listing docs 4 per
    6 s, reading analytics 100 per 6 s.  Coda may change them without notice, hence every
    value is configurable.
    """

    read: RateLimit | None = (100, 6.0)
    write: RateLimit | None = (10, 6.0)
    write_doc_content: RateLimit | None = (5, 10.0)
    list_docs: RateLimit | None = (4, 6.0)
    analytics: RateLimit | None = (100, 6.0)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if not isinstance(value, tuple) or len(value) != 2:
                raise ConfigurationError(f"CodaRateLimits.{f.name} must be (requests, seconds) or None")
            requests, seconds = value
            if isinstance(requests, bool) or not isinstance(requests, int) or requests < 1:
                raise ConfigurationError(f"CodaRateLimits.{f.name}: requests must be a positive integer")
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
                raise ConfigurationError(f"CodaRateLimits.{f.name}: seconds must be positive")

    @classmethod
    def unlimited(cls) -> CodaRateLimits:
        """No client-side pacing at all (the server's 429s are still retried)."""
        return cls(read=None, write=None, write_doc_content=None, list_docs=None, analytics=None)

    def scaled(self, factor: float) -> CodaRateLimits:
        """The same request counts over windows ``factor`` times shorter (``scaled(10)``:
        100 reads per 0.6 s).  Meant for tests against a fake server scaled the same way."""
        if not factor > 0:
            raise ConfigurationError("CodaRateLimits.scaled: factor must be positive")
        changes: dict[str, RateLimit | None] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            changes[f.name] = None if value is None else (value[0], value[1] / factor)
        return replace(self, **changes)

    def for_class(self, rate_class: RateClass) -> RateLimit | None:
        """The limit of one class."""
        value: RateLimit | None = getattr(self, rate_class)
        return value


class SlidingWindowLimiter:
    """At most ``capacity`` requests in any window of ``period`` seconds, FIFO-fair.

    Use ``async with limiter.slot(): send()``: entering takes a token (waiting if none is
    free), leaving spends it, and the token returns ``period`` seconds later.  ``clock``
    returns seconds (default :func:`anyio.current_time`); ``sleep`` waits (default
    :func:`anyio.sleep`).  Use one limiter from one event loop.
    """

    def __init__(
        self,
        capacity: int,
        period: float,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ConfigurationError("capacity must be a positive integer")
        if not period > 0:
            raise ConfigurationError("period must be positive")
        self.capacity = capacity
        self.period = float(period)
        self._clock = clock if clock is not None else anyio.current_time
        self._sleep = sleep if sleep is not None else anyio.sleep
        self._in_flight = 0
        self._returns: deque[float] = deque()  # when spent tokens come back, ascending
        self._lock: anyio.Lock | None = None  # the FIFO queue of waiting requests
        self._token_spent: anyio.Event | None = None

    def __repr__(self) -> str:
        return f"<SlidingWindowLimiter {self.capacity} per {self.period:g}s>"

    @property
    def available(self) -> int:
        """Tokens that could be taken right now without waiting."""
        self._expire(self._clock())
        return self.capacity - self._in_flight - len(self._returns)

    def _expire(self, now: float) -> None:
        returns = self._returns
        while returns and returns[0] <= now:
            returns.popleft()

    async def acquire(self) -> None:
        """Take a token, waiting (in arrival order) until one is free.

        Every :meth:`acquire` must be paired with one :meth:`release`; prefer :meth:`slot`.
        """
        if self._lock is None:
            self._lock = anyio.Lock(fast_acquire=True)
        async with self._lock:
            while True:
                now = self._clock()
                self._expire(now)
                if self._in_flight + len(self._returns) < self.capacity:
                    self._in_flight += 1
                    return
                if self._returns:
                    # The oldest spent token is the next one back.
                    await self._sleep(self._returns[0] - now)
                else:
                    # Every token is held by a request still in flight.
                    if self._token_spent is None:
                        self._token_spent = anyio.Event()
                    await self._token_spent.wait()

    def release(self) -> None:
        """Spend a token taken by :meth:`acquire`; it comes back one window from now."""
        if self._in_flight <= 0:
            raise RuntimeError("release() called more often than acquire()")
        self._in_flight -= 1
        self._returns.append(self._clock() + self.period)
        if self._token_spent is not None:
            self._token_spent.set()
            self._token_spent = None

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a token for the duration of one request."""
        await self.acquire()
        try:
            yield
        finally:
            self.release()


class LimiterBackend(Protocol):
    """Where the tokens of every rate class are kept when several processes share them.

    A token is a record ``(id, returns_at)`` per class: taking one inserts it with
    ``returns_at = now + lease + period`` (so a process that dies holding it frees it after
    ``lease`` seconds), spending it sets ``returns_at = now + period``; records whose
    ``returns_at`` has passed are gone.  Both steps are atomic across processes.
    """

    async def try_acquire(self, rate_class: RateClass, capacity: int, period: float) -> tuple[str | None, float]:
        """Take a token of ``rate_class`` if fewer than ``capacity`` are held or unreturned:
        ``(token id, 0.0)``; otherwise ``(None, seconds)`` where ``seconds`` is the soonest
        a token could come back (a lower bound: ask again then)."""
        ...

    async def release(self, rate_class: RateClass, token: str, period: float) -> None:
        """Spend ``token``: it comes back ``period`` seconds from now."""
        ...

    async def aclose(self) -> None:
        """Release the backend's connections.  Idempotent."""
        ...


class SharedWindowLimiter:
    """The :class:`SlidingWindowLimiter` of one class kept in a :class:`LimiterBackend`:
    at most ``capacity`` requests in any window of ``period`` seconds, summed over every
    process that uses the same backend (and namespace).

    Waiters of this process are served first come, first served; across processes the
    order is not guaranteed.
    """

    def __init__(
        self,
        rate_class: RateClass,
        capacity: int,
        period: float,
        backend: LimiterBackend,
        *,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.rate_class: RateClass = rate_class
        self.capacity = capacity
        self.period = float(period)
        self.backend = backend
        self._sleep = sleep if sleep is not None else anyio.sleep
        self._lock: anyio.Lock | None = None

    def __repr__(self) -> str:
        return f"<SharedWindowLimiter {self.rate_class} {self.capacity} per {self.period:g}s>"

    async def acquire(self) -> str:
        """Take a token, waiting until one is free; returns its id for :meth:`release`."""
        if self._lock is None:
            self._lock = anyio.Lock(fast_acquire=True)
        async with self._lock:
            while True:
                # Shielded: a token taken in the store must reach our caller (or its lease
                # would hold a slot long after a cancelled request).
                with anyio.CancelScope(shield=True):
                    token, wait = await self.backend.try_acquire(self.rate_class, self.capacity, self.period)
                if token is not None:
                    return token
                await self._sleep(max(wait, 0.001))

    async def release(self, token: str) -> None:
        """Spend a token taken by :meth:`acquire`; it comes back one window from now."""
        with anyio.CancelScope(shield=True):
            await self.backend.release(self.rate_class, token, self.period)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a token for the duration of one request."""
        token = await self.acquire()
        try:
            yield
        finally:
            await self.release(token)


class CodaRateLimiter:
    """One limiter per rate class, shared by every request of a client.

    Pass the same instance as ``rate_limits=`` to several clients that use one API token so
    that together they stay within the token's limits.  Without ``backend`` the limits hold
    in this process (:class:`SlidingWindowLimiter`); with one they hold across every process
    using that backend (:class:`SharedWindowLimiter`), provided each is given the same
    ``limits``.  ``clock`` is for the in-process limiter only: a backend takes its own.
    """

    def __init__(
        self,
        limits: CodaRateLimits | None = None,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        backend: LimiterBackend | None = None,
    ) -> None:
        if backend is not None and clock is not None:
            raise ConfigurationError("CodaRateLimiter: with a backend, pass clock= to the backend")
        self.limits = limits if limits is not None else CodaRateLimits()
        self.backend = backend
        self._windows: dict[RateClass, SlidingWindowLimiter | SharedWindowLimiter | None] = {}
        for rate_class in RATE_CLASSES:
            limit = self.limits.for_class(rate_class)
            if limit is None:
                self._windows[rate_class] = None
            elif backend is None:
                self._windows[rate_class] = SlidingWindowLimiter(limit[0], limit[1], clock=clock, sleep=sleep)
            else:
                self._windows[rate_class] = SharedWindowLimiter(rate_class, limit[0], limit[1], backend, sleep=sleep)

    def __repr__(self) -> str:
        where = "" if self.backend is None else f" in {self.backend!r}"
        return f"<CodaRateLimiter {self.limits!r}{where}>"

    def window(self, rate_class: RateClass) -> SlidingWindowLimiter | SharedWindowLimiter | None:
        """The limiter of one class (``None`` when that class is not limited)."""
        return self._windows[rate_class]

    async def aclose(self) -> None:
        """Close the backend, if any (clients never do: the limiter may outlive them)."""
        if self.backend is not None:
            await self.backend.aclose()

    @asynccontextmanager
    async def slot(self, rate_class: RateClass) -> AsyncIterator[None]:
        """Hold a token of ``rate_class`` for the duration of one request."""
        window = self._windows[rate_class]
        if window is None:
            yield
            return
        async with window.slot():
            yield
