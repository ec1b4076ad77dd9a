"""Logging: one stdlib logger per provider, structured ``extra=`` fields, secrets redacted."""

from __future__ import annotations

import logging

__all__ = ["get_logger"]


def get_logger(provider: str) -> logging.Logger:
    """The logger of a provider: ``cloud.<provider>`` (``cloud.aws``, ``cloud.coda``...).

    Records carry structured fields in ``extra``: ``provider``, ``operation``, ``attempt``,
    ``error`` and, where known, ``status_code``; nothing logged holds a secret.
    """
    return logging.getLogger(f"cloud.{provider}")
