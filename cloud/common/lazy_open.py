"""Open a client's session once, on first use, whichever call comes first."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import anyio

__all__ = ["OpenOnce"]

T = TypeVar("T")


class OpenOnce(Generic[T]):
    """The double-checked open of a lazily created session, written once for every client.

    ``await once.get(current, create)`` returns ``current()`` when it is not ``None``;
    otherwise it runs ``create()`` (which stores the session where ``current`` reads it)
    under a lock, so concurrent first calls share one session.  A first opener that fails
    or is cancelled leaves nothing behind and releases the lock: the next call opens again.
    The lock is made on first need, so construction does no I/O and touches no event loop.
    The owner keeps the session in its own attributes and closes it in its ``aclose``.
    """

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock: anyio.Lock | None = None

    async def get(self, current: Callable[[], T | None], create: Callable[[], Awaitable[object]]) -> T:
        """The open session: ``current()``, after ``create()`` if it was not open yet."""
        value = current()
        if value is not None:
            return value
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            value = current()
            if value is None:
                await create()
                value = current()
                assert value is not None, "the opener stored no session"
            return value
