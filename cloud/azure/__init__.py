"""Azure Blob Storage: :class:`AzureBlobClient` (``azure-storage-blob`` aio + ``azure-identity``)
and its blocking facade :class:`SyncAzureBlobClient`; Virtual Machines (:class:`AzureVMClient`)
and Functions (:class:`AzureFunctionsClient`) on the async management SDKs, with theirs (extra
``azure-compute``: the management SDKs are imported on a client's first call, not here)."""

from __future__ import annotations

from cloud.common.extras import require_extra

require_extra("azure", "azure.storage.blob.aio", "azure.identity.aio", "aiohttp")

from .client import AzureBlobClient  # noqa: E402
from .functions import AzureFunctionsClient  # noqa: E402
from .sync import SyncAzureBlobClient, SyncAzureFunctionsClient, SyncAzureVMClient  # noqa: E402
from .vms import AzureVMClient  # noqa: E402

__all__ = [
    "AzureBlobClient",
    "AzureFunctionsClient",
    "AzureVMClient",
    "SyncAzureBlobClient",
    "SyncAzureFunctionsClient",
    "SyncAzureVMClient",
]
