"""Contracts, models, errors, pagination, retries and the sync mechanism shared by every client."""

from __future__ import annotations

from .base import CloudClient, ComputeClient, ServerlessClient, StorageClient
from .enums import CloudProvider, ResourceState, ResourceType
from .models import CloudCredentials, CloudResource, ObjectMetadata, TransferResult
from .objects import ObjectReader, ObjectWriter, SyncObjectReader, SyncObjectWriter
from .pagination import AsyncPaginator, Page
from .retry import RetryPolicy
from .stats import ClientStats
from .sync import SyncClient, SyncPaginator

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
