"""Blocking facade of :class:`~cloud.local.client.LocalStorageClient`."""

from __future__ import annotations

from cloud.common.sync import SyncClient

from .client import LocalStorageClient

__all__ = ["SyncLocalStorageClient"]


class SyncLocalStorageClient(SyncClient[LocalStorageClient]):
    """Blocking facade of :class:`LocalStorageClient`: same methods, plain calls."""

    _async_class = LocalStorageClient
