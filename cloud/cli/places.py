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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from cloud.common import registry
from cloud.common.base import StorageClient
from cloud.common.exceptions import ConfigurationError, NotFoundError
from cloud.common.models import ObjectMetadata

from .options import ClientOptions, UsageError

if TYPE_CHECKING:
    from cloud.transfer import Remote

__all__ = [
    "ClientOptions",
    "Clients",
    "Target",
    "UsageError",
    "has_objects",
    "local_bucket",
    "missing_bucket",
    "missing_local",
    "one_object",
    "parse_target",
    "source_place",
    "stat_or_none",
]

_META_DIR = ".cloud-meta"


@dataclass(frozen=True)
class Target:
    """A parsed command-line location."""

    text: str
    scheme: str
    """A scheme of :mod:`cloud.common.registry` (``s3``, ``gs``, ``az``, ``memory``...) or
    ``file`` for a local path."""
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
    try:
        registry.for_scheme(scheme)
    except ConfigurationError as exc:
        raise UsageError(f"{exc} (in {text})") from None
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


class Clients:
    """Creates one client per backend (and per local root) on demand and closes them all."""

    def __init__(self, options: ClientOptions) -> None:
        self.options = options
        self._clients: dict[str, StorageClient] = {}

    def for_target(self, target: Target) -> StorageClient:
        """The client of a cloud target's scheme."""
        return self.get(target.scheme)

    def get(self, scheme: str) -> StorageClient:
        """The client of a scheme (``s3``, ``gs``, ``az``, ``memory``...)."""
        client = self._clients.get(scheme)
        if client is None:
            client = self._clients[scheme] = self._create(scheme)
        return client

    def local(self, root: Path) -> StorageClient:
        """The local client rooted at ``root``."""
        key = f"file:{root}"
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = registry.for_scheme("file").create(root.as_uri())
        return client

    def settings(self, scheme: str) -> registry.ClientSettings:
        """The command line's settings for a scheme's client."""
        return self.options.settings(scheme)

    def _create(self, scheme: str) -> StorageClient:
        return registry.for_scheme(scheme).create(f"{scheme}://", self.settings(scheme))

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


# -- resolving what a URL names ----------------------------------------------------------------


def missing_local(target: Target) -> NotFoundError:
    """The error of a local path that does not exist."""
    return NotFoundError(f"no such file or folder: {target.path}", code="NotFound", provider="local")


async def has_objects(client: StorageClient, bucket: str, prefix: str, *, doing: str = "") -> bool:
    """Whether anything is listed under ``prefix``.  A missing bucket raises
    :class:`NotFoundError`; with ``doing`` (``"copy from s3://b/x"``) its message names what
    the command was doing rather than the listing call that found out."""
    try:
        async for _ in client.iter_objects(bucket, prefix, page_size=1):
            return True
    except NotFoundError as exc:
        if not doing:
            raise
        raise missing_bucket(exc, doing, bucket) from exc
    return False


def missing_bucket(exc: NotFoundError, doing: str, bucket: str) -> NotFoundError:
    """The error of a missing bucket, worded as the command's failure: ``[aws.copy] cannot
    copy to s3://b/x: the bucket 'b' does not exist``."""
    verb, _, rest = doing.partition(" ")
    hint = " (create it with cloud mb)" if rest.startswith("to ") else ""
    return NotFoundError(
        f"cannot {doing}: the bucket {bucket!r} does not exist{hint}",
        code=exc.code or "NoSuchBucket",
        provider=exc.provider,
        operation=verb,
        status_code=exc.status_code,
    )


async def one_object(clients: Clients, target: Target) -> tuple[StorageClient, str, str]:
    """The client, bucket and key of a URL that must name one object."""
    if target.is_local:
        assert target.path is not None
        if target.path.is_dir():
            raise UsageError(f"{target.text} is a folder, not a file")
        if not target.path.exists():
            raise missing_local(target)
        root, bucket, key = local_bucket(target.path)
        return clients.local(root), bucket, key
    if not target.key or target.key.endswith("/"):
        raise UsageError(f"{target.text} names a bucket or folder, not an object")
    return clients.for_target(target), target.bucket, target.key


async def source_place(clients: Clients, target: Target, *, recursive: bool) -> tuple[Remote, ObjectMetadata | None]:
    """What a copy source names: ``(place, metadata)`` for one object (the place's prefix is
    empty and the object's name is its key), or ``(folder place, None)`` for a folder."""
    from cloud.transfer import Remote

    if target.is_local:
        path = target.path
        assert path is not None
        if path.is_dir():
            if not recursive:
                raise UsageError(f"{target.text} is a folder: use -r to copy it")
            root, bucket, key = local_bucket(path)
            return Remote(clients.local(root), bucket, key), None
        if not path.exists():
            raise missing_local(target)
        root, bucket, key = local_bucket(path)
        client = clients.local(root)
        return Remote(client, bucket), await client.stat(bucket, key)
    client = clients.for_target(target)
    key = target.key
    if not key or key.endswith("/"):
        if not recursive:
            raise UsageError(f"{target.text} is a bucket or folder: use -r to copy it")
        await has_objects(client, target.bucket, key, doing=f"copy from {target.text}")
        return Remote(client, target.bucket, key), None
    doing = f"copy from {target.text}"
    if recursive and await has_objects(client, target.bucket, key + "/", doing=doing):
        return Remote(client, target.bucket, key), None
    meta = await stat_or_none(client, target.bucket, key)
    if meta is not None:
        return Remote(client, target.bucket), meta
    if not recursive and await has_objects(client, target.bucket, key + "/", doing=doing):
        raise UsageError(f"{target.text} is a folder: use -r to copy it")
    raise NotFoundError(
        f"no object or folder at {target.text}", code="NoSuchKey", provider=registry.for_scheme(target.scheme).name
    )
