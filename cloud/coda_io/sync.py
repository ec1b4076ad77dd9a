"""Blocking facade of :class:`~cloud.coda_io.client.CodaClient`."""

from __future__ import annotations

from cloud.common.sync import SyncClient

from .client import CodaClient

__all__ = ["SyncCodaClient"]


class SyncCodaClient(SyncClient[CodaClient]):
    """Blocking facade of :class:`CodaClient`: same constructor, same methods, plain calls;
    listings come back as :class:`~cloud.common.sync.SyncPaginator`."""

    _async_class = CodaClient
