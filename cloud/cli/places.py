"""What the command line's URLs and paths point at, and the clients that reach them.

``s3://bucket/key``, ``gs://``, ``az://container/blob``, ``memory://`` and local paths
(plain or ``file:///...``).  A local folder is read as a bucket of a
:class:`~cloud.local.LocalStorageClient`: the nearest ancestor holding a ``.cloud-meta``
folder (a store the SDK wrote) is the root, otherwise the folder's parent is, so a plain
folder such as ``examples/data`` is the bucket ``data`` under ``examples``.  Local
destinations are written as plain files (:class:`~cloud.transfer.LocalDir`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from cloud.common.base import StorageClient
from cloud.common.exceptions import ConfigurationError, MissingDependencyError, NotFoundError
from cloud.common.models import ObjectMetadata

__all__ = ["ClientOptions", "Clients", "Target", "UsageError", "local_bucket", "parse_target"]

_CLOUD_SCHEMES = ("s3", "gs", "az", "memory")
_META_DIR = ".cloud-meta"


class UsageError(ConfigurationError):
    """The command line itself is wrong (exit code 2)."""


@dataclass(frozen=True)
class Target:
    """A parsed command-line location."""

    text: str
    scheme: str
    """``s3``, ``gs``, ``az``, ``memory`` or ``file``."""
    bucket: str = ""
    key: str = ""
    path: Path | None = None
    """The absolute local path (``file`` only)."""

    @property
    def is_local(self) -> bool:
        """Whether this is a local path."""
        return self.scheme == "file"

    @property
    def folder_syntax(self) -> bool:
        """Whether the text names a folder by itself: a trailing ``/`` or a bare bucket."""
        return self.text.endswith("/") or (not self.is_local and not self.key)

    def url(self, key: str | None = None) -> str:
        """The URL of ``key`` in this target's bucket (default: the target itself)."""
        if self.is_local:
            assert self.path is not None
            return os.fspath(self.path)
        return f"{self.scheme}://{self.bucket}/{self.key if key is None else key}"


def parse_target(text: str) -> Target:
    """Parse a URL or local path; an unknown scheme or a cloud URL with no bucket is a
    :class:`UsageError`."""
    if not text:
        raise UsageError("empty URL or path")
    if "://" not in text:
        return Target(text, "file", path=Path(os.path.abspath(os.path.expanduser(text))))
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise UsageError(f"file:// URLs must be local (file:///path): {text}")
        path = unquote(parts.path)
        if not path:
            raise UsageError(f"no path in {text}")
        return Target(text, "file", path=Path(os.path.abspath(path)))
    if scheme not in _CLOUD_SCHEMES:
        raise UsageError(f"unsupported URL scheme {scheme!r} in {text}: use s3://, gs://, az://, file:// or a path")
    if not parts.netloc:
        raise UsageError(f"no bucket in {text}: write {scheme}://BUCKET[/KEY]")
    return Target(text, scheme, bucket=parts.netloc, key=unquote(parts.path.lstrip("/")))


def local_bucket(path: Path) -> tuple[Path, str, str]:
    """Map a local path to ``(root, bucket, key)`` of a :class:`~cloud.local.LocalStorageClient`.

    The nearest strict ancestor holding ``.cloud-meta`` is the root (so sidecar metadata is
    found); otherwise a folder is the bucket under its parent and a file is the key under
    its folder.  For folders ``key`` is ``""`` or ends with ``/``.
    """
    is_dir = path.is_dir()
    for ancestor in path.parents:
        if (ancestor / _META_DIR).is_dir() and ancestor != path:
            rel = path.relative_to(ancestor).parts
            if rel:
                key = "/".join(rel[1:])
                if is_dir and key:
                    key += "/"
                return ancestor, rel[0], key
            break
    if is_dir:
        if path.parent == path:
            raise UsageError("the filesystem root cannot be used as a bucket")
        return path.parent, path.name, ""
    folder = path.parent
    if folder.parent == folder:
        raise UsageError(f"{path}: a local file must be inside a folder below /")
    return folder.parent, folder.name, path.name


