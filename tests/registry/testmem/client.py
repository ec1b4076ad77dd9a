"""The test-only in-memory storage client: the whole contract in about 150 lines, built
only on the public helpers of :mod:`cloud.common`."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import ClassVar

import anyio.to_thread

from cloud.common.base import DEFAULT_CHUNK_SIZE, StorageClient
from cloud.common.enums import CloudProvider
from cloud.common.exceptions import ConfigurationError, ConflictError, NotFoundError, PreconditionFailedError
from cloud.common.files import atomic_destination, guess_content_type, open_local_file
from cloud.common.models import ObjectMetadata
from cloud.common.objects import RangeStream
from cloud.common.pagination import AsyncPaginator, Page
from cloud.common.sync import SyncClient
from cloud.common.types import ProgressCallback, StrPath
from cloud.common.validation import (
    check_content_type,
    check_data,
    check_object_name,
    check_prefix,
    normalize_metadata,
    slice_bounds,
)

__all__ = ["SyncTestMemClient", "TestMemClient", "iter_buckets"]


@dataclass
class _Object:
    data: bytes
    content_type: str
    metadata: dict[str, str]
    modified: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


_BUCKETS: dict[str, dict[str, _Object]] = {}
"""Every bucket of the process: name -> object name -> object."""


def _check_bucket(bucket: str) -> str:
    if not isinstance(bucket, str) or not 3 <= len(bucket) <= 63 or not all(c.isalnum() or c == "-" for c in bucket):
        raise ConfigurationError(f"invalid test-mem bucket name {bucket!r}")
    return bucket


class TestMemClient(StorageClient):
    """The storage contract on a dict shared by the whole process."""

    __test__ = False  # not a pytest test class
    provider: ClassVar[CloudProvider] = CloudProvider("test-mem")

    def __init__(self, *, timeout: float | None = None) -> None:
        super().__init__()
        if timeout is not None and not timeout > 0:
            raise ConfigurationError("timeout must be a positive number of seconds")

    async def aclose(self) -> None:
        """Nothing to release."""

    def _check(self, bucket: str, object_name: str) -> None:
        _check_bucket(bucket)
        check_object_name(object_name)

    def _bucket(self, bucket: str) -> dict[str, _Object]:
        try:
            return _BUCKETS[_check_bucket(bucket)]
        except KeyError:
            raise NotFoundError(f"bucket {bucket!r} does not exist", code="NoSuchBucket", provider="test-mem") from None

    def _object(self, bucket: str, name: str) -> _Object:
        self._check(bucket, name)
        self.stats.record_request()  # one "request" per object read, write or listing page
        found = self._bucket(bucket).get(name)
        if found is None:
            raise NotFoundError(f"no object {name!r} in {bucket!r}", code="NoSuchKey", provider="test-mem")
        return found

    def _meta(self, bucket: str, name: str, obj: _Object) -> ObjectMetadata:
        return ObjectMetadata(
            name=name,
            bucket=bucket,
            size=len(obj.data),
            etag=hashlib.md5(obj.data).hexdigest(),
            content_type=obj.content_type,
            last_modified=obj.modified,
            metadata=dict(obj.metadata),
            provider=self.provider,
        )

    def _store(
        self, bucket: str, name: str, data: bytes, content_type: str | None, metadata: Mapping[str, str] | None
    ) -> _Object:
        self._check(bucket, name)
        kind = check_content_type(content_type) if content_type is not None else "application/octet-stream"
        obj = _Object(data, kind, normalize_metadata(metadata))
        self.stats.record_request()
        objects = self._bucket(bucket)
        objects[name] = obj
        self.stats.add_sent(len(data))
        return obj

    async def ensure_bucket(self, bucket: str, *, timeout: float | None = None) -> bool:
        """Create the bucket if needed."""
        if _check_bucket(bucket) in _BUCKETS:
            return False
        _BUCKETS[bucket] = {}
        return True

    async def delete_bucket(self, bucket: str, *, force: bool = False, timeout: float | None = None) -> None:
        """Delete the bucket (``force``: with its objects)."""
        objects = self._bucket(bucket)
        if objects and not force:
            raise ConflictError(f"bucket {bucket!r} is not empty", code="BucketNotEmpty", provider="test-mem")
        del _BUCKETS[bucket]

    async def _bucket_exists(self, bucket: str, *, timeout: float | None = None) -> bool:
        return _check_bucket(bucket) in _BUCKETS

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
        """Store a local file (content type guessed from its name unless given)."""
        check_object_name(object_name)
        if content_type is not None:
            check_content_type(content_type)
        self._bucket(bucket)
        normalize_metadata(metadata)
        content_type = content_type or guess_content_type(str(local_path))
        with open_local_file(local_path) as source:
            data = await anyio.to_thread.run_sync(source.read)
        self._store(bucket, object_name, data, content_type, metadata)
        if progress is not None:
            progress(len(data))
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
        """Store an object from chunks."""
        check_object_name(object_name)
        if content_type is not None:
            check_content_type(content_type)
        self._bucket(bucket)
        normalize_metadata(metadata)
        parts = []
        async for chunk in chunks:
            parts.append(bytes(chunk))
            if progress is not None:
                progress(len(chunk))
        self._store(bucket, object_name, b"".join(parts), content_type, metadata)
        return True

    async def download_file(
        self,
        bucket: str,
        object_name: str,
        local_path: StrPath,
        *,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> bool:
        """Write an object to a local file, atomically."""
        check_object_name(object_name)
        async with atomic_destination(local_path) as dest:
            data = self._object(bucket, object_name).data
            await dest.write(data)
            if progress is not None:
                progress(len(data))
        self.stats.add_received(len(data))
        return True

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
        """Store ``data``."""
        data = check_data(data)
        obj = self._store(bucket, object_name, bytes(data), content_type, metadata)
        return self._meta(bucket, object_name, obj)

    async def get_bytes(
        self,
        bucket: str,
        object_name: str,
        *,
        start: int | None = None,
        end: int | None = None,
        timeout: float | None = None,
    ) -> bytes:
        """Return ``data[start:end]``."""
        data = self._object(bucket, object_name).data
        offset, length = slice_bounds(start, end, len(data))
        self.stats.add_received(length)
        return data[offset : offset + length]

    async def open_read(
        self,
        bucket: str,
        object_name: str,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        timeout: float | None = None,
    ) -> AsyncIterator[bytes]:
        """Stream the object in chunks."""
        if chunk_size <= 0:
            raise ConfigurationError("chunk_size must be positive")
        data = self._object(bucket, object_name).data
        for offset in range(0, len(data), chunk_size):
            yield data[offset : offset + chunk_size]

    async def _open_range(
        self,
        bucket: str,
        object_name: str,
        offset: int,
        length: int | None,
        *,
        version: str | None = None,
        timeout: float | None = None,
    ) -> RangeStream:
        """The primitive of :meth:`open`: one "GET" of a range, the bytes taken at once."""
        self._check(bucket, object_name)
        obj = self._object(bucket, object_name)
        meta = self._meta(bucket, object_name, obj)
        if version is not None and meta.etag != version:
            raise PreconditionFailedError(
                f"{bucket}/{object_name} changed", code="ConditionNotMet", provider="test-mem"
            )
        start = min(offset, meta.size)
        span = meta.size - start if length is None else max(0, min(length, meta.size - start))
        data = obj.data[start : start + span]

        async def chunks() -> AsyncIterator[bytes]:
            for at in range(0, len(data), DEFAULT_CHUNK_SIZE):
                yield data[at : at + DEFAULT_CHUNK_SIZE]

        return RangeStream(meta, length=span, version=meta.etag, chunks=chunks(), close=lambda: None)

    async def stat(self, bucket: str, object_name: str, *, timeout: float | None = None) -> ObjectMetadata:
        """Describe one object."""
        return self._meta(bucket, object_name, self._object(bucket, object_name))

    async def delete_object(self, bucket: str, object_name: str, *, timeout: float | None = None) -> None:
        """Delete an object (a missing one is not an error)."""
        check_object_name(object_name)
        self._bucket(bucket).pop(object_name, None)

    async def copy_object(
        self,
        source_bucket: str,
        source_name: str,
        dest_bucket: str,
        dest_name: str,
        *,
        timeout: float | None = None,
    ) -> None:
        """Copy an object with its content type and metadata."""
        self._check(source_bucket, source_name)
        self._check(dest_bucket, dest_name)
        obj = self._object(source_bucket, source_name)
        self._bucket(dest_bucket)[dest_name] = _Object(obj.data, obj.content_type, dict(obj.metadata))

    def iter_objects(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        page_size: int | None = None,
        timeout: float | None = None,
    ) -> AsyncPaginator[ObjectMetadata]:
        """List objects in name order, ``page_size`` (default 1,000) per page."""
        _check_bucket(bucket)
        check_prefix(prefix, delimiter)
        if delimiter == "":
            raise ConfigurationError("delimiter must not be empty")
        limit = page_size or 1000

        async def fetch(token: str | None) -> Page[ObjectMetadata]:
            objects = self._bucket(bucket)
            self.stats.record_request()
            items: list[ObjectMetadata] = []
            seen: set[str] = set()
            for name in sorted(n for n in objects if n.startswith(prefix) and (token is None or n > token)):
                index = name.find(delimiter, len(prefix)) if delimiter else -1
                if index >= 0:
                    common = name[: index + len(delimiter or "")]
                    if common in seen or (token is not None and common <= token):
                        continue
                    seen.add(common)
                    items.append(
                        ObjectMetadata(common, bucket, 0, None, None, None, provider=self.provider, is_prefix=True)
                    )
                    last = common + "\U0010ffff"
                else:
                    items.append(self._meta(bucket, name, objects[name]))
                    last = name
                if len(items) >= limit:
                    return Page(items, last)
            return Page(items, None)

        return AsyncPaginator(fetch)


class SyncTestMemClient(SyncClient[TestMemClient]):
    """Blocking facade of :class:`TestMemClient` (the one generic mechanism)."""

    _async_class = TestMemClient


async def iter_buckets(client: StorageClient) -> AsyncIterator[str]:
    """The buckets of the process, in name order."""
    for name in sorted(_BUCKETS):
        yield name
