"""A :class:`~cloud.coda_io.limiter.LimiterBackend` in Redis: one token's limits shared by
processes on many machines.

Each rate class is one sorted set (member: token id, score: when it returns); each step is
one Lua script, which Redis runs atomically.  Time is the Redis server's (``TIME``), so the
machines' clocks need not agree.  Needs the ``redis`` extra:
``pip install 'codomyrmex-cloud[redis]'``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from cloud.common.exceptions import ConfigurationError, MissingDependencyError, TransportError

from .limiter import DEFAULT_LEASE
from .types import RateClass

try:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise MissingDependencyError(
        "the Redis limiter backend needs redis: pip install 'codomyrmex-cloud[redis]'", extra="redis"
    ) from exc

__all__ = ["RedisLimiterBackend"]

# ARGV[1] = now (seconds; negative: use the server's TIME).
_NOW = """
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
"""

# ARGV: now, capacity, period, lease, token id, key lifetime (ms).  Returns {1, "0"} when
# the token was taken, else {0, seconds until one could come back}.
_ACQUIRE = (
    _NOW
    + """
local capacity, period, lease = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < capacity then
  redis.call('ZADD', KEYS[1], now + lease + period, ARGV[5])
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  return {1, '0'}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tostring(math.min(tonumber(first[2]), now + period) - now)}
"""
)

# ARGV: now, period, token id.  XX: a token whose lease ran out is not brought back.
_RELEASE = (
    _NOW
    + """
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[3])
return 1
"""
)


class RedisLimiterBackend:
    """Rate-limit tokens kept in Redis (``redis://host:6379/0``, or a ``redis.asyncio.Redis``).

    ``CodaRateLimiter(limits, backend=RedisLimiterBackend("redis://limits:6379/0"))`` in every
    process, on every machine, that uses one API token keeps them, together, within that
    token's limits.  Keys are ``{key_prefix}{namespace}:{rate_class}``; ``namespace``
    separates API tokens; ``lease`` bounds how long a request may hold a token (then it
    counts as spent: this frees the tokens of a process that died mid-request); ``clock``
    replaces the server's clock (tests).  A client built from a URL is closed by
    :meth:`aclose`; one passed in is left to its owner.  Use one backend from one event
    loop.  Construction does no I/O.
    """

    def __init__(
        self,
        redis: str | Redis,
        *,
        namespace: str = "default",
        key_prefix: str = "codomyrmex:coda:",
        lease: float = DEFAULT_LEASE,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if not lease > 0:
            raise ConfigurationError("RedisLimiterBackend: lease must be positive")
        if isinstance(redis, str):
            self._redis = Redis.from_url(redis, socket_timeout=30.0, socket_connect_timeout=30.0)
            self._owned = True
        else:
            self._redis = redis
            self._owned = False
        self.namespace = namespace
        self.key_prefix = key_prefix
        self.lease = float(lease)
        self._clock = clock
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._release = self._redis.register_script(_RELEASE)

    def __repr__(self) -> str:
        return f"<RedisLimiterBackend namespace={self.namespace!r}>"

    def _key(self, rate_class: RateClass) -> str:
        return f"{self.key_prefix}{self.namespace}:{rate_class}"

    def _now(self) -> float:
        return self._clock() if self._clock is not None else -1.0

    async def try_acquire(self, rate_class: RateClass, capacity: int, period: float) -> tuple[str | None, float]:
        """See :meth:`cloud.coda_io.limiter.LimiterBackend.try_acquire`."""
        token = uuid.uuid4().hex
        lifetime_ms = int((self.lease + period) * 1000) + 1000
        args: list[str | int] = [repr(self._now()), capacity, repr(period), repr(self.lease), token, lifetime_ms]
        with self._errors():
            taken, wait = await self._acquire(keys=[self._key(rate_class)], args=args)
        return (token, 0.0) if int(taken) == 1 else (None, float(wait))

    async def release(self, rate_class: RateClass, token: str, period: float) -> None:
        """See :meth:`cloud.coda_io.limiter.LimiterBackend.release`."""
        with self._errors():
            await self._release(keys=[self._key(rate_class)], args=[repr(self._now()), repr(period), token])

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except RedisError as exc:
            raise TransportError(f"the rate-limit Redis could not be used: {type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        """Close the Redis client if this backend created it.  Idempotent."""
        if self._owned:
            await self._redis.aclose()
