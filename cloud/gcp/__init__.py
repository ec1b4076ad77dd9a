"""Google Cloud Storage: :class:`GCSClient` on gcloud-aio-storage and its blocking facade
:class:`SyncGCSClient` (extra ``gcp``: ``pip install 'codomyrmex-cloud[gcp]'``)."""

from __future__ import annotations

from cloud.common.extras import require_extra

require_extra("gcp", "gcloud.aio.storage", "google_crc32c", "aiohttp")

from .client import GCSClient  # noqa: E402
from .errors import ChecksumMismatchError  # noqa: E402
from .sync import SyncGCSClient  # noqa: E402

__all__ = ["ChecksumMismatchError", "GCSClient", "SyncGCSClient"]
