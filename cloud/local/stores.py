"""The two stores behind :class:`~cloud.local.LocalStorageClient`: a folder tree and memory.

Both are synchronous; the client runs the filesystem one in worker threads.  Objects are
listed in name order (UTF-8 byte order, as S3 does) with ``start_after`` paging.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from cloud.common.enums import CloudProvider
from cloud.common.exceptions import (
    BadRequestError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
)
from cloud.common.files import DEFAULT_CONTENT_TYPE, guess_content_type
from cloud.common.models import ObjectMetadata
from cloud.common.validation import check_content_type

META_DIR = ".cloud-meta"
TMP_DIR = ".cloud-tmp"
_MAX_COMPONENT_BYTES = 255


def check_bucket_name(bucket: str) -> str:
    """A local bucket is one folder name: no separators, NUL, or leading dot."""
    if not isinstance(bucket, str) or not bucket or len(bucket.encode("utf-8", "surrogatepass")) > _MAX_COMPONENT_BYTES:
        raise ConfigurationError("bucket name must be 1 to 255 bytes")
    if any("\ud800" <= c <= "\udfff" for c in bucket):
        raise ConfigurationError(f"invalid local bucket name {bucket!r}: a lone surrogate has no UTF-8 form")
    if "/" in bucket or "\\" in bucket or "\x00" in bucket or bucket.startswith("."):
        raise ConfigurationError(f"invalid local bucket name {bucket!r}: no '/', '\\\\', NUL or leading '.'")
    return bucket


def check_local_object_name(name: str) -> list[str]:
    """Split an object name into path components, rejecting anything that could escape
    the bucket folder (absolute paths, ``..``, ``.``, empty components, NUL)."""
    if name.startswith("/") or "\x00" in name or "\\" in name:
        raise BadRequestError(f"object name {name!r} is not allowed in local storage", code="InvalidObjectName")
    parts = name.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise BadRequestError(f"object name {name!r} is not allowed in local storage", code="InvalidObjectName")
        if len(part.encode("utf-8", "surrogatepass")) > _MAX_COMPONENT_BYTES:
            raise BadRequestError(
                f"object name {name!r} has a path component longer than 255 bytes", code="InvalidObjectName"
            )
    return parts


def _not_found_bucket(bucket: str) -> NotFoundError:
    return NotFoundError(f"bucket {bucket!r} does not exist", code="NoSuchBucket")


def _not_found_object(bucket: str, name: str) -> NotFoundError:
    return NotFoundError(f"object {name!r} does not exist in bucket {bucket!r}", code="NoSuchKey")


@dataclass
class StoredInfo:
    """What is written when an object is stored."""

    content_type: str
    metadata: dict[str, str]
    etag: str


@dataclass
class _MemoryObject:
    data: bytes
    info: StoredInfo
    modified: datetime


@dataclass
class _MemoryBucket:
    objects: dict[str, _MemoryObject] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)


class MemoryStore:
    """Buckets and objects held in this process's memory."""

    threaded = False

    def __init__(self) -> None:
        self._buckets: dict[str, _MemoryBucket] = {}

    def _bucket(self, bucket: str) -> _MemoryBucket:
        try:
            return self._buckets[bucket]
        except KeyError:
            raise _not_found_bucket(bucket) from None

    def bucket_exists(self, bucket: str) -> bool:
        return bucket in self._buckets

    def create_bucket(self, bucket: str) -> bool:
        if bucket in self._buckets:
            return False
        self._buckets[bucket] = _MemoryBucket()
        return True

    def delete_bucket(self, bucket: str) -> None:
        if self._bucket(bucket).objects:
            raise ConflictError(f"bucket {bucket!r} is not empty", code="BucketNotEmpty")
        del self._buckets[bucket]

    def write(self, bucket: str, name: str, source: BinaryIO, info: StoredInfo, progress: Callable[[int], None]) -> int:
        b = self._bucket(bucket)
        check_local_object_name(name)
        chunks = []
        md5 = hashlib.md5()
        while chunk := source.read(1024 * 1024):
            chunks.append(chunk)
            md5.update(chunk)
            progress(len(chunk))
        data = b"".join(chunks)
        info.etag = md5.hexdigest()
        if name not in b.objects:
            bisect.insort(b.names, name)
        b.objects[name] = _MemoryObject(data, info, datetime.now(timezone.utc))
        return len(data)

    def stat(self, bucket: str, name: str) -> ObjectMetadata:
        obj = self._bucket(bucket).objects.get(name)
        if obj is None:
            raise _not_found_object(bucket, name)
        return _metadata(bucket, name, len(obj.data), obj.info, obj.modified)

    def read(self, bucket: str, name: str, offset: int, length: int) -> bytes:
        obj = self._bucket(bucket).objects.get(name)
        if obj is None:
            raise _not_found_object(bucket, name)
        return obj.data[offset : offset + length]

    def delete(self, bucket: str, name: str) -> None:
        b = self._bucket(bucket)
        if b.objects.pop(name, None) is not None:
            del b.names[bisect.bisect_left(b.names, name)]

    def copy(self, src_bucket: str, src: str, dst_bucket: str, dst: str) -> None:
        obj = self._bucket(src_bucket).objects.get(src)
        if obj is None:
            raise _not_found_object(src_bucket, src)
        b = self._bucket(dst_bucket)
        check_local_object_name(dst)
        if dst not in b.objects:
            bisect.insort(b.names, dst)
        info = StoredInfo(obj.info.content_type, dict(obj.info.metadata), obj.info.etag)
        b.objects[dst] = _MemoryObject(obj.data, info, datetime.now(timezone.utc))

    def list_page(self, bucket: str, prefix: str, start_after: str, limit: int) -> list[ObjectMetadata]:
        b = self._bucket(bucket)
        index = (
            bisect.bisect_right(b.names, max(start_after, prefix))
            if start_after
            else bisect.bisect_left(b.names, prefix)
        )
        out = []
        for name in b.names[index : index + limit]:
            if not name.startswith(prefix):
                break
            out.append(self.stat(bucket, name))
        return out


