"""RetryPolicy: full jitter, Retry-After, only retryable errors, only safe operations."""

from __future__ import annotations

import pytest

from cloud.common.exceptions import (
    BadRequestError,
    ConfigurationError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
)
from cloud.common.retry import RetryPolicy, parse_retry_after


class FakeTime:
    """A fake clock whose sleep only advances time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def policy(fake: FakeTime, **kw: object) -> RetryPolicy:
    return RetryPolicy(sleep=fake.sleep, clock=fake.clock, random=lambda: 1.0, **kw)  # type: ignore[arg-type]


def failing(errors: list[Exception], result: str = "ok") -> tuple[list[int], object]:
    calls: list[int] = []

    async def attempt() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result

    return calls, attempt


async def test_backoff_is_exponential_capped_full_jitter() -> None:
    fake = FakeTime()
    p = policy(fake, max_attempts=6, base_delay=0.5, max_delay=3.0)
    _, attempt = failing([ServerError("x")] * 5)
    assert await p.run(attempt, idempotent=True) == "ok"  # type: ignore[arg-type]
    assert fake.sleeps == [0.5, 1.0, 2.0, 3.0, 3.0]
    jittered = RetryPolicy(random=lambda: 0.25, base_delay=1.0, max_delay=100)
    assert [jittered.backoff(n) for n in (1, 2, 3)] == [0.25, 0.5, 1.0]


async def test_retry_after_is_honoured_and_capped() -> None:
    fake = FakeTime()
    p = policy(fake, max_retry_after=10.0)
    _, attempt = failing([RateLimitError("slow", retry_after=7.0), RateLimitError("slow", retry_after=99.0)])
    assert await p.run(attempt, idempotent=True) == "ok"  # type: ignore[arg-type]
    assert fake.sleeps == [7.0, 10.0]


async def test_unsafe_operations_retry_only_rate_limits() -> None:
    fake = FakeTime()
    p = policy(fake)
    calls, attempt = failing([ServerError("x")])
    with pytest.raises(ServerError):
        await p.run(attempt, idempotent=False)  # type: ignore[arg-type]
    assert len(calls) == 1
    calls, attempt = failing([TransportError("reset")])
    with pytest.raises(TransportError):
        await p.run(attempt, idempotent=False)  # type: ignore[arg-type]
    assert len(calls) == 1
    calls, attempt = failing([RateLimitError("slow")])
    assert await p.run(attempt, idempotent=False) == "ok"  # type: ignore[arg-type]
    assert len(calls) == 2


async def test_non_retryable_errors_are_raised_at_once() -> None:
    fake = FakeTime()
    for error in (BadRequestError("bad"), ValueError("not ours")):
        calls, attempt = failing([error])
        with pytest.raises(type(error)):
            await policy(fake).run(attempt, idempotent=True)  # type: ignore[arg-type]
        assert len(calls) == 1
    assert fake.sleeps == []


async def test_max_attempts_and_max_elapsed() -> None:
    fake = FakeTime()
    calls, attempt = failing([RequestTimeoutError("t")] * 10)
    with pytest.raises(RequestTimeoutError):
        await policy(fake, max_attempts=3).run(attempt, idempotent=True)  # type: ignore[arg-type]
    assert len(calls) == 3
    fake = FakeTime()
    calls, attempt = failing([ServerError("x")] * 10)
    with pytest.raises(ServerError):
        await policy(fake, max_attempts=10, base_delay=1.0, max_elapsed=2.5).run(attempt, idempotent=True)  # type: ignore[arg-type]
    assert fake.now <= 2.5 and len(calls) == 2


async def test_on_retry_callback() -> None:
    fake = FakeTime()
    seen: list[tuple[str, int, float]] = []
    _, attempt = failing([ServerError("x"), ServerError("y")])
    await policy(fake, base_delay=1.0).run(
        attempt,  # type: ignore[arg-type]
        idempotent=True,
        on_retry=lambda e, n, d: seen.append((str(e), n, d)),
    )
    assert seen == [("x", 1, 1.0), ("y", 2, 2.0)]


def test_parse_retry_after() -> None:
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", now=4.0) == 6.0
    assert parse_retry_after("-3") == 0.0


def test_invalid_policy() -> None:
    with pytest.raises(ConfigurationError):
        RetryPolicy(max_attempts=0)
    assert RetryPolicy.disabled().max_attempts == 1
