"""One deadline for a whole call: every request, retry and back-off of it together.

``timeout=`` on a public method is the time the *call* may take.  :func:`call_deadline`
opens a cancel scope for it and records the absolute deadline in a context variable, so a
call made inside another one (``object_exists`` -> ``stat``, every part of an upload, every
attempt of a request) runs under the earliest deadline and never restarts the clock.
:func:`whole_call` applies it to a coroutine method from its ``timeout`` argument (or the
client's default), which :class:`~cloud.common.base.CloudClient` does for every public
coroutine method of its subclasses.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar, cast

import anyio

from .exceptions import ConfigurationError, RequestTimeoutError

__all__ = ["call_deadline", "check_timeout", "own_deadline", "remaining", "whole_call"]

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

_deadline: ContextVar[float | None] = ContextVar("cloud_call_deadline", default=None)


def check_timeout(timeout: object, *, provider: str | None = None) -> float | None:
    """``timeout`` as seconds, or ``ConfigurationError`` (before any I/O) unless it is
    ``None`` or a positive finite number."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < math.inf:
        raise ConfigurationError("timeout must be a positive number of seconds", provider=provider)
    return float(timeout)


def remaining() -> float | None:
    """Seconds left before the innermost call's deadline (``None``: no deadline)."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - anyio.current_time()


@contextmanager
def call_deadline(
    timeout: float | None,
    operation: str,
    *,
    provider: str | None = None,
    on_expiry: Callable[[RequestTimeoutError], None] | None = None,
) -> Iterator[None]:
    """Bound the block by ``timeout`` seconds, or by an enclosing call's deadline when that
    comes first; a deadline that passes raises ``RequestTimeoutError`` (also a
    ``TimeoutError``) naming ``operation``, handed to ``on_expiry`` first (e.g. stats)."""
    limit = check_timeout(timeout, provider=provider)
    if limit is None:
        yield
        return
    deadline = anyio.current_time() + limit
    outer = _deadline.get()
    if outer is not None and outer <= deadline:
        yield  # the enclosing call's scope ends first and raises for the whole call
        return
    token = _deadline.set(deadline)
    try:
        with anyio.fail_after(limit):
            yield
    except TimeoutError as exc:
        if isinstance(exc, RequestTimeoutError):
            raise
        err = RequestTimeoutError(
            f"{operation} did not finish within {limit:g} s", provider=provider, operation=operation
        )
        if on_expiry is not None:
            on_expiry(err)
        raise err from None
    finally:
        _deadline.reset(token)


def own_deadline(method: F) -> F:
    """Mark a coroutine method that applies its ``timeout`` itself (with its own default and
    message), so that :func:`whole_call` leaves it as it is."""
    method.__whole_call__ = True  # type: ignore[attr-defined]
    return method


def whole_call(method: F) -> F:
    """Wrap a client's coroutine method so that its ``timeout`` keyword (or, when absent,
    the client's ``default_timeout``) bounds the whole call."""
    if getattr(method, "__whole_call__", False):
        return method
    name = method.__name__

    @functools.wraps(method)
    async def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        timeout = kwargs.get("timeout")
        if timeout is None:
            timeout = self.default_timeout
            if timeout is None:
                return await method(self, *args, **kwargs)
        with call_deadline(timeout, name, provider=self.provider.value, on_expiry=self.stats.record_error):
            return await method(self, *args, **kwargs)

    wrapper.__whole_call__ = True  # type: ignore[attr-defined]
    return cast(F, wrapper)
