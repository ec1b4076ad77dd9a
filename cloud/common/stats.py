"""Per-client metrics: requests, retries, errors by class, bytes moved."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ClientStats"]


@dataclass
class ClientStats:
    """Counters kept by every client (``client.stats``), so users can see how requests went
    and how errors were classified without a tracing stack."""

    requests: int = 0
    retries: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    bytes_sent: int = 0
    bytes_received: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record_request(self) -> None:
        """Count one request attempt."""
        with self._lock:
            self.requests += 1

    def record_retry(self) -> None:
        """Count one retry."""
        with self._lock:
            self.retries += 1

    def record_error(self, exc: BaseException) -> None:
        """Count one error under its exception class name."""
        with self._lock:
            self.errors[type(exc).__name__] += 1

    def add_sent(self, n: int) -> None:
        """Add ``n`` bytes sent."""
        with self._lock:
            self.bytes_sent += n

    def add_received(self, n: int) -> None:
        """Add ``n`` bytes received."""
        with self._lock:
            self.bytes_received += n

    def as_dict(self) -> dict[str, Any]:
        """A plain snapshot of the counters."""
        with self._lock:
            return {
                "requests": self.requests,
                "retries": self.retries,
                "errors": dict(self.errors),
                "bytes_sent": self.bytes_sent,
                "bytes_received": self.bytes_received,
            }
