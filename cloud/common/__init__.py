"""Contracts, models, errors, pagination, retries and the sync mechanism shared by every client.

Every name loads from its submodule on first access (``from cloud.common import RetryPolicy``),
so that importing one submodule (``cloud.common.exceptions``) does not import them all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cloud._lazy import lazy_exports

if TYPE_CHECKING:
    from .base import CloudClient, ComputeClient, ServerlessClient, StorageClient
    from .enums import CloudProvider, ResourceState, ResourceType
    from .models import CloudCredentials, CloudResource, ObjectMetadata, TransferResult
    from .objects import ObjectReader, ObjectWriter, SyncObjectReader, SyncObjectWriter
    from .pagination import AsyncPaginator, Page
    from .retry import RetryPolicy
    from .stats import ClientStats
    from .sync import SyncClient, SyncPaginator

__getattr__, __dir__ = lazy_exports(
    globals(),
    {
        **dict.fromkeys(("CloudClient", "ComputeClient", "ServerlessClient", "StorageClient"), ".base"),
        **dict.fromkeys(("CloudProvider", "ResourceState", "ResourceType"), ".enums"),
        **dict.fromkeys(("CloudCredentials", "CloudResource", "ObjectMetadata", "TransferResult"), ".models"),
        **dict.fromkeys(("ObjectReader", "ObjectWriter", "SyncObjectReader", "SyncObjectWriter"), ".objects"),
        **dict.fromkeys(("AsyncPaginator", "Page"), ".pagination"),
        "RetryPolicy": ".retry",
        "ClientStats": ".stats",
        **dict.fromkeys(("SyncClient", "SyncPaginator"), ".sync"),
    },
)

__all__ = [
    "AsyncPaginator",
    "ClientStats",
    "CloudClient",
    "CloudCredentials",
    "CloudProvider",
    "CloudResource",
    "ComputeClient",
    "ObjectMetadata",
    "ObjectReader",
    "ObjectWriter",
    "Page",
    "ResourceState",
    "ResourceType",
    "RetryPolicy",
    "ServerlessClient",
    "StorageClient",
    "SyncClient",
    "SyncObjectReader",
    "SyncObjectWriter",
    "SyncPaginator",
    "TransferResult",
]
