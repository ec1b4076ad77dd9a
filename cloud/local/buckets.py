"""Bucket listing for ``cloud ls`` of a local store (the provider registry's ``buckets`` entry)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import anyio.to_thread

from .client import LocalStorageClient
from .stores import MemoryStore

__all__ = ["iter_buckets"]


async def iter_buckets(client: LocalStorageClient) -> AsyncIterator[str]:
    """The buckets of the store in name order: the folders under the root (not hidden
    ones such as ``.cloud-meta``), or the in-memory buckets."""
    store = client._store
    if isinstance(store, MemoryStore):
        names = sorted(store._buckets)
    else:
        root = client.root
        assert root is not None

        def folders() -> list[str]:
            with os.scandir(root) as entries:
                return sorted(e.name for e in entries if e.is_dir() and not e.name.startswith("."))

        names = await anyio.to_thread.run_sync(folders)
    for name in names:
        yield name
