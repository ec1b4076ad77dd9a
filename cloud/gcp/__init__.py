"""Google Cloud Storage: :class:`GCSClient` on gcloud-aio-storage and its blocking facade
:class:`SyncGCSClient`; Compute Engine (:class:`ComputeEngineClient`) and Cloud Functions
(:class:`CloudFunctionsClient`) over httpx with gcloud-aio-auth tokens, with theirs (extra ``gcp``: ``pip install 'codomyrmex-cloud[gcp]'``).

Importing this package checks that the SDK is installed but loads none of it: the client
classes load on first access."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cloud._lazy import check_installed, lazy_exports

check_installed("gcp", "gcloud.aio.storage", "google_crc32c", "aiohttp")

if TYPE_CHECKING:
    from .client import GCSClient
    from .compute import ComputeEngineClient
    from .errors import ChecksumMismatchError
    from .functions import CloudFunctionsClient
    from .sync import SyncCloudFunctionsClient, SyncComputeEngineClient, SyncGCSClient

__getattr__, __dir__ = lazy_exports(
    globals(),
    {
        "ChecksumMismatchError": ".errors",
        "CloudFunctionsClient": ".functions",
        "ComputeEngineClient": ".compute",
        "GCSClient": ".client",
        "SyncCloudFunctionsClient": ".sync",
        "SyncComputeEngineClient": ".sync",
        "SyncGCSClient": ".sync",
    },
)

__all__ = [
    "ChecksumMismatchError",
    "CloudFunctionsClient",
    "ComputeEngineClient",
    "GCSClient",
    "SyncCloudFunctionsClient",
    "SyncComputeEngineClient",
    "SyncGCSClient",
]
