"""Blocking facade of :class:`~cloud.aws.client.S3Client`."""

from __future__ import annotations

from cloud.common.sync import SyncClient

from .client import S3Client

__all__ = ["SyncS3Client"]


class SyncS3Client(SyncClient[S3Client]):
    """Blocking facade of :class:`S3Client`: same constructor, same methods, plain calls."""

    _async_class = S3Client
