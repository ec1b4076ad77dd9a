"""The one retry policy: exponential backoff with full jitter, honouring ``Retry-After``."""

from __future__ import annotations

import email.utils
import random as _random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

import anyio

from .exceptions import CloudError, ConfigurationError, RateLimitError

__all__ = ["RetryPolicy", "parse_retry_after"]

T = TypeVar("T")


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Parse a ``Retry-After`` header (seconds or an HTTP date) into seconds, or ``None``."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying a failed request again.

    * Only errors whose class is ``retryable`` (transport errors, timeouts, 429, 5xx) are
      retried, and only for *safe* (idempotent) operations; a 429 is retried for any
      operation because the service did not apply the request.
    * The wait before retry ``n`` (1-based) is drawn uniformly from
      ``[0, min(max_delay, base_delay * 2 ** (n - 1))]`` ("full jitter"); a server's
      ``Retry-After`` is honoured instead when present (capped at ``max_retry_after``).
    * ``max_attempts`` counts the first try; ``max_elapsed`` bounds the total time.
    * ``sleep``, ``clock`` and ``random`` can be injected for tests.
    """

    max_attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 20.0
    max_retry_after: float = 60.0
    max_elapsed: float | None = None
    jitter: bool = True
    sleep: Callable[[float], Awaitable[None]] = field(default=anyio.sleep, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    random: Callable[[], float] = field(default=_random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigurationError("RetryPolicy.max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ConfigurationError("RetryPolicy delays must not be negative")

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_attempts=1)

    def with_options(self, **changes: object) -> RetryPolicy:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def backoff(self, retry_number: int) -> float:
        """The wait before retry ``retry_number`` (1-based), ignoring ``Retry-After``."""
        cap = min(self.max_delay, self.base_delay * (2.0 ** (retry_number - 1)))
        return self.random() * cap if self.jitter else cap

    def delay_for(self, error: BaseException, retry_number: int) -> float:
        """The wait before retry ``retry_number`` after ``error``."""
        if isinstance(error, RateLimitError) and error.retry_after is not None:
            return min(error.retry_after, self.max_retry_after)
        return self.backoff(retry_number)

    def is_retryable(self, error: BaseException, *, idempotent: bool) -> bool:
        """Whether ``error`` may be retried for an operation that is (or is not) idempotent."""
        if not isinstance(error, CloudError) or not error.retryable:
            return False
        return idempotent or isinstance(error, RateLimitError)

    async def run(
        self,
        attempt: Callable[[], Awaitable[T]],
        *,
        idempotent: bool,
        on_retry: Callable[[BaseException, int, float], None] | None = None,
    ) -> T:
        """Call ``attempt`` until it succeeds, the error is not retryable, or the budget ends.

        ``on_retry(error, retry_number, delay)`` is called before each wait.
        """
        started = self.clock()
        number = 0
        while True:
            try:
                return await attempt()
            except Exception as exc:
                number += 1
                if number >= self.max_attempts or not self.is_retryable(exc, idempotent=idempotent):
                    raise
                delay = self.delay_for(exc, number)
                if self.max_elapsed is not None and self.clock() + delay - started > self.max_elapsed:
                    raise
                if on_retry is not None:
                    on_retry(exc, number, delay)
                await self.sleep(delay)
