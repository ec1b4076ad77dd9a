"""Coda.io: every operation of Coda API v1 as a typed async method, with rate-limit pacing,
retries, awaited mutations and page export.

``from cloud.coda_io import CodaClient, SyncCodaClient``; see :class:`CodaClient`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cloud._lazy import lazy_exports

if TYPE_CHECKING:
    from .client import DEFAULT_BASE_URL, CodaClient, CodaPaginator
    from .limiter import CodaRateLimiter, CodaRateLimits, LimiterBackend, SharedWindowLimiter, SlidingWindowLimiter
    from .limiter_sqlite import SQLiteLimiterBackend
    from .models import (
        CodaEnum,
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
    from .rows import (
        AmbiguousColumnError,
        Record,
        TableColumns,
        TableRow,
        UnknownColumnError,
        records_to_dataframe,
        row_query,
    )
    from .spec import OperationSpec
    from .sync import SyncCodaClient
    from .types import JSONMapping, JSONObject, OutputFormat, RateClass

# Every name loads on first use: ``import cloud.coda_io`` imports neither httpx nor the
# client, and importing the client does not import several hundred model classes.
_EXPORTS = {
    **dict.fromkeys(("DEFAULT_BASE_URL", "CodaClient", "CodaPaginator"), ".client"),
    **dict.fromkeys(
        ("CodaRateLimiter", "CodaRateLimits", "LimiterBackend", "SharedWindowLimiter", "SlidingWindowLimiter"),
        ".limiter",
    ),
    "SQLiteLimiterBackend": ".limiter_sqlite",
    **dict.fromkeys(
        (
            "CodaEnum",
            "CodaModel",
            "Column",
            "Control",
            "CreatedDoc",
            "Doc",
            "Folder",
            "Formula",
            "MutationResult",
            "MutationStatus",
            "Pack",
            "Page",
            "PageContentExport",
            "Permission",
            "Row",
            "Table",
            "User",
        ),
        ".models",
    ),
    **dict.fromkeys(
        (
            "AmbiguousColumnError",
            "Record",
            "TableColumns",
            "TableRow",
            "UnknownColumnError",
            "records_to_dataframe",
            "row_query",
        ),
        ".rows",
    ),
    "OperationSpec": ".spec",
    "SyncCodaClient": ".sync",
    **dict.fromkeys(("JSONMapping", "JSONObject", "OutputFormat", "RateClass"), ".types"),
}

__getattr__, __dir__ = lazy_exports(globals(), _EXPORTS)


__all__ = [
    "DEFAULT_BASE_URL",
    "AmbiguousColumnError",
    "CodaEnum",
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
    "Record",
    "Row",
    "SQLiteLimiterBackend",
    "SharedWindowLimiter",
    "SlidingWindowLimiter",
    "SyncCodaClient",
    "Table",
    "TableColumns",
    "TableRow",
    "UnknownColumnError",
    "User",
    "records_to_dataframe",
    "row_query",
]
