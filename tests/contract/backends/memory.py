"""Contract backend: the in-memory local store."""

from __future__ import annotations

from typing import Any

import pytest

from cloud.local import LocalStorageClient, SyncLocalStorageClient

ASYNC_CLASS = LocalStorageClient
SYNC_CLASS = SyncLocalStorageClient


def client_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A fresh in-memory store per client."""
    return {}
