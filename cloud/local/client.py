"""LocalStorageClient: the storage contract on a local folder tree, or in memory."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread

from cloud.common.base import DEFAULT_CHUNK_SIZE, StorageClient
from cloud.common.enums import CloudProvider
from cloud.common.exceptions import CloudError, ConfigurationError, NotFoundError, PreconditionFailedError
from cloud.common.files import atomic_destination, open_local_file
from cloud.common.models import ObjectMetadata
from cloud.common.objects import RangeStream
from cloud.common.operations import OperationRunner
from cloud.common.pagination import AsyncPaginator, Page
from cloud.common.retry import RetryPolicy
from cloud.common.types import ProgressCallback, StrPath
from cloud.common.validation import check_data, check_object_name, check_prefix, normalize_metadata, slice_bounds

from .stores import FilesystemStore, MemoryStore, check_bucket_name, check_local_object_name, stored_info

__all__ = ["LocalStorageClient"]

T = TypeVar("T")

_PAGE_SIZE = 1000


def _translate(exc: BaseException, operation: str) -> CloudError | None:
    """The local error table: OS errors become typed errors."""
    from cloud.common.exceptions import ConflictError, PermissionDeniedError, ServerError

    if isinstance(exc, PermissionError):
        return PermissionDeniedError(f"permission denied: {exc.strerror}", code="AccessDenied")
    if isinstance(exc, FileNotFoundError):
        return NotFoundError(f"not found: {exc.strerror}", code="NotFound")
    if isinstance(exc, (IsADirectoryError, NotADirectoryError, FileExistsError)):
        return ConflictError(f"name clash: {exc.strerror}", code="NameClash")
    if isinstance(exc, OSError):
        return ServerError(f"local I/O failed: {exc.strerror or exc}", code="IOError")
    return None


class LocalStorageClient(StorageClient):
    """The storage contract on the local machine, with no cloud account.

    ``LocalStorageClient(root="/data")`` keeps each bucket as a folder under ``root`` and
    each object as a file at its natural path (``bucket/a/b.txt``), so files are visible to
    other programs; writes are atomic (temp file + rename).  ``LocalStorageClient()`` keeps
    everything in this process's memory.
    """

    provider: ClassVar[CloudProvider] = CloudProvider.LOCAL

    def __init__(self, *, root: StrPath | None = None, timeout: float | None = None) -> None:
        super().__init__()
        self.root = Path(os.fspath(root)).expanduser().absolute() if root is not None else None
        self._store: FilesystemStore | MemoryStore = (
            FilesystemStore(self.root) if self.root is not None else MemoryStore()
        )
        # Local I/O has no transient failures worth waiting for: fail at once.
        self._runner = OperationRunner(
            provider="local", translate=_translate, retry=RetryPolicy.disabled(), stats=self.stats, timeout=timeout
        )

    def __repr__(self) -> str:
        where = f"root={str(self.root)!r}" if self.root is not None else "in memory"
        return f"<LocalStorageClient {where}>"

    async def aclose(self) -> None:
        """Nothing to release; present for the contract.  Idempotent."""

    async def _run(self, operation: str, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        async def call() -> T:
            if self._store.threaded:
                return await anyio.to_thread.run_sync(lambda: fn(*args))
            return fn(*args)

        return await self._runner.call(operation, call, timeout=timeout)

    # -- buckets ---------------------------------------------------------------------------

    async def ensure_bucket(self, bucket: str, *, timeout: float | None = None) -> bool:
        """Create the bucket folder if needed; ``True`` if created, ``False`` if it existed."""
        check_bucket_name(bucket)
        return await self._run("ensure_bucket", self._store.create_bucket, bucket, timeout=timeout)

    async def delete_bucket(self, bucket: str, *, force: bool = False, timeout: float | None = None) -> None:
        """Delete the bucket (``force`` deletes its objects first)."""
        check_bucket_name(bucket)
        if force:
            names = await self.list_objects(bucket, timeout=timeout)
            await self.delete_objects(bucket, names, timeout=timeout)
        await self._run("delete_bucket", self._store.delete_bucket, bucket, timeout=timeout)

    async def _bucket_exists(self, bucket: str, *, timeout: float | None = None) -> bool:
        check_bucket_name(bucket)
        return await self._run("bucket_exists", self._store.bucket_exists, bucket, timeout=timeout)

    # -- objects ---------------------------------------------------------------------------

    def _check(self, bucket: str, object_name: str) -> None:
        check_bucket_name(bucket)
        check_object_name(object_name)
        check_local_object_name(object_name)

    async def upload_file(
        self,
        local_path: StrPath,
        bucket: str,
        object_name: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> bool:
        """Copy a local file into the store (streamed in 1 MiB chunks)."""
        self._check(bucket, object_name)
        info = stored_info(os.fspath(local_path), content_type, normalize_metadata(metadata), guess=True)
        report = _progress_reporter(progress, threaded=self._store.threaded)

        with open_local_file(local_path) as source:  # a missing file fails here, typed

            def write() -> int:
                return self._store.write(bucket, object_name, source, info, report)

            size = await self._run("upload_file", write, timeout=timeout)
        self.stats.add_sent(size)
        return True

    async def upload_stream(
        self,
        bucket: str,
        object_name: str,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> bool:
        """Store an object from an async iterable of chunks (spooled to a temp file that is
        renamed into place, or gathered in memory for the in-memory store)."""
        self._check(bucket, object_name)
        info = stored_info(object_name, content_type, normalize_metadata(metadata), guess=False)
        await self._bucket_must_exist(bucket, timeout=timeout)
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
            async for chunk in chunks:
                await anyio.to_thread.run_sync(spool.write, chunk)
                if progress is not None:
                    progress(len(chunk))
            spool.seek(0)

            def write() -> int:
                return self._store.write(bucket, object_name, spool, info, _ignore)  # type: ignore[arg-type]

            size = await self._run("upload_stream", write, timeout=timeout)
        self.stats.add_sent(size)
        return True

    async def _bucket_must_exist(self, bucket: str, *, timeout: float | None) -> None:
        if not await self._bucket_exists(bucket, timeout=timeout):
            raise NotFoundError(f"bucket {bucket!r} does not exist", code="NoSuchBucket", provider="local")

    async def put_bytes(
        self,
        bucket: str,
        object_name: str,
        data: bytes,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> ObjectMetadata:
        """Store ``data`` as an object."""
        self._check(bucket, object_name)
        data = check_data(data)
        info = stored_info(object_name, content_type, normalize_metadata(metadata), guess=False)

        def write() -> ObjectMetadata:
            self._store.write(bucket, object_name, io.BytesIO(data), info, _ignore)
            return self._store.stat(bucket, object_name)

        meta = await self._run("put_bytes", write, timeout=timeout)
        self.stats.add_sent(len(data))
        return meta

    async def stat(self, bucket: str, object_name: str, *, timeout: float | None = None) -> ObjectMetadata:
        """Describe one object."""
        self._check(bucket, object_name)
        return await self._run("stat", self._store.stat, bucket, object_name, timeout=timeout)

    async def get_bytes(
        self,
        bucket: str,
        object_name: str,
        *,
        start: int | None = None,
        end: int | None = None,
        timeout: float | None = None,
    ) -> bytes:
        """Return the object's content, or ``data[start:end]``."""
        self._check(bucket, object_name)

        def read() -> bytes:
            size = self._store.stat(bucket, object_name).size
            offset, length = slice_bounds(start, end, size)
            return self._store.read(bucket, object_name, offset, length)

        data = await self._run("get_bytes", read, timeout=timeout)
        self.stats.add_received(len(data))
        return data

    async def open_read(
        self,
        bucket: str,
        object_name: str,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        timeout: float | None = None,
    ) -> AsyncIterator[bytes]:
        """Stream the object's content in chunks, read until the file ends (whatever size
        it reported: a file of ``/proc`` reports none)."""
        self._check(bucket, object_name)
        if chunk_size <= 0:
            raise ConfigurationError("chunk_size must be positive")
        offset = 0
        while True:
            chunk = await self._run(
                "open_read", self._store.read, bucket, object_name, offset, chunk_size, timeout=timeout
            )
            if not chunk:
                return
            offset += len(chunk)
            self.stats.add_received(len(chunk))
            yield chunk

    async def download_file(
        self,
        bucket: str,
        object_name: str,
        local_path: StrPath,
        *,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> bool:
        """Copy an object to a local file, atomically."""
        self._check(bucket, object_name)
        async with atomic_destination(local_path) as dest:
            await self.stat(bucket, object_name, timeout=timeout)
            async for chunk in self.open_read(bucket, object_name, timeout=timeout):
                await dest.write(chunk)
                if progress is not None:
                    progress(len(chunk))
        return True

    async def delete_object(self, bucket: str, object_name: str, *, timeout: float | None = None) -> None:
        """Delete an object (a missing object is not an error)."""
        self._check(bucket, object_name)
        await self._run("delete_object", self._store.delete, bucket, object_name, timeout=timeout)

    async def copy_object(
        self,
        source_bucket: str,
        source_name: str,
        dest_bucket: str,
        dest_name: str,
        *,
        timeout: float | None = None,
    ) -> None:
        """Copy an object, keeping its content type and metadata."""
        self._check(source_bucket, source_name)
        self._check(dest_bucket, dest_name)
        await self._run(
            "copy_object", self._store.copy, source_bucket, source_name, dest_bucket, dest_name, timeout=timeout
        )

    def iter_objects(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        page_size: int | None = None,
        timeout: float | None = None,
    ) -> AsyncPaginator[ObjectMetadata]:
        """List objects lazily in name order (``page_size`` per page, default 1,000)."""
        check_bucket_name(bucket)
        check_prefix(prefix, delimiter)
        if delimiter == "":
            raise ConfigurationError("delimiter must not be empty")
        limit = page_size or _PAGE_SIZE

        async def fetch(token: str | None) -> Page[ObjectMetadata]:
            start_after = token or ""
            items: list[ObjectMetadata] = []
            while len(items) < limit:
                batch = await self._run(
                    "iter_objects", self._store.list_page, bucket, prefix, start_after, limit, timeout=timeout
                )
                if not batch:
                    return Page(items, None)
                for meta in batch:
                    if len(items) >= limit:
                        break
                    rolled = _roll_up(meta, prefix, delimiter)
                    start_after = meta.name if rolled is meta else rolled.name + "\U0010ffff"
                    if not (items and items[-1].is_prefix and items[-1].name == rolled.name):
                        items.append(rolled)
            return Page(items, start_after)

        return AsyncPaginator(fetch)

    async def _open_range(
        self,
        bucket: str,
        object_name: str,
        offset: int,
        length: int | None,
        *,
        version: str | None = None,
        timeout: float | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        operation: str = "open",
    ) -> RangeStream:
        """The primitive of :meth:`open`: the object's description and a handle on its bytes
        taken together (a file stays open until the reader closes, so a file replaced
        meanwhile still reads as it was; the in-memory store hands the range over), then
        the range in chunks of ``chunk_size``."""
        store = self._store

        def begin() -> tuple[ObjectMetadata, int, int, BinaryIO | bytes]:
            meta = store.stat(bucket, object_name)
            start = min(offset, meta.size)
            span = meta.size - start if length is None else max(0, min(length, meta.size - start))
            if isinstance(store, FilesystemStore):
                return meta, start, span, store.open(bucket, object_name)
            return meta, start, span, store.read(bucket, object_name, start, span)

        meta, start, span, source = await self._run(operation, begin, timeout=timeout)

        def close() -> None:
            if not isinstance(source, bytes):
                source.close()

        if version is not None and meta.etag != version:
            close()
            raise PreconditionFailedError(f"{bucket}/{object_name} changed", code="ConditionNotMet", provider="local")

        async def chunks() -> AsyncIterator[bytes]:
            position = 0
            try:
                while position < span:
                    size = min(chunk_size, span - position)
                    if isinstance(source, bytes):
                        chunk = source[position : position + size]
                    else:
                        with self._runner.errors(operation):  # the body of the one "request"
                            chunk = await anyio.to_thread.run_sync(os.pread, source.fileno(), size, start + position)
                    if not chunk:
                        return
                    position += len(chunk)
                    self.stats.add_received(len(chunk))
                    yield chunk
            finally:
                close()

        return RangeStream(meta, length=span, version=meta.etag, chunks=chunks(), close=close)


def _roll_up(meta: ObjectMetadata, prefix: str, delimiter: str | None) -> ObjectMetadata:
    if delimiter is None:
        return meta
    index = meta.name.find(delimiter, len(prefix))
    if index < 0:
        return meta
    common = meta.name[: index + len(delimiter)]
    return ObjectMetadata(
        name=common,
        bucket=meta.bucket,
        size=0,
        etag=None,
        content_type=None,
        last_modified=None,
        provider=meta.provider,
        is_prefix=True,
    )


def _ignore(_: int) -> None:
    return None


def _progress_reporter(progress: ProgressCallback | None, *, threaded: bool) -> Callable[[int], None]:
    if progress is None:
        return _ignore
    if not threaded:
        return progress
    callback = progress

    def report(n: int) -> None:
        anyio.from_thread.run_sync(callback, n)

    return report
