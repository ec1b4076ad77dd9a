"""Amazon S3 and S3-compatible stores, on aiobotocore: :class:`S3Client` and its blocking
facade :class:`SyncS3Client`.  Needs the ``aws`` extra: ``pip install 'codomyrmex-cloud[aws]'``."""

from __future__ import annotations

from cloud.common.extras import require_extra

require_extra("aws", "aiobotocore", "botocore")

from .client import S3Client  # noqa: E402
from .sync import SyncS3Client  # noqa: E402

__all__ = ["S3Client", "SyncS3Client"]
