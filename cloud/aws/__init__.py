"""Amazon S3 and S3-compatible stores, on aiobotocore: :class:`S3Client` and its blocking
facade :class:`SyncS3Client`; EC2 (:class:`EC2Client`) and Lambda (:class:`LambdaClient`)
with theirs.  Needs the ``aws`` extra: ``pip install 'codomyrmex-cloud[aws]'``.

Importing this package checks that the SDK is installed but loads none of it: the client
classes load on first access and aiobotocore on a client's first call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cloud._lazy import check_installed, lazy_exports

check_installed("aws", "aiobotocore", "botocore")

if TYPE_CHECKING:
    from .client import S3Client
    from .ec2 import EC2Client
    from .lambda_ import LambdaClient
    from .sync import SyncEC2Client, SyncLambdaClient, SyncS3Client

__getattr__, __dir__ = lazy_exports(
    globals(),
    {
        "EC2Client": ".ec2",
        "LambdaClient": ".lambda_",
        "S3Client": ".client",
        "SyncEC2Client": ".sync",
        "SyncLambdaClient": ".sync",
        "SyncS3Client": ".sync",
    },
)

__all__ = ["EC2Client", "LambdaClient", "S3Client", "SyncEC2Client", "SyncLambdaClient", "SyncS3Client"]
