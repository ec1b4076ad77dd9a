"""Coda.io: every operation of Coda API v1 as a typed async method, with rate-limit pacing,
retries, awaited mutations and page export.

``from cloud.coda_io import CodaClient, SyncCodaClient``; see :class:`CodaClient`.
"""

from __future__ import annotations

from .client import DEFAULT_BASE_URL, CodaClient, CodaPaginator
from .limiter import CodaRateLimiter, CodaRateLimits, LimiterBackend, SharedWindowLimiter, SlidingWindowLimiter
from .limiter_sqlite import SQLiteLimiterBackend
from .models import (
    CodaModel,
    Column,
    Control,
    CreatedDoc,
    Doc,
    Folder,
    Formula,
    MutationResult,
    MutationStatus,
    Pack,
    Page,
    PageContentExport,
    Permission,
    Row,
    Table,
    User,
)
from .spec import OperationSpec
from .sync import SyncCodaClient
from .types import JSONMapping, JSONObject, OutputFormat, RateClass

__all__ = [
    "DEFAULT_BASE_URL",
    "CodaClient",
    "CodaModel",
    "CodaPaginator",
    "CodaRateLimiter",
    "CodaRateLimits",
    "Column",
    "Control",
    "CreatedDoc",
    "Doc",
    "Folder",
    "Formula",
    "JSONMapping",
    "JSONObject",
    "LimiterBackend",
    "MutationResult",
    "MutationStatus",
    "OperationSpec",
    "OutputFormat",
    "Pack",
    "Page",
    "PageContentExport",
    "Permission",
    "RateClass",
    "Row",
    "SQLiteLimiterBackend",
    "SharedWindowLimiter",
    "SlidingWindowLimiter",
    "SyncCodaClient",
    "Table",
    "User",
]
