"""Contract backend: Azure Blob Storage on Azurite (Microsoft's emulator), via a connection string."""

from __future__ import annotations

from typing import Any

import pytest

from cloud.azure import AzureBlobClient, SyncAzureBlobClient

ASYNC_CLASS = AzureBlobClient
SYNC_CLASS = SyncAzureBlobClient


def client_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A client of the session's Azurite (small blocks so 3 MiB files go in parallel blocks)."""
    azurite = request.getfixturevalue("azurite")
    return {"connection_string": azurite.extra["connection_string"], "block_size": 1024 * 1024}
