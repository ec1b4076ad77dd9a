"""Blocking facade of :class:`~cloud.azure.client.AzureBlobClient`."""

from __future__ import annotations

from cloud.common.sync import SyncClient

from .client import AzureBlobClient

__all__ = ["SyncAzureBlobClient"]


class SyncAzureBlobClient(SyncClient[AzureBlobClient]):
    """Blocking facade of :class:`AzureBlobClient`: same methods, plain calls."""

    _async_class = AzureBlobClient
