"""Local storage: a folder tree or memory, with the same contract as the cloud providers.

The client classes load on first access (``from cloud.local import LocalStorageClient``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cloud._lazy import lazy_exports

if TYPE_CHECKING:
    from .client import LocalStorageClient
    from .sync import SyncLocalStorageClient

__getattr__, __dir__ = lazy_exports(globals(), {"LocalStorageClient": ".client", "SyncLocalStorageClient": ".sync"})

__all__ = ["LocalStorageClient", "SyncLocalStorageClient"]
