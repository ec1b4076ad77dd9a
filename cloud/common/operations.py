"""The one place where a client's calls get timeouts, retries, error mapping, stats and logs.

Each client owns an :class:`OperationRunner` built with its provider's error table (a
``translate`` function from vendor exceptions to the tree in :mod:`cloud.common.exceptions`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from .deadline import call_deadline
from .exceptions import CloudError, RequestTimeoutError
from .logs import get_logger
from .redaction import redact
from .retry import RetryPolicy
from .stats import ClientStats

__all__ = ["ErrorTranslator", "OperationRunner"]

T = TypeVar("T")

ErrorTranslator = Callable[[BaseException, str], "CloudError | None"]
"""A provider's error table: maps a vendor exception raised by ``operation`` to our tree,
or returns ``None`` when the exception is not the vendor's (it then propagates unchanged)."""


class OperationRunner:
    """Runs client operations with one timeout, one retry policy and one error table."""

    def __init__(
        self,
        *,
        provider: str,
        translate: ErrorTranslator,
        retry: RetryPolicy | None = None,
        stats: ClientStats | None = None,
        timeout: float | None = None,
        secrets: Callable[[], Iterable[str]] = lambda: (),
        logger: logging.Logger | None = None,
    ) -> None:
        self.provider = provider
        self.translate = translate
        self.retry = retry if retry is not None else RetryPolicy()
        self.stats = stats if stats is not None else ClientStats()
        self.timeout = timeout
        self.secrets = secrets
        self.logger = logger if logger is not None else get_logger(provider)

    def to_cloud_error(self, exc: BaseException, operation: str) -> CloudError | None:
        """Translate ``exc`` into our tree (``None`` if it is neither ours nor the vendor's)."""
        if isinstance(exc, CloudError):
            err = exc
        elif isinstance(exc, TimeoutError):
            err = RequestTimeoutError(f"{operation} timed out")
        else:
            mapped = self.translate(exc, operation)
            if mapped is None:
                return None
            err = mapped
        if err.provider is None:
            err.provider = self.provider
        if err.operation is None:
            err.operation = operation
        secrets = list(self.secrets())
        err.message = redact(err.message, secrets)
        err.args = (err.message,)
        body = getattr(err, "body", None)
        if isinstance(body, str):
            err.body = redact(body, secrets)  # type: ignore[attr-defined]
        return err

    @contextmanager
    def errors(self, operation: str) -> Iterator[None]:
        """Translate vendor errors raised in the block (no retry); counts them in ``stats``."""
        try:
            yield
        except Exception as exc:
            err = self.to_cloud_error(exc, operation)
            if err is None:
                raise
            self.stats.record_error(err)
            if err is exc:
                raise
            raise err from exc

    async def call(
        self,
        operation: str,
        fn: Callable[[], Awaitable[T]],
        *,
        idempotent: bool = True,
        timeout: float | None = None,
    ) -> T:
        """Run ``fn`` (one request) with retries, error translation, stats and logs, every
        attempt and back-off within one deadline (``timeout``, else the runner's; an enclosing
        call's deadline when that comes first)."""
        limit = timeout if timeout is not None else self.timeout

        async def attempt() -> T:
            self.stats.record_request()
            try:
                return await fn()
            except Exception as exc:
                err = self.to_cloud_error(exc, operation)
                if err is None:
                    raise
                self.stats.record_error(err)
                if err is exc:
                    raise
                raise err from exc

        def on_retry(exc: BaseException, number: int, delay: float) -> None:
            self.stats.record_retry()
            self.logger.info(
                "retrying %s after %s (retry %d in %.2fs)",
                operation,
                type(exc).__name__,
                number,
                delay,
                extra={
                    "provider": self.provider,
                    "operation": operation,
                    "attempt": number + 1,
                    "error": type(exc).__name__,
                    "status_code": getattr(exc, "status_code", None),
                    "delay": delay,
                },
            )

        try:
            if limit is None:
                return await self.retry.run(attempt, idempotent=idempotent, on_retry=on_retry)
            with call_deadline(limit, operation, provider=self.provider, on_expiry=self.stats.record_error):
                return await self.retry.run(attempt, idempotent=idempotent, on_retry=on_retry)
        except CloudError as exc:
            self.logger.debug(
                "%s failed: %s",
                operation,
                exc,
                extra={
                    "provider": self.provider,
                    "operation": operation,
                    "error": type(exc).__name__,
                    "status_code": getattr(exc, "status_code", None),
                },
            )
            raise
