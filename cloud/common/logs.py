"""Logging: one stdlib logger per provider, structured ``extra=`` fields, secrets redacted."""

from __future__ import annotations

import logging

from .redaction import redact

__all__ = ["RedactingFilter", "get_logger", "redact_library_logger"]


class RedactingFilter(logging.Filter):
    """Rewrites a record's message so that tokens, keys and URL signatures read ``***``.

    Attached to loggers of the HTTP libraries we drive (``httpx`` logs every request URL at
    INFO, and a signed download link carries its signature in the query string).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


_FILTER = RedactingFilter()


def redact_library_logger(name: str) -> None:
    """Attach the redacting filter to a third-party logger (once)."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


def get_logger(provider: str) -> logging.Logger:
    """The logger of a provider: ``cloud.<provider>`` (``cloud.aws``, ``cloud.coda``...).

    Records carry structured fields in ``extra``: ``provider``, ``operation``, ``attempt``,
    ``error`` and, where known, ``status_code``; nothing logged holds a secret.
    """
    logger = logging.getLogger(f"cloud.{provider}")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
