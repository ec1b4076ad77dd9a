"""Blocking facade of :class:`~cloud.aws.client.S3Client`."""

from __future__ import annotations

from cloud.common.sync import SyncClient

from .client import S3Client
from .ec2 import EC2Client
from .lambda_ import LambdaClient

__all__ = ["SyncEC2Client", "SyncLambdaClient", "SyncS3Client"]


class SyncS3Client(SyncClient[S3Client]):
    """Blocking facade of :class:`S3Client`: same constructor, same methods, plain calls."""

    _async_class = S3Client


class SyncEC2Client(SyncClient[EC2Client]):
    """Blocking facade of :class:`EC2Client`: same constructor, same methods, plain calls."""

    _async_class = EC2Client


class SyncLambdaClient(SyncClient[LambdaClient]):
    """Blocking facade of :class:`LambdaClient`: same constructor, same methods, plain calls."""

    _async_class = LambdaClient
