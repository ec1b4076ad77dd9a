"""codomyrmex-cloud: one async, typed interface to S3, GCS, Azure Blob, local storage and Coda.

``import cloud`` stays light: providers load only when used (``cloud.aws``, ``cloud.gcp``,
``cloud.azure``, ``cloud.local``, ``cloud.coda_io``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["__version__", "open_storage", "parse_storage_url"]

__version__ = "0.1.0"

if TYPE_CHECKING:
    from cloud.common.base import StorageClient
    from cloud.urls import StorageURL


def open_storage(url: str, **options: Any) -> StorageClient:
    """Return the async storage client for ``url`` (``s3://``, ``gs://``, ``az://``,
    ``file:///dir`` or ``memory://``); see :func:`cloud.urls.open_storage`."""
    from cloud.urls import open_storage as _open

    return _open(url, **options)


def parse_storage_url(url: str) -> StorageURL:
    """Parse a storage URL into scheme, bucket and key; see :func:`cloud.urls.parse_storage_url`."""
    from cloud.urls import parse_storage_url as _parse

    return _parse(url)
