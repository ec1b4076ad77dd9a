"""Blocking facade of :class:`~cloud.gcp.client.GCSClient`."""

from __future__ import annotations

from cloud.common.sync import SyncClient

from .client import GCSClient

__all__ = ["SyncGCSClient"]


class SyncGCSClient(SyncClient[GCSClient]):
    """Blocking facade of :class:`GCSClient`: same constructor and methods, plain calls."""

    _async_class = GCSClient