def _metadata(bucket: str, name: str, size: int, info: StoredInfo, modified: datetime) -> ObjectMetadata:
    return ObjectMetadata(
        name=name,
        bucket=bucket,
        size=size,
        etag=info.etag,
        content_type=info.content_type,
        last_modified=modified,
        metadata=dict(info.metadata),
        provider=CloudProvider.LOCAL,
    )


class FilesystemStore:
    """Buckets are folders under ``root``; objects are files at their natural paths.

    Content type, user metadata and the MD5 etag live in a sidecar JSON file under
    ``root/.cloud-meta/<bucket>/``; files placed by hand get a guessed content type and a
    size/mtime etag.  Every write goes to ``root/.cloud-tmp`` and is renamed into place.
    """

    threaded = True

    def __init__(self, root: Path) -> None:
        self.root = root

    def _bucket_dir(self, bucket: str) -> Path:
        path = self.root / bucket
        if not path.is_dir():
            raise _not_found_bucket(bucket)
        return path

    def _object_path(self, bucket: str, name: str) -> Path:
        return self._bucket_dir(bucket).joinpath(*check_local_object_name(name))

    def _sidecar(self, bucket: str, name: str) -> Path:
        digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()
        return self.root / META_DIR / bucket / f"{digest}.json"

    def _temp_file(self) -> tuple[int, str]:
        tmp = self.root / TMP_DIR
        tmp.mkdir(exist_ok=True)
        return tempfile.mkstemp(dir=tmp, suffix=".part")

    def bucket_exists(self, bucket: str) -> bool:
        return (self.root / bucket).is_dir()

    def create_bucket(self, bucket: str) -> bool:
        if not self.root.is_dir():
            raise ConfigurationError(f"local storage root {str(self.root)!r} is not a folder")
        try:
            (self.root / bucket).mkdir()
        except FileExistsError:
            if not (self.root / bucket).is_dir():
                raise ConflictError(f"{bucket!r} exists and is not a folder", code="BucketAlreadyExists") from None
            return False
        return True

    def delete_bucket(self, bucket: str) -> None:
        path = self._bucket_dir(bucket)
        if any(self._walk(path, "", "", bucket)):
            raise ConflictError(f"bucket {bucket!r} is not empty", code="BucketNotEmpty")
        shutil.rmtree(path)
        shutil.rmtree(self.root / META_DIR / bucket, ignore_errors=True)

    def write(self, bucket: str, name: str, source: BinaryIO, info: StoredInfo, progress: Callable[[int], None]) -> int:
        dest = self._object_path(bucket, name)
        fd, temp = self._temp_file()
        md5 = hashlib.md5()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(1024 * 1024):
                    out.write(chunk)
                    md5.update(chunk)
                    size += len(chunk)
                    progress(len(chunk))
                out.flush()
                os.fsync(out.fileno())
            info.etag = md5.hexdigest()
            self._place(bucket, name, dest, temp, info)
        except BaseException:
            _unlink(temp)
            raise
        return size

    def _place(self, bucket: str, name: str, dest: Path, temp: str, info: StoredInfo) -> None:
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise ConflictError(f"object name {name!r} clashes with an existing object", code="NameClash") from None
        if dest.is_dir():
            raise ConflictError(f"object name {name!r} clashes with an existing prefix", code="NameClash")
        os.replace(temp, dest)
        st = dest.stat()
        sidecar = self._sidecar(bucket, name)
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "name": name,
            "content_type": info.content_type,
            "metadata": info.metadata,
            "etag": info.etag,
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
        }
        fd, tmp_meta = self._temp_file()
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(tmp_meta, sidecar)

    def stat(self, bucket: str, name: str) -> ObjectMetadata:
        path = self._object_path(bucket, name)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise _not_found_object(bucket, name) from None
        if not path.is_file():
            raise _not_found_object(bucket, name)
        return self._describe(bucket, name, st)

    def _describe(self, bucket: str, name: str, st: os.stat_result) -> ObjectMetadata:
        info = None
        try:
            record = json.loads(self._sidecar(bucket, name).read_text(encoding="utf-8"))
            if record.get("size") == st.st_size and record.get("mtime_ns") == st.st_mtime_ns:
                info = StoredInfo(record["content_type"], dict(record["metadata"]), record["etag"])
        except (OSError, ValueError, KeyError):
            pass
        if info is None:
            info = StoredInfo(guess_content_type(name), {}, f"{st.st_size:x}-{st.st_mtime_ns:x}")
        modified = datetime.fromtimestamp(st.st_mtime, tz=timezone.utc)
        return _metadata(bucket, name, st.st_size, info, modified)

    def open(self, bucket: str, name: str) -> BinaryIO:
        path = self._object_path(bucket, name)
        try:
            if path.is_dir():
                raise FileNotFoundError
            return open(path, "rb")
        except (FileNotFoundError, NotADirectoryError):
            raise _not_found_object(bucket, name) from None

    def read(self, bucket: str, name: str, offset: int, length: int) -> bytes:
        with self.open(bucket, name) as f:
            return os.pread(f.fileno(), length, offset)

    def delete(self, bucket: str, name: str) -> None:
        path = self._object_path(bucket, name)
        try:
            if path.is_file():
                path.unlink()
        except FileNotFoundError:
            pass
        _unlink(str(self._sidecar(bucket, name)))
        # Remove folders the deletion left empty, up to the bucket folder.
        bucket_dir = self.root / bucket
        parent = path.parent
        while parent != bucket_dir and parent.is_dir():
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def copy(self, src_bucket: str, src: str, dst_bucket: str, dst: str) -> None:
        meta = self.stat(src_bucket, src)
        dest = self._object_path(dst_bucket, dst)
        fd, temp = self._temp_file()
        os.close(fd)
        try:
            shutil.copyfile(self._object_path(src_bucket, src), temp)
            info = StoredInfo(meta.content_type or DEFAULT_CONTENT_TYPE, dict(meta.metadata), meta.etag or "")
            self._place(dst_bucket, dst, dest, temp, info)
        except BaseException:
            _unlink(temp)
            raise

    def list_page(self, bucket: str, prefix: str, start_after: str, limit: int) -> list[ObjectMetadata]:
        bucket_dir = self._bucket_dir(bucket)
        out: list[ObjectMetadata] = []
        for name, st in self._walk(bucket_dir, prefix, start_after, bucket):
            out.append(self._describe(bucket, name, st))
            if len(out) >= limit:
                break
        return out

    def _walk(
        self, folder: Path, prefix: str, start_after: str, bucket: str, base: str = ""
    ) -> Iterator[tuple[str, os.stat_result]]:
        """Yield ``(name, stat)`` in exact name order, pruning subtrees that cannot match.

        Siblings are sorted by ``name + "/"`` for folders, so a depth-first walk yields the
        same order as sorting the full names.
        """
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return
        keyed = []
        for entry in entries:
            if base == "" and entry.name in (META_DIR, TMP_DIR):
                continue
            is_dir = entry.is_dir(follow_symlinks=False)
            full = base + entry.name + ("/" if is_dir else "")
            keyed.append((full.encode("utf-8", "surrogateescape"), full, entry, is_dir))
        keyed.sort(key=lambda k: k[0])
        for _, full, entry, is_dir in keyed:
            if is_dir:
                # Skip folders wholly before start_after or outside the prefix.
                if start_after and not start_after.startswith(full) and full < start_after:
                    continue
                if not (full.startswith(prefix) or prefix.startswith(full)):
                    continue
                yield from self._walk(Path(entry.path), prefix, start_after, bucket, full)
            else:
                if not full.startswith(prefix) or (start_after and full <= start_after):
                    continue
                if not entry.is_file():
                    continue
                yield full, entry.stat()


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def stored_info(name: str, content_type: str | None, metadata: Mapping[str, str], *, guess: bool) -> StoredInfo:
    """The info recorded for a new object (content type guessed from the name if asked)."""
    if content_type is None:
        content_type = guess_content_type(name) if guess else DEFAULT_CONTENT_TYPE
    check_content_type(content_type)
    return StoredInfo(content_type, dict(metadata), "")
