"""A :class:`~cloud.coda_io.limiter.LimiterBackend` in an SQLite file: one token's limits
shared by every process of one machine, with no server to run.

Each step is one ``BEGIN IMMEDIATE`` transaction (SQLite's write lock, taken up front), so
two processes never both see the last free token.  Time is the wall clock
(:func:`time.time`), the one clock every process of a machine shares.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from os import PathLike

import anyio.to_thread

from cloud.common.exceptions import ConfigurationError, TransportError

from .limiter import DEFAULT_LEASE
from .types import RateClass

__all__ = ["SQLiteLimiterBackend"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS coda_rate_tokens (
    namespace TEXT NOT NULL,
    rate_class TEXT NOT NULL,
    token TEXT NOT NULL,
    returns_at REAL NOT NULL,
    PRIMARY KEY (namespace, rate_class, token)
)
"""


class SQLiteLimiterBackend:
    """Rate-limit tokens kept in the SQLite file at ``path`` (created if missing).

    ``CodaRateLimiter(limits, backend=SQLiteLimiterBackend("/var/tmp/coda-limits.db"))`` in
    every process that uses one API token keeps them, together, within that token's limits.
    ``namespace`` separates tokens sharing one file; ``lease`` bounds how long a request may
    hold a token (after that it counts as spent: this frees the tokens of a process that
    died mid-request); ``clock`` returns seconds on a clock shared by every process
    (default :func:`time.time`).  The file must be on a local disk (SQLite's locking is
    unreliable on network file systems).  Construction does no I/O.
    """

    def __init__(
        self,
        path: str | PathLike[str],
        *,
        namespace: str = "default",
        lease: float = DEFAULT_LEASE,
        clock: Callable[[], float] | None = None,
        busy_timeout: float = 30.0,
    ) -> None:
        if not lease > 0:
            raise ConfigurationError("SQLiteLimiterBackend: lease must be positive")
        self.path = path
        self.namespace = namespace
        self.lease = float(lease)
        self._clock = clock if clock is not None else time.time
        self._busy_timeout = busy_timeout
        self._connection: sqlite3.Connection | None = None
        self._mutex = threading.Lock()  # one connection, used from worker threads in turn

    def __repr__(self) -> str:
        return f"<SQLiteLimiterBackend {str(self.path)!r} namespace={self.namespace!r}>"

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            # isolation_level=None: no implicit transactions, ours are explicit.
            connection = sqlite3.connect(
                self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
            )
            # Write-ahead logging: a step commits without an fsync or a journal file, so the
            # write lock is held for microseconds and processes woken together at a window's
            # end are served in turn instead of backing off in SQLite's busy handler.  Losing
            # the last steps in a power cut only forgets tokens that have expired by then.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(_SCHEMA)
            self._connection = connection
        return self._connection

    def _try_acquire(self, rate_class: RateClass, capacity: int, period: float) -> tuple[str | None, float]:
        key = (self.namespace, rate_class)
        with self._mutex, self._errors():
            db = self._connect()
            db.execute("BEGIN IMMEDIATE")
            try:
                now = self._clock()  # read under the write lock: no other process is between
                db.execute(
                    "DELETE FROM coda_rate_tokens WHERE namespace = ? AND rate_class = ? AND returns_at <= ?",
                    (*key, now),
                )
                count, earliest = db.execute(
                    "SELECT COUNT(*), MIN(returns_at) FROM coda_rate_tokens WHERE namespace = ? AND rate_class = ?",
                    key,
                ).fetchone()
                token: str | None = None
                if count < capacity:
                    token = uuid.uuid4().hex
                    db.execute(
                        "INSERT INTO coda_rate_tokens VALUES (?, ?, ?, ?)", (*key, token, now + self.lease + period)
                    )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        if token is not None:
            return token, 0.0
        # A held token returns no sooner than one period from now; a spent one at its time.
        return None, min(float(earliest), now + period) - now

    def _release(self, rate_class: RateClass, token: str, period: float) -> None:
        with self._mutex, self._errors():
            self._connect().execute(
                "UPDATE coda_rate_tokens SET returns_at = ? WHERE namespace = ? AND rate_class = ? AND token = ?",
                (self._clock() + period, self.namespace, rate_class, token),
            )

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise TransportError(f"the rate-limit file {str(self.path)!r} could not be used: {exc}") from exc

    async def try_acquire(self, rate_class: RateClass, capacity: int, period: float) -> tuple[str | None, float]:
        """See :meth:`cloud.coda_io.limiter.LimiterBackend.try_acquire`."""
        return await anyio.to_thread.run_sync(self._try_acquire, rate_class, capacity, period)

    async def release(self, rate_class: RateClass, token: str, period: float) -> None:
        """See :meth:`cloud.coda_io.limiter.LimiterBackend.release`."""
        await anyio.to_thread.run_sync(self._release, rate_class, token, period)

    async def aclose(self) -> None:
        """Close the database connection.  Idempotent; a later call reopens it."""
        with self._mutex:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
