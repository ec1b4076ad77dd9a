"""Blocking facade of :class:`~cloud.azure.client.AzureBlobClient`."""

from __future__ import annotations

from cloud.common.sync import SyncClient

from .client import AzureBlobClient
from .functions import AzureFunctionsClient
from .vms import AzureVMClient

__all__ = ["SyncAzureBlobClient", "SyncAzureFunctionsClient", "SyncAzureVMClient"]


class SyncAzureBlobClient(SyncClient[AzureBlobClient]):
    """Blocking facade of :class:`AzureBlobClient`: same methods, plain calls."""

    _async_class = AzureBlobClient


class SyncAzureVMClient(SyncClient[AzureVMClient]):
    """Blocking facade of :class:`AzureVMClient`: same constructor and methods, plain calls."""

    _async_class = AzureVMClient


class SyncAzureFunctionsClient(SyncClient[AzureFunctionsClient]):
    """Blocking facade of :class:`AzureFunctionsClient`: same constructor and methods, plain calls."""

    _async_class = AzureFunctionsClient
