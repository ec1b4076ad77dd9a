"""Azure Blob Storage: :class:`AzureBlobClient` (``azure-storage-blob`` aio + ``azure-identity``)
and its blocking facade :class:`SyncAzureBlobClient`; Virtual Machines (:class:`AzureVMClient`)
and Functions (:class:`AzureFunctionsClient`) on the async management SDKs, with theirs (extra
``azure-compute``: the management SDKs are imported on a client's first call, not here).

Importing this package checks that the SDK is installed but loads none of it: the client
classes load on first access."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cloud._lazy import check_installed, lazy_exports

check_installed("azure", "azure.storage.blob", "azure.identity", "aiohttp")

if TYPE_CHECKING:
    from .client import AzureBlobClient
    from .functions import AzureFunctionsClient
    from .sync import SyncAzureBlobClient, SyncAzureFunctionsClient, SyncAzureVMClient
    from .vms import AzureVMClient

__getattr__, __dir__ = lazy_exports(
    globals(),
    {
        "AzureBlobClient": ".client",
        "AzureFunctionsClient": ".functions",
        "AzureVMClient": ".vms",
        "SyncAzureBlobClient": ".sync",
        "SyncAzureFunctionsClient": ".sync",
        "SyncAzureVMClient": ".sync",
    },
)

__all__ = [
    "AzureBlobClient",
    "AzureFunctionsClient",
    "AzureVMClient",
    "SyncAzureBlobClient",
    "SyncAzureFunctionsClient",
    "SyncAzureVMClient",
]
