"""Azure Blob Storage: :class:`AzureBlobClient` (``azure-storage-blob`` aio + ``azure-identity``)
and its blocking facade :class:`SyncAzureBlobClient`."""

from __future__ import annotations

from cloud.common.extras import require_extra

require_extra("azure", "azure.storage.blob.aio", "azure.identity.aio", "aiohttp")

from .client import AzureBlobClient  # noqa: E402
from .sync import SyncAzureBlobClient  # noqa: E402

__all__ = ["AzureBlobClient", "SyncAzureBlobClient"]
