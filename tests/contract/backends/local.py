"""Contract backend: the filesystem local store, rooted in a temp folder."""

from __future__ import annotations

from typing import Any

import pytest

from cloud.local import LocalStorageClient, SyncLocalStorageClient

ASYNC_CLASS = LocalStorageClient
SYNC_CLASS = SyncLocalStorageClient


def client_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A store rooted in the test's temp folder."""
    tmp = request.getfixturevalue("tmp_path_factory").mktemp("store")
    return {"root": str(tmp)}
