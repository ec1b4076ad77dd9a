"""Storage URLs (``s3://bucket/key``, ``gs://``, ``az://``, ``file:///dir``, ``memory://``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from cloud.common.base import StorageClient
from cloud.common.exceptions import ConfigurationError

__all__ = ["SCHEMES", "StorageURL", "open_storage", "parse_storage_url"]

SCHEMES = ("s3", "gs", "az", "file", "memory")


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
    if scheme not in SCHEMES:
        raise ConfigurationError(f"unsupported storage URL scheme {scheme!r}: use one of {', '.join(SCHEMES)}")
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

    ``s3://`` -> :class:`cloud.aws.S3Client`, ``gs://`` -> :class:`cloud.gcp.GCSClient`,
    ``az://`` -> :class:`cloud.azure.AzureBlobClient`, ``file:///dir`` -> a
    :class:`cloud.local.LocalStorageClient` rooted at ``/dir`` (buckets are its folders),
    ``memory://`` -> an in-memory one.  A provider whose extra is not installed raises
    :class:`~cloud.common.exceptions.MissingDependencyError`.
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else "file"
    client: StorageClient
    if scheme == "s3":
        from cloud.aws import S3Client  # type: ignore[attr-defined,unused-ignore]

        client = S3Client(**options)
        return client
    if scheme == "gs":
        from cloud.gcp import GCSClient  # type: ignore[attr-defined,unused-ignore]

        client = GCSClient(**options)
        return client
    if scheme == "az":
        from cloud.azure import AzureBlobClient  # type: ignore[attr-defined,unused-ignore]

        client = AzureBlobClient(**options)
        return client
    from cloud.local import LocalStorageClient

    if scheme == "memory":
        return LocalStorageClient(**options)
    if scheme == "file":
        path = unquote(urlsplit(url).path) if "://" in url else url
        return LocalStorageClient(root=os.path.abspath(os.path.expanduser(path)), **options)
    raise ConfigurationError(f"unsupported storage URL scheme {scheme!r}: use one of {', '.join(SCHEMES)}")
