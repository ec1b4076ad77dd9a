"""Local storage: a folder tree or memory, with the same contract as the cloud providers."""

from __future__ import annotations

from .client import LocalStorageClient
from .sync import SyncLocalStorageClient

__all__ = ["LocalStorageClient", "SyncLocalStorageClient"]
