"""Google Cloud Storage: :class:`GCSClient` on gcloud-aio-storage and its blocking facade
:class:`SyncGCSClient`; Compute Engine (:class:`ComputeEngineClient`) and Cloud Functions
(:class:`CloudFunctionsClient`) over httpx with gcloud-aio-auth tokens, with theirs (extra ``gcp``: ``pip install 'codomyrmex-cloud[gcp]'``)."""

from __future__ import annotations

from cloud.common.extras import require_extra

require_extra("gcp", "gcloud.aio.storage", "google_crc32c", "aiohttp")

from .client import GCSClient  # noqa: E402
from .compute import ComputeEngineClient  # noqa: E402
from .errors import ChecksumMismatchError  # noqa: E402
from .functions import CloudFunctionsClient  # noqa: E402
from .sync import SyncCloudFunctionsClient, SyncComputeEngineClient, SyncGCSClient  # noqa: E402

__all__ = [
    "ChecksumMismatchError",
    "CloudFunctionsClient",
    "ComputeEngineClient",
    "GCSClient",
    "SyncCloudFunctionsClient",
    "SyncComputeEngineClient",
    "SyncGCSClient",
]
