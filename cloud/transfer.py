"""Bulk transfers between any two places: a bucket of any backend, or a plain local folder.

A *place* is either a :class:`Remote` (a client, a bucket and an optional folder prefix) or a
:class:`LocalDir` (a plain folder on this machine, whose files are read and written at their
natural paths with no sidecar metadata).  Every copy streams:

* local folder -> bucket: the destination client's ``upload_file`` (parallel parts where the
  provider has them);
* bucket -> local folder: the source client's ``download_file`` (temp file beside the target,
  renamed into place when complete; the file's mtime is set to the object's);
* bucket -> bucket: ``open_read`` of the source piped into ``upload_stream`` of the
  destination (memory bounded by the part size), or a server-side ``copy_object`` when both
  places share one client.

:func:`transfer` runs many copies with bounded concurrency; one failure never stops the rest
and every item gets a :class:`~cloud.common.models.TransferResult`.  :func:`copy_tree` copies
a whole folder, listing it lazily; :func:`plan_sync` / :func:`sync_tree` copy only what is
missing or differs, like ``aws s3 sync`` or ``rclone sync``.

Example::

    from cloud.aws import S3Client
    from cloud.transfer import LocalDir, Remote, copy_tree

    async with S3Client() as s3:
        results = await copy_tree(LocalDir("photos"), Remote(s3, "my-bucket", "2024/"))
        failed = [r for r in results if not r.ok]
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from functools import partial
from pathlib import Path
from typing import Literal, TypeAlias, Union

import anyio
import anyio.to_thread

from cloud.common.base import DEFAULT_CHUNK_SIZE, StorageClient
from cloud.common.bulk import map_bounded
from cloud.common.exceptions import CloudError, ConfigurationError
from cloud.common.models import ObjectMetadata, TransferResult
from cloud.common.types import ProgressCallback, ResultCallback, StrPath

__all__ = [
    "DEFAULT_TRANSFER_CONCURRENCY",
    "ItemCallback",
    "ItemDoneCallback",
    "ItemProgressCallback",
    "NameFilter",
    "LocalDir",
    "Place",
    "Remote",
    "SyncPlan",
    "SyncResult",
    "TransferItem",
    "compare_objects",
    "copy_one",
    "copy_tree",
    "delete_names",
    "glob_filter",
    "iter_tree",
    "plan_sync",
    "sync_tree",
    "transfer",
]

DEFAULT_TRANSFER_CONCURRENCY = 8
"""How many objects :func:`transfer` copies at once unless told otherwise."""

_SERVER_COPY_LIMIT = 5 * 1024**3  # one server-side copy call is limited to 5 GiB on S3
_MD5_HEX = re.compile(r"^[0-9a-f]{32}$")
_METADATA_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Remote:
    """A bucket of a storage backend, optionally narrowed to a folder ``prefix``.

    ``prefix`` is a folder: a ``/`` is appended when missing, so ``Remote(s3, "b", "2024")``
    covers the keys ``2024/...``.  Names in a transfer are relative to the prefix.
    """

    client: StorageClient
    bucket: str
    prefix: str = ""

    def __post_init__(self) -> None:
        if self.prefix and not self.prefix.endswith("/"):
            object.__setattr__(self, "prefix", self.prefix + "/")

    def key(self, name: str) -> str:
        """The full object key of the relative ``name``."""
        return self.prefix + name

    def describe(self, name: str = "") -> str:
        """A URL for the relative ``name`` (for messages and results)."""
        root = getattr(self.client, "root", None)
        if root is not None:
            return os.path.join(os.fspath(root), self.bucket, self.key(name))
        from cloud.common.registry import for_client

        provider = for_client(self.client)
        scheme = provider.scheme if provider is not None and provider.scheme else self.client.provider.value
        return f"{scheme}://{self.bucket}/{self.key(name)}"


@dataclass(frozen=True)
class LocalDir:
    """A plain folder on this machine.

    As a source its files are listed and read in place; as a destination files are written
    at their natural paths (folders created as needed, like ``rsync``) with no sidecar
    metadata, and each file's modification time is set to the source object's.
    """

    path: Path
    _reader: StorageClient = field(init=False, repr=False, compare=False)

    def __init__(self, path: StrPath) -> None:
        from cloud.local import LocalStorageClient

        absolute = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
        if absolute.parent == absolute:
            raise ConfigurationError("a local folder for transfers cannot be the filesystem root")
        object.__setattr__(self, "path", absolute)
        object.__setattr__(self, "_reader", LocalStorageClient(root=absolute.parent))

    @property
    def reader(self) -> Remote:
        """The folder seen as a bucket of a :class:`~cloud.local.LocalStorageClient` (its
        parent is the root), used to list, read and delete."""
        return Remote(self._reader, self.path.name)

    def file(self, name: str) -> Path:
        """The path of the relative ``name``; names that could escape the folder (absolute,
        ``..``, empty components) raise ``BadRequestError``."""
        from cloud.local.stores import check_local_object_name

        return self.path.joinpath(*check_local_object_name(name))

    def describe(self, name: str = "") -> str:
        """The local path of the relative ``name`` (for messages and results)."""
        return os.path.join(self.path, name) if name else os.fspath(self.path)


Place: TypeAlias = Union[Remote, LocalDir]
"""Where objects are copied from or to."""


@dataclass(frozen=True)
class TransferItem:
    """One object to copy: its name relative to the source place and to the destination
    place, and what the listing said about it (all optional)."""

    source: str
    destination: str
    size: int | None = None
    last_modified: datetime | None = None
    content_type: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    reason: str = ""
    """Why it is copied (``"new"``, ``"size"``, ``"checksum"``, ``"newer"``), set by :func:`plan_sync`."""

    @classmethod
    def from_metadata(cls, meta: ObjectMetadata, name: str, destination: str | None = None) -> TransferItem:
        """An item for a listed object whose relative name is ``name``."""
        return cls(
            source=name,
            destination=name if destination is None else destination,
            size=meta.size,
            last_modified=meta.last_modified,
            content_type=meta.content_type,
            metadata=dict(meta.metadata),
        )


ItemCallback: TypeAlias = Callable[[TransferItem], None]
"""Called when an item starts."""

ItemProgressCallback: TypeAlias = Callable[[TransferItem, int], None]
"""Called with an item and the number of its bytes just moved (an increment)."""

ItemDoneCallback: TypeAlias = Callable[[TransferItem, TransferResult], None]
"""Called with an item and its result when it is finished."""

NameFilter: TypeAlias = Callable[[str], bool]
"""Whether a relative object name takes part in a copy, sync or deletion."""


def glob_filter(rules: Iterable[tuple[Literal["include", "exclude"], str]]) -> NameFilter | None:
    """A :data:`NameFilter` from ``("include" | "exclude", glob)`` rules, with the semantics
    of ``aws s3 cp/sync --include/--exclude``: every name is included to begin with, the
    rules apply in order and a later matching rule wins.  Globs match the whole relative
    name with ``fnmatch`` (case-sensitive; ``*`` also matches ``/``), so
    ``[("exclude", "*"), ("include", "*.txt")]`` keeps only ``.txt`` files.  ``None`` when
    there are no rules."""
    listed = list(rules)
    ordered = [(kind == "include", pattern) for kind, pattern in listed]
    for kind, _ in listed:
        if kind not in ("include", "exclude"):
            raise ConfigurationError(f"a filter rule is 'include' or 'exclude', not {kind!r}")
    if not ordered:
        return None

    def keep(name: str) -> bool:
        result = True
        for include, pattern in ordered:
            if fnmatchcase(name, pattern):
                result = include
        return result

    return keep


# -- one object ------------------------------------------------------------------------------


def _local_path(place: Place, name: str) -> Path | None:
    """The file behind ``name`` when the place is on the local filesystem, else ``None``."""
    if isinstance(place, LocalDir):
        return place.file(name)
    root = getattr(place.client, "root", None)
    if root is None:
        return None
    from cloud.local.stores import check_local_object_name

    return Path(os.fspath(root), place.bucket, *check_local_object_name(place.key(name)))


def _reading(place: Place) -> Remote:
    return place.reader if isinstance(place, LocalDir) else place


def _clean_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    """User metadata every backend accepts (identifier keys, printable ASCII values)."""
    return {k: v for k, v in metadata.items() if _METADATA_KEY.match(k) and all(32 <= ord(c) < 127 for c in v)}


async def _counted(chunks: AsyncIterator[bytes], progress: ProgressCallback | None) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        if progress is not None:
            progress(len(chunk))
        yield chunk


async def copy_one(
    source: Place,
    dest: Place,
    item: TransferItem,
    *,
    progress: ProgressCallback | None = None,
    timeout: float | None = None,
) -> int:
    """Copy one object from ``source`` to ``dest`` (names from ``item``), streaming.

    Returns the number of bytes copied; raises a :class:`~cloud.common.exceptions.CloudError`
    or ``OSError`` on failure, leaving no partial object or file behind.  ``progress``
    receives byte increments; ``timeout`` applies to each call made.
    """
    reported = 0

    def report(n: int) -> None:
        nonlocal reported
        reported += n
        if progress is not None:
            progress(n)

    if isinstance(dest, LocalDir):
        target = dest.file(item.destination)
        await anyio.to_thread.run_sync(partial(target.parent.mkdir, parents=True, exist_ok=True))
        src = _reading(source)
        await src.client.download_file(src.bucket, src.key(item.source), target, progress=report, timeout=timeout)
        size = await anyio.to_thread.run_sync(_finish_local_file, target, item.last_modified)
    else:
        key = dest.key(item.destination)
        src = _reading(source)
        local_source = _local_path(source, item.source)
        if local_source is not None and item.size:
            # A local file: the provider's upload (parallel parts for large files).  Files
            # listed as empty are streamed instead, so what is sent is what reading gives
            # (/proc-like files report size 0) and an unreadable file fails.
            await dest.client.upload_file(
                local_source,
                dest.bucket,
                key,
                content_type=item.content_type if isinstance(source, Remote) else None,
                metadata=_clean_metadata(item.metadata) if isinstance(source, Remote) else None,
                progress=report,
                timeout=timeout,
            )
            size = item.size
        elif src.client is dest.client and item.size is not None and item.size < _SERVER_COPY_LIMIT:
            await dest.client.copy_object(src.bucket, src.key(item.source), dest.bucket, key, timeout=timeout)
            size = item.size
        else:
            meta = await src.client.stat(src.bucket, src.key(item.source), timeout=timeout)
            chunks = src.client.open_read(
                src.bucket, src.key(item.source), chunk_size=DEFAULT_CHUNK_SIZE, timeout=timeout
            )
            await dest.client.upload_stream(
                dest.bucket,
                key,
                _counted(chunks, report),
                content_type=meta.content_type,
                metadata=_clean_metadata(meta.metadata),
                timeout=timeout,
            )
            size = max(meta.size, reported)
    if reported < size:
        report(size - reported)
    return size


def _finish_local_file(path: Path, modified: datetime | None) -> int:
    # Give the file the source's modification time (as ``aws s3 cp`` does).
    if modified is not None:
        stamp = modified.timestamp()
        os.utime(path, (stamp, stamp))
    return path.stat().st_size


# -- many objects ----------------------------------------------------------------------------


async def transfer(
    source: Place,
    dest: Place,
    items: Iterable[TransferItem] | AsyncIterable[TransferItem],
    *,
    concurrency: int = DEFAULT_TRANSFER_CONCURRENCY,
    progress: ProgressCallback | None = None,
    on_result: ResultCallback | None = None,
    on_item_start: ItemCallback | None = None,
    on_item_progress: ItemProgressCallback | None = None,
    on_item_done: ItemDoneCallback | None = None,
    timeout: float | None = None,
) -> list[TransferResult]:
    """Copy every item from ``source`` to ``dest`` with at most ``concurrency`` at once.

    ``items`` may be a list or a lazy (async) iterable, consumed as workers become free.
    One failure does not stop the rest: each item gets a
    :class:`~cloud.common.models.TransferResult` (in input order, ``error`` set when it
    failed).  ``progress`` receives byte increments of the whole transfer, ``on_result`` each
    result as soon as it is known, ``on_item_start``/``on_item_progress``/``on_item_done``
    the item-level events (for per-file progress bars).  An error of the listing itself is raised.
    """

    async def one(item: TransferItem) -> TransferResult:
        source_name, dest_name = source.describe(item.source), dest.describe(item.destination)

        def report(n: int) -> None:
            if progress is not None:
                progress(n)
            if on_item_progress is not None:
                on_item_progress(item, n)

        if on_item_start is not None:
            on_item_start(item)
        try:
            size = await copy_one(source, dest, item, progress=report, timeout=timeout)
        except (CloudError, OSError) as exc:
            return TransferResult(source=source_name, destination=dest_name, ok=False, error=exc)
        return TransferResult(source=source_name, destination=dest_name, ok=True, bytes=size)

    def done(item: TransferItem, result: TransferResult) -> None:
        if on_item_done is not None:
            on_item_done(item, result)
        if on_result is not None:
            on_result(result)

    return await map_bounded(items, one, concurrency, on_done=done)


async def iter_tree(place: Place) -> AsyncIterator[ObjectMetadata]:
    """List every object of a place lazily, in name order, with names made relative to the
    place (``ObjectMetadata.name`` is the relative name).  A local folder that does not
    exist lists nothing; a missing bucket raises ``NotFoundError``."""
    remote = _reading(place)
    if isinstance(place, LocalDir) and not await anyio.to_thread.run_sync(place.path.is_dir):
        return
    async for meta in remote.client.iter_objects(remote.bucket, remote.prefix):
        if meta.is_prefix:
            continue
        yield ObjectMetadata(
            name=meta.name[len(remote.prefix) :],
            bucket=meta.bucket,
            size=meta.size,
            etag=meta.etag,
            content_type=meta.content_type,
            last_modified=meta.last_modified,
            metadata=meta.metadata,
            provider=meta.provider,
        )


def _storable(name: str, dest: Place) -> bool:
    """Whether ``name`` can exist at ``dest``: folder-marker keys (``a/``) and empty names are
    skipped when writing plain local files."""
    return bool(name) and not (isinstance(dest, LocalDir) and name.endswith("/"))


async def copy_tree(
    source: Place,
    dest: Place,
    *,
    concurrency: int = DEFAULT_TRANSFER_CONCURRENCY,
    progress: ProgressCallback | None = None,
    on_result: ResultCallback | None = None,
    on_item_start: ItemCallback | None = None,
    on_item_progress: ItemProgressCallback | None = None,
    on_item_done: ItemDoneCallback | None = None,
    timeout: float | None = None,
    filter: NameFilter | None = None,
    dask: object = None,
) -> list[TransferResult]:
    """Copy every object under ``source`` to the same relative name under ``dest``.

    The source is listed lazily while copies run; see :func:`transfer` for the callbacks
    and results.  A destination :class:`LocalDir` is created if needed.  With ``filter``
    (e.g. :func:`glob_filter`) only the relative names it accepts are copied.  With
    ``dask`` (a scheduler address, a ``distributed.Client`` or a cluster), batches of
    names go to the Dask workers, each copying with its own clients, and objects that
    already match at the destination are skipped (see :mod:`cloud.fsspec.dask`; the
    per-item callbacks other than ``on_result`` are not called then).
    """

    async def items() -> AsyncIterator[TransferItem]:
        async for meta in iter_tree(source):
            if _storable(meta.name, dest) and (filter is None or filter(meta.name)):
                yield TransferItem.from_metadata(meta, meta.name)

    if dask is not None:
        from cloud.fsspec.dask import copy_on_dask

        return await copy_on_dask(
            source,
            dest,
            items(),
            dask,
            concurrency=concurrency,
            progress=progress,
            on_result=on_result,
            timeout=timeout,
        )

    return await transfer(
        source,
        dest,
        items(),
        concurrency=concurrency,
        progress=progress,
        on_result=on_result,
        on_item_start=on_item_start,
        on_item_progress=on_item_progress,
        on_item_done=on_item_done,
        timeout=timeout,
    )


# -- sync ------------------------------------------------------------------------------------


def _md5(etag: str | None) -> str | None:
    if not etag:
        return None
    value = etag.strip().strip('"').lower()
    return value if _MD5_HEX.match(value) else None


def compare_objects(
    source: ObjectMetadata,
    dest: ObjectMetadata,
    *,
    source_md5: str | None = None,
    dest_md5: str | None = None,
) -> Literal["size", "checksum", "newer"] | None:
    """Why ``source`` should be copied over ``dest``, or ``None`` when they match.

    Sizes first; then MD5 checksums when both sides have one (a local sidecar etag and an
    S3 single-part etag are MD5 hex; ``source_md5``/``dest_md5`` supply computed ones);
    otherwise the rule of ``aws s3 sync``: copy when the source was modified after the
    destination (compared to the whole second, the resolution most services keep).
    """
    if source.size != dest.size:
        return "size"
    a = source_md5 or _md5(source.etag)
    b = dest_md5 or _md5(dest.etag)
    if a is not None and b is not None:
        return None if a == b else "checksum"
    if (
        source.last_modified is not None
        and dest.last_modified is not None
        and int(source.last_modified.timestamp()) > int(dest.last_modified.timestamp())
    ):
        return "newer"
    return None


def _file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(DEFAULT_CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class SyncPlan:
    """What a sync will do: the items to copy (with ``reason``), the relative names to
    delete from the destination (only when asked) and how many objects already match."""

    copy: list[TransferItem] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def bytes(self) -> int:
        """Bytes to copy (as listed)."""
        return sum(item.size or 0 for item in self.copy)


async def plan_sync(
    source: Place,
    dest: Place,
    *,
    delete: bool = False,
    checksum: bool = False,
    filter: NameFilter | None = None,
) -> SyncPlan:
    """Compare two places and return what :func:`sync_tree` would do.

    With ``filter`` only the relative names it accepts take part, on both sides: a source
    object it rejects is not copied and a destination object it rejects is never deleted
    (as ``aws s3 sync --exclude`` does).
    The destination's listing is held in memory (one entry per object); the source is
    listed lazily.  With ``checksum``, a local file with no recorded MD5 is read and hashed
    when the other side has an MD5 to compare with (or both are local files) instead of
    comparing modification times.
    """
    existing: dict[str, ObjectMetadata] = {}
    async for meta in iter_tree(dest):
        if filter is None or filter(meta.name):
            existing[meta.name] = meta
    plan = SyncPlan()
    async for meta in iter_tree(source):
        if not _storable(meta.name, dest) or (filter is not None and not filter(meta.name)):
            continue
        current = existing.pop(meta.name, None)
        if current is None:
            reason: str | None = "new"
        else:
            source_md5 = dest_md5 = None
            if checksum and meta.size == current.size:
                source_md5, dest_md5 = await _checksums(source, dest, meta, current)
            reason = compare_objects(meta, current, source_md5=source_md5, dest_md5=dest_md5)
        if reason is None:
            plan.unchanged += 1
        else:
            item = TransferItem.from_metadata(meta, meta.name)
            plan.copy.append(
                TransferItem(
                    item.source,
                    item.destination,
                    item.size,
                    item.last_modified,
                    item.content_type,
                    item.metadata,
                    reason,
                )
            )
    if delete:
        plan.delete = sorted(existing)
    return plan


async def _checksums(
    source: Place, dest: Place, src: ObjectMetadata, dst: ObjectMetadata
) -> tuple[str | None, str | None]:
    a, b = _md5(src.etag), _md5(dst.etag)
    src_path, dst_path = _local_path(source, src.name), _local_path(dest, dst.name)
    if a is None and src_path is not None and (b is not None or dst_path is not None):
        a = await anyio.to_thread.run_sync(_file_md5, src_path)
    if b is None and dst_path is not None and a is not None:
        b = await anyio.to_thread.run_sync(_file_md5, dst_path)
    return a, b


@dataclass
class SyncResult:
    """The outcome of :func:`sync_tree`: the plan, one result per copied item and the
    relative names deleted (``delete_error`` set when deletion failed or was skipped)."""

    plan: SyncPlan
    results: list[TransferResult]
    deleted: list[str]
    delete_error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """Whether every copy and deletion succeeded."""
        return all(r.ok for r in self.results) and self.delete_error is None


async def delete_names(place: Place, names: Iterable[str], *, timeout: float | None = None) -> None:
    """Delete the relative ``names`` from a place (every name is attempted; the first error
    is raised afterwards)."""
    remote = _reading(place)
    await remote.client.delete_objects(remote.bucket, [remote.key(n) for n in names], timeout=timeout)


async def sync_tree(
    source: Place,
    dest: Place,
    *,
    delete: bool = False,
    dry_run: bool = False,
    checksum: bool = False,
    concurrency: int = DEFAULT_TRANSFER_CONCURRENCY,
    progress: ProgressCallback | None = None,
    on_result: ResultCallback | None = None,
    on_item_start: ItemCallback | None = None,
    on_item_progress: ItemProgressCallback | None = None,
    on_item_done: ItemDoneCallback | None = None,
    timeout: float | None = None,
    filter: NameFilter | None = None,
    dask: object = None,
) -> SyncResult:
    """Make ``dest`` match ``source``: copy what is missing or differs (see
    :func:`compare_objects`), and with ``delete`` remove what the source does not have.

    With ``dry_run`` nothing is copied or deleted (the plan is returned).  As ``rclone``
    does, deletions are skipped when a copy failed.  ``filter``: see :func:`plan_sync`.
    With ``dask`` the copies run on a Dask cluster as in :func:`copy_tree`.
    """
    plan = await plan_sync(source, dest, delete=delete, checksum=checksum, filter=filter)
    if dry_run:
        return SyncResult(plan, [], [])
    if dask is not None:
        from cloud.fsspec.dask import copy_on_dask

        results = await copy_on_dask(
            source,
            dest,
            plan.copy,
            dask,
            concurrency=concurrency,
            progress=progress,
            on_result=on_result,
            timeout=timeout,
        )
    else:
        results = await transfer(
            source,
            dest,
            plan.copy,
            concurrency=concurrency,
            progress=progress,
            on_result=on_result,
            on_item_start=on_item_start,
            on_item_progress=on_item_progress,
            on_item_done=on_item_done,
            timeout=timeout,
        )
    deleted: list[str] = []
    error: BaseException | None = None
    if plan.delete:
        if not all(r.ok for r in results):
            error = CloudError("deletions skipped because some copies failed")
        else:
            try:
                await delete_names(dest, plan.delete, timeout=timeout)
                deleted = list(plan.delete)
            except CloudError as exc:
                error = exc
    return SyncResult(plan, results, deleted, error)
