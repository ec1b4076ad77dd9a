"""Coda.io: every operation of Coda API v1 as a typed async method, with rate-limit pacing,
retries, awaited mutations and page export.

``from cloud.coda_io import CodaClient, SyncCodaClient``; see :class:`CodaClient`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .client import DEFAULT_BASE_URL, CodaClient, CodaPaginator
from .limiter import CodaRateLimiter, CodaRateLimits, LimiterBackend, SharedWindowLimiter, SlidingWindowLimiter
from .limiter_sqlite import SQLiteLimiterBackend
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

if TYPE_CHECKING:
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

# The models load on first use: importing the client does not import several hundred classes.
_MODELS = frozenset(
    {
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
    }
)


def __getattr__(name: str) -> object:
    """The model classes, imported from :mod:`cloud.coda_io.models` when first asked for."""
    if name in _MODELS:
        from . import models

        value: object = getattr(models, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