@dataclass
class ClientOptions:
    """Endpoints and credentials given on the command line (environment variables and
    each provider's credential chain fill in the rest)."""

    endpoints: dict[str, str] = field(default_factory=dict)
    """Endpoint URL per scheme; the key ``*`` applies to every cloud scheme."""
    region: str | None = None
    profile: str | None = None
    project: str | None = None

    @classmethod
    def build(
        cls,
        endpoint_urls: Sequence[str] | None,
        *,
        region: str | None = None,
        profile: str | None = None,
        project: str | None = None,
    ) -> ClientOptions:
        """From ``--endpoint-url [SCHEME=]URL`` values (repeatable)."""
        endpoints: dict[str, str] = {}
        for value in endpoint_urls or ():
            scheme, sep, url = value.partition("=")
            if sep and scheme in ("s3", "gs", "az") and "://" in url:
                endpoints[scheme] = url
            elif "://" in value:
                endpoints["*"] = value
            else:
                raise UsageError(f"--endpoint-url needs a URL (http://host:port) or SCHEME=URL, not {value!r}")
        return cls(endpoints, region, profile, project)

    def endpoint(self, scheme: str) -> str | None:
        """The endpoint given for ``scheme``, if any."""
        return self.endpoints.get(scheme) or self.endpoints.get("*")


class Clients:
    """Creates one client per backend (and per local root) on demand and closes them all."""

    def __init__(self, options: ClientOptions) -> None:
        self.options = options
        self._clients: dict[str, StorageClient] = {}

    def for_target(self, target: Target) -> StorageClient:
        """The client of a cloud target's scheme."""
        return self.get(target.scheme)

    def get(self, scheme: str) -> StorageClient:
        """The client of ``s3``, ``gs``, ``az`` or ``memory``."""
        client = self._clients.get(scheme)
        if client is None:
            client = self._clients[scheme] = self._create(scheme)
        return client

    def local(self, root: Path) -> StorageClient:
        """The local client rooted at ``root``."""
        key = f"file:{root}"
        client = self._clients.get(key)
        if client is None:
            from cloud.local import LocalStorageClient

            client = self._clients[key] = LocalStorageClient(root=root)
        return client

    def _create(self, scheme: str) -> StorageClient:
        endpoint = self.options.endpoint(scheme)
        try:
            if scheme == "s3":
                return self._s3(endpoint)
            if scheme == "gs":
                return self._gcs(endpoint)
            if scheme == "az":
                return self._azure(endpoint)
        except MissingDependencyError:
            raise
        except ImportError as exc:
            extra = {"s3": "aws", "gs": "gcp", "az": "azure"}[scheme]
            raise MissingDependencyError(
                f"{scheme}:// is not available in this installation ({exc}): pip install 'codomyrmex-cloud[{extra}]'",
                extra=extra,
            ) from exc
        from cloud.local import LocalStorageClient

        return LocalStorageClient()

    def _s3(self, endpoint: str | None) -> StorageClient:
        from cloud.aws import S3Client  # type: ignore[attr-defined,unused-ignore]

        if self.options.profile:
            os.environ["AWS_PROFILE"] = self.options.profile
        endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        kwargs: dict[str, Any] = {"endpoint_url": endpoint}
        if self.options.region:
            kwargs["region"] = self.options.region
        client: StorageClient = S3Client(**kwargs)
        return client

    def _gcs(self, endpoint: str | None) -> StorageClient:
        from cloud.gcp import GCSClient  # type: ignore[attr-defined,unused-ignore]

        kwargs: dict[str, Any] = {}
        emulator = os.environ.get("STORAGE_EMULATOR_HOST")
        if endpoint:
            kwargs["api_root"] = endpoint
        elif emulator:
            kwargs["api_root"] = emulator if "://" in emulator else f"http://{emulator}"
        project = self.options.project or os.environ.get("GOOGLE_CLOUD_PROJECT")
        if project:
            kwargs["project"] = project
        client: StorageClient = GCSClient(**kwargs)
        return client

    def _azure(self, endpoint: str | None) -> StorageClient:
        from cloud.azure import AzureBlobClient  # type: ignore[attr-defined,unused-ignore]

        kwargs: dict[str, Any] = {}
        connection_string = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
        account = os.environ.get("AZURE_STORAGE_ACCOUNT")
        if endpoint:
            kwargs["account_url"] = endpoint
        elif connection_string:
            kwargs["connection_string"] = connection_string
        elif os.environ.get("AZURE_STORAGE_ACCOUNT_URL"):
            kwargs["account_url"] = os.environ["AZURE_STORAGE_ACCOUNT_URL"]
        elif account:
            kwargs["account_url"] = f"https://{account}.blob.core.windows.net"
        client: StorageClient = AzureBlobClient(**kwargs)
        return client

    async def aclose(self) -> None:
        """Close every client created."""
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()


async def stat_or_none(client: StorageClient, bucket: str, key: str) -> ObjectMetadata | None:
    """The object's metadata, or ``None`` when it does not exist (a missing bucket raises)."""
    if not key or key.endswith("/"):
        return None
    try:
        return await client.stat(bucket, key)
    except NotFoundError:
        return None
