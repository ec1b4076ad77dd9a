"""Storage URLs (``s3://bucket/key``, ``gs://``, ``az://``, ``file:///dir``, ``memory://``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from cloud.common import registry
from cloud.common.exceptions import ConfigurationError

if TYPE_CHECKING:
    from cloud.common.base import StorageClient

__all__ = ["SCHEMES", "StorageURL", "open_storage", "parse_storage_url"]

SCHEMES = registry.schemes()
"""The built-in schemes; :func:`cloud.common.registry.schemes` also lists registered ones."""


@dataclass(frozen=True)
class StorageURL:
    """A parsed storage URL.  For ``file://`` URLs, ``root`` is the folder the local client
    is rooted at and ``bucket`` its first level; for cloud URLs ``root`` is ``None``."""

    scheme: str
    bucket: str
    key: str
    root: str | None = None

    def __str__(self) -> str:
        if self.scheme == "file":
            return "file://" + os.path.join(self.root or "/", self.bucket, self.key)
        return f"{self.scheme}://{self.bucket}/{self.key}" if self.key else f"{self.scheme}://{self.bucket}"


def parse_storage_url(url: str) -> StorageURL:
    """Parse a storage URL; a plain path (no scheme) is a local ``file://`` path.

    ``file:///data/photos/2024/a.jpg`` becomes root ``/data``, bucket ``photos``, key
    ``2024/a.jpg``: a local bucket is a folder under the root.
    """
    if "://" not in url:
        return _file_url(os.path.abspath(os.path.expanduser(url)), trailing=url.endswith("/"))
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    registry.for_scheme(scheme)  # an unknown scheme raises ConfigurationError
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ConfigurationError("file:// URLs must be local: file:///path")
        path = unquote(parts.path)
        return _file_url(os.path.abspath(path or "/"), trailing=path.endswith("/"))
    return StorageURL(scheme, parts.netloc, unquote(parts.path.lstrip("/")))


def _file_url(path: str, *, trailing: bool) -> StorageURL:
    parent, leaf = os.path.split(path.rstrip("/") or "/")
    if not leaf:
        raise ConfigurationError("a file:// URL needs at least one folder below /")
    # The first level below the root is the bucket: root is the parent of that folder.
    pieces = path.strip("/").split("/")
    root = "/" if len(pieces) == 1 else "/" + "/".join(pieces[:-1])
    if os.path.isdir(path) or trailing:
        return StorageURL("file", pieces[-1], "", root=root if len(pieces) > 1 else "/")
    # A file path: its folder is the bucket, its name the key.
    return StorageURL("file", os.path.basename(parent) or leaf, leaf, root=os.path.dirname(parent) or "/")


def open_storage(url: str, **options: Any) -> StorageClient:
    """Return the async storage client for a URL's scheme, built with ``options``.

    The scheme picks the provider in :mod:`cloud.common.registry`: ``s3://`` ->
    :class:`cloud.aws.S3Client`, ``gs://`` -> :class:`cloud.gcp.GCSClient`, ``az://`` ->
    :class:`cloud.azure.AzureBlobClient`, ``file:///dir`` (or a plain path) -> a
    :class:`cloud.local.LocalStorageClient` rooted at ``/dir`` (buckets are its folders),
    ``memory://`` -> an in-memory one, and any registered scheme -> its client.  Only the
    URL and ``options`` configure the client (each client reads its own environment
    variables).  A provider whose extra is not installed raises
    :class:`~cloud.common.exceptions.MissingDependencyError`; an unknown scheme
    :class:`~cloud.common.exceptions.ConfigurationError`.
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else "file"
    return registry.for_scheme(scheme).create(url, environ={}, **options)
