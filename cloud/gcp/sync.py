"""Blocking facade of :class:`~cloud.gcp.client.GCSClient`."""

from __future__ import annotations

from cloud.common.sync import SyncClient

from .client import GCSClient
from .compute import ComputeEngineClient
from .functions import CloudFunctionsClient

__all__ = ["SyncCloudFunctionsClient", "SyncComputeEngineClient", "SyncGCSClient"]


class SyncGCSClient(SyncClient[GCSClient]):
    """Blocking facade of :class:`GCSClient`: same constructor and methods, plain calls."""

    _async_class = GCSClient


class SyncComputeEngineClient(SyncClient[ComputeEngineClient]):
    """Blocking facade of :class:`ComputeEngineClient`: same constructor and methods, plain calls."""

    _async_class = ComputeEngineClient


class SyncCloudFunctionsClient(SyncClient[CloudFunctionsClient]):
    """Blocking facade of :class:`CloudFunctionsClient`: same constructor and methods, plain calls."""

    _async_class = CloudFunctionsClient
