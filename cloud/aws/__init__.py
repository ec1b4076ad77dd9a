"""Amazon S3 and S3-compatible stores, on aiobotocore: :class:`S3Client` and its blocking
facade :class:`SyncS3Client`; EC2 (:class:`EC2Client`) and Lambda (:class:`LambdaClient`)
with theirs.  Needs the ``aws`` extra: ``pip install 'codomyrmex-cloud[aws]'``."""

from __future__ import annotations

from cloud.common.extras import require_extra

require_extra("aws", "aiobotocore", "botocore")

from .client import S3Client  # noqa: E402
from .ec2 import EC2Client  # noqa: E402
from .lambda_ import LambdaClient  # noqa: E402
from .sync import SyncEC2Client, SyncLambdaClient, SyncS3Client  # noqa: E402

__all__ = ["EC2Client", "LambdaClient", "S3Client", "SyncEC2Client", "SyncLambdaClient", "SyncS3Client"]
