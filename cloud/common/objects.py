"""Objects opened as streams: :class:`ObjectReader` and :class:`ObjectWriter`, and their
blocking, file-like forms :class:`SyncObjectReader` and :class:`SyncObjectWriter`.

``client.open(bucket, name)`` is made for HTTP handlers: entering it sends the one GET,
so a missing object raises ``NotFoundError`` *before* a response is started, and the size,
content type, ETag and user metadata come from that GET's response headers (no HEAD).  The
body is then read chunk by chunk; leaving the ``async with`` (or cancelling the task that
reads) closes the HTTP response at once, so a client that went away stops the download.

``client.open_write(bucket, name)`` feeds the provider's ``upload_stream`` (S3 multipart,
Azure blocks, GCS resumable) through a small bounded queue, so memory stays bounded by the
provider's part size; the object appears only when the ``async with`` exits cleanly, and an
exception or a cancellation aborts the upload (nothing is committed, no parts are left).

Each provider supplies one primitive, ``_open_range(bucket, name, offset, length, *,
version, timeout, chunk_size, operation) -> RangeStream``: one GET of ``length`` bytes at
``offset`` (``None``: to the end; from offset 0 the whole object, verified when its body
ends); ``open_read`` streams a whole-object one.  The provider hands its response's body
to :func:`body_chunks`, which reads it under deadlines, hashes, counts and verifies it.
Everything else (slice rules, buffering, ``read(n)``, seeking by re-opening a range) is
here, once.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from .deadline import check_timeout
from .exceptions import BadRequestError, ConfigurationError, PreconditionFailedError, TransportError
from .models import ObjectMetadata
from .stream_download import block_deadline
from .validation import check_content_type, normalize_metadata, range_needs_size, slice_bounds

if TYPE_CHECKING:
    from .base import StorageClient
    from .operations import OperationRunner

__all__ = ["body_chunks", "ObjectReader", "ObjectWriter", "RangeStream", "SyncObjectReader", "SyncObjectWriter"]

T = TypeVar("T")

BlockingCall = Callable[..., Any]
"""Runs ``await fn(*args)`` in the sync facade's event loop and returns its result."""

_SKIP_FORWARD = 256 * 1024  # a forward seek up to this far reads on instead of re-opening
_WRITE_QUEUE = 2  # chunks a writer may queue ahead of the upload
_ABORT_SECONDS = 90.0  # longest wait for an aborted upload to wind down


class RangeStream:
    """One GET as a provider's ``_open_range`` returns it: what its response headers said,
    and its body, not read yet.

    ``meta`` describes the whole object (``meta.size`` is the object's size), ``length`` is
    the number of bytes the body carries, ``version`` pins later ranges to this version of
    the object (an ETag, a GCS generation; ``None`` when unknown).  ``chunks`` yields the
    body and, for a whole-object GET, raises ``IntegrityError`` after the last chunk when
    the content does not match the checksum the service stored.  ``close`` drops the HTTP
    response at once (the connection is closed, never drained); it may be called more than
    once and after the body was read.
    """

    __slots__ = ("_closed", "chunks", "close", "length", "meta", "version")

    def __init__(
        self,
        meta: ObjectMetadata,
        *,
        length: int,
        version: str | None,
        chunks: AsyncIterator[bytes],
        close: Callable[[], object],
    ) -> None:
        self.meta = meta
        self.length = length
        self.version = version
        self.chunks = chunks
        self.close = close
        self._closed = False

    async def aclose(self) -> None:
        """Stop reading: close the body's iterator, then the HTTP response.  Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            aclose = getattr(self.chunks, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()
        finally:
            self.close()


async def body_chunks(
    read: Callable[[int], Awaitable[bytes]],
    *,
    chunk_size: int,
    runner: OperationRunner,
    operation: str,
    timeout: float | None,
    update: Callable[[bytes], object] | None = None,
    verify: Callable[[], object] | None = None,
    release: Callable[[], object] | None = None,
    close: Callable[[], object],
    read_nowait: Callable[[int], bytes] | None = None,
) -> AsyncIterator[bytes]:
    r"""The body of a :class:`RangeStream`: chunks of at most ``chunk_size`` bytes from
    ``read(chunk_size)`` (pieces it returns larger are split; ``b""`` ends the body), each
    fed to ``update`` and counted in the runner's ``stats``; at the end ``verify`` raises
    when the content does not match what the service stored.  A read that waits for the
    network has a deadline (``timeout``, else the runner's, else the stall guard); with
    ``read_nowait``, what already arrived is taken without one.  Errors are mapped for
    ``operation``.  A body read to its end and verified is ``release``\ d (the connection
    may be reused); one cancelled, broken or abandoned is ``close``\ d at once."""
    limit = timeout if timeout is not None else runner.timeout
    add_received = runner.stats.add_received
    finished = False
    try:
        while True:
            chunk = b""
            if read_nowait is not None:
                try:
                    chunk = read_nowait(chunk_size)
                except Exception:
                    with runner.errors(operation):
                        raise
            if not chunk:
                with runner.errors(operation), block_deadline(limit):
                    chunk = await read(chunk_size)
                if not chunk:
                    break
            if update is not None:
                update(chunk)
            add_received(len(chunk))
            if len(chunk) <= chunk_size:
                yield chunk
            else:
                for i in range(0, len(chunk), chunk_size):
                    yield chunk[i : i + chunk_size]
        if verify is not None:
            with runner.errors(operation):
                verify()
        finished = True
    finally:
        if not finished:
            close()
        elif release is not None:
            release()


class ObjectReader:
    """An object opened for reading: ``async with client.open(bucket, name) as r:``.

    Entering sends one GET; a missing object or bucket raises ``NotFoundError`` there, and
    ``size``, ``content_type``, ``etag``, ``metadata`` and ``last_modified`` are known
    before the first byte is read.  ``start``/``end`` select ``data[start:end]`` (Python
    slice rules, ``end`` exclusive; a negative bound costs a metadata request first, to
    learn the size).  Read with ``await r.read(n)`` or ``async for chunk in r``; a read of
    the whole object is checked against the checksum the service stored when its last
    byte arrives (``IntegrityError``; the last chunk is not handed out then).  Leaving the
    ``async with``, :meth:`aclose` or cancelling the reading task closes the HTTP response
    at once.  :meth:`seek` re-opens a ranged GET at the new position, pinned to the version
    first read where the service allows (a changed object raises
    ``PreconditionFailedError``).  ``timeout`` bounds opening and each chunk.
    """

    def __init__(
        self,
        client: StorageClient,
        bucket: str,
        object_name: str,
        *,
        start: int | None = None,
        end: int | None = None,
        timeout: float | None = None,
    ) -> None:
        for bound, label in ((start, "start"), (end, "end")):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int)):
                raise ConfigurationError(f"{label} must be an integer or None")
        self.bucket = bucket
        """The bucket of the object."""
        self.object_name = object_name
        """The name of the object."""
        self._client = client
        self._start = start
        self._end = end
        self._timeout = check_timeout(timeout, provider=client.provider.value)
        self._meta: ObjectMetadata | None = None
        self._base = 0  # the object offset of this reader's first byte
        self._size = 0  # bytes this reader returns
        self._pos = 0  # reader position of the next byte handed out
        self._fetched = 0  # reader position of the next byte the stream gives
        self._stream: RangeStream | None = None
        self._buffer = b""
        self._buffer_at = 0  # bytes of ``_buffer`` already handed out
        self._to_end = False  # the reader ends where the object does
        self._version: str | None = None
        self._closed = False

    # -- what the response headers said ---------------------------------------------------

    def _described(self) -> ObjectMetadata:
        if self._meta is None:
            raise RuntimeError("the reader is not open yet: use 'async with client.open(...) as reader'")
        return self._meta

    @property
    def size(self) -> int:
        """The number of bytes this reader returns (``data[start:end]``'s length)."""
        self._described()
        return self._size

    @property
    def object_size(self) -> int:
        """The size of the whole object."""
        return self._described().size

    @property
    def content_type(self) -> str | None:
        """The object's content type."""
        return self._described().content_type

    @property
    def etag(self) -> str | None:
        """The object's ETag (without quotes; ``None`` when the service sent none)."""
        return self._described().etag

    @property
    def metadata(self) -> Mapping[str, str]:
        """The object's user metadata (lower-case keys)."""
        return self._described().metadata

    @property
    def last_modified(self) -> datetime | None:
        """When the object was last written (timezone-aware UTC), when the service says."""
        return self._described().last_modified

    @property
    def info(self) -> ObjectMetadata:
        """Everything above as :class:`ObjectMetadata` (``size`` is the object's size)."""
        return self._described()

    # -- opening and closing ---------------------------------------------------------------

    async def __aenter__(self) -> ObjectReader:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Send the first GET (what ``async with`` does); ``NotFoundError`` if missing."""
        if self._meta is not None or self._closed:
            raise RuntimeError("an ObjectReader is opened once")
        client, start, end = self._client, self._start, self._end
        if range_needs_size(start, end):
            known = await client.stat(self.bucket, self.object_name, timeout=self._timeout)
            for _ in range(3):
                offset, length = slice_bounds(start, end, known.size)
                if length == 0:
                    self._describe_empty(known, offset)
                    return
                stream = await self._first(offset, length, None)
                if stream is None or stream.meta.size == known.size:
                    break
                await stream.aclose()  # replaced in between: resolve the bounds again
                known = stream.meta
            else:
                raise PreconditionFailedError("the object kept changing while it was being opened")
            if stream is not None:
                self._adopt(stream, offset, to_end=end is None or offset + length >= stream.meta.size)
            return
        offset = start or 0
        if end is not None and end <= offset:
            self._describe_empty(await client.stat(self.bucket, self.object_name, timeout=self._timeout), offset)
            return
        stream = await self._first(offset, None if end is None else end - offset, None)
        if stream is not None:
            self._adopt(stream, offset, to_end=end is None or end >= stream.meta.size)

    async def _first(self, offset: int, length: int | None, version: str | None) -> RangeStream | None:
        """The first GET; ``None`` (and an empty reader) when the range starts past the end."""
        try:
            return await self._client._open_range(
                self.bucket, self.object_name, offset, length, version=version, timeout=self._timeout
            )
        except BadRequestError as exc:
            if exc.status_code != 416:
                raise
        # Nothing at ``offset`` (past the end, or an empty object): the object exists.
        self._describe_empty(await self._client.stat(self.bucket, self.object_name, timeout=self._timeout), offset)
        return None

    def _adopt(self, stream: RangeStream, offset: int, *, to_end: bool) -> None:
        self._meta = stream.meta
        self._base = min(offset, stream.meta.size)
        self._size = stream.length
        self._version = stream.version
        self._to_end = to_end
        self._stream = stream
        if stream.length == 0:
            self._stream = None
            stream.close()  # nothing to read: give the response back at once

    def _describe_empty(self, meta: ObjectMetadata, offset: int) -> None:
        self._meta = meta
        self._base = min(offset, meta.size)
        self._size = 0
        self._version = None

    async def aclose(self) -> None:
        """Close the HTTP response now (the connection is dropped, not drained).  Idempotent."""
        self._closed = True
        stream, self._stream = self._stream, None
        self._buffer, self._buffer_at = b"", 0
        if stream is not None:
            await stream.aclose()

    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called (or the ``async with`` left)."""
        return self._closed

    # -- reading ---------------------------------------------------------------------------

    def _check_readable(self) -> None:
        self._described()
        if self._closed:
            raise ValueError("I/O operation on a closed ObjectReader")

    async def _reopen(self) -> RangeStream | None:
        """The stream at ``_fetched`` (a ranged GET after a seek or a failed read)."""
        stream = self._stream
        if stream is not None or self._fetched >= self._size:
            return stream
        offset = self._base + self._fetched
        whole = self._to_end and offset == 0
        length = None if self._to_end else self._size - self._fetched
        stream = await self._client._open_range(
            self.bucket, self.object_name, offset, length, version=self._version, timeout=self._timeout
        )
        expected = self._size - self._fetched
        if stream.meta.size != self.object_size or (stream.length != expected and not whole):
            await stream.aclose()
            raise PreconditionFailedError(
                f"{self.bucket}/{self.object_name} changed while it was being read", code="ObjectChanged"
            )
        self._stream = stream
        return stream

    async def _pull(self) -> bytes:
        """The next chunk of the stream (re-opened if needed); ``b""`` at the reader's end.
        The chunk that completes the body is handed out only once the body ended cleanly
        (and, for a whole object, was verified)."""
        stream = await self._reopen()
        if stream is None:
            return b""
        try:
            chunk = await anext(stream.chunks, b"")
            left = self._size - self._fetched
            if not chunk:
                raise TransportError(f"the response ended {left} bytes short")
            if len(chunk) >= left:
                extra: bytes = await anext(stream.chunks, b"")  # the end: a whole object is checked
                if len(chunk) > left or extra:
                    raise TransportError("the response is longer than announced")
                self._stream = None
        except BaseException:
            self._stream = None
            await stream.aclose()
            raise
        if self._stream is None:
            await stream.aclose()
        self._fetched += len(chunk)
        return chunk

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (at least one unless the reader is at its end, where it gives
        ``b""``); ``n < 0`` reads everything left."""
        self._check_readable()
        if n is None or n < 0:
            parts = [self._take(len(self._buffer))]
            while chunk := await self._pull():
                parts.append(chunk)
                self._pos += len(chunk)
            return b"".join(parts)
        if n == 0:
            return b""
        if self._buffer_at >= len(self._buffer):
            chunk = await self._pull()
            if not chunk:
                return b""
            if len(chunk) <= n:
                self._pos += len(chunk)
                return chunk
            self._buffer, self._buffer_at = chunk, 0
        return self._take(n)

    def _take(self, n: int) -> bytes:
        """Up to ``n`` buffered bytes."""
        start = self._buffer_at
        data = self._buffer[start : start + n]
        self._buffer_at += len(data)
        if self._buffer_at >= len(self._buffer):
            self._buffer, self._buffer_at = b"", 0
        self._pos += len(data)
        return data

    def __aiter__(self) -> ObjectReader:
        return self

    async def __anext__(self) -> bytes:
        """The next chunk, as it arrived (buffered bytes first)."""
        self._check_readable()
        if self._buffer:
            return self._take(len(self._buffer))
        chunk = await self._pull()
        if not chunk:
            raise StopAsyncIteration
        self._pos += len(chunk)
        return chunk

    def tell(self) -> int:
        """The position of the next byte read, from the reader's first byte."""
        return self._pos

    async def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move to ``offset`` (``whence`` as in :meth:`io.IOBase.seek`) and return the new
        position.  A short move forward reads on; any other re-opens a ranged GET (at the
        next read) pinned to the version first read."""
        self._check_readable()
        if isinstance(offset, bool) or not isinstance(offset, int):
            raise TypeError("offset must be an integer")
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._pos + offset
        elif whence == io.SEEK_END:
            target = self._size + offset
        else:
            raise ValueError(f"invalid whence ({whence!r})")
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        if target == self._pos:
            return target
        ahead = target - self._pos
        buffered = len(self._buffer) - self._buffer_at
        if 0 < ahead <= buffered:
            self._take(ahead)
            return target
        if 0 < ahead <= buffered + _SKIP_FORWARD and self._stream is not None and target <= self._size:
            self._take(buffered)
            while self._pos < target:
                chunk = await self._pull()
                if not chunk:
                    break
                keep = chunk[target - self._pos :]
                self._pos += len(chunk) - len(keep)
                if keep:
                    self._buffer, self._buffer_at = keep, 0
            return target
        stream, self._stream = self._stream, None
        self._buffer, self._buffer_at = b"", 0
        self._pos = self._fetched = target
        if stream is not None:
            await stream.aclose()
        return target

    def _sync_form(self, call: BlockingCall) -> SyncObjectReader:
        """The blocking, file-like form (the sync facade's ``open``), opened now."""
        return SyncObjectReader(self, call)


class _Aborted(Exception):
    """Ends the chunks of an aborted writer's upload (never leaves :class:`ObjectWriter`)."""


class ObjectWriter:
    """An object opened for writing: ``async with client.open_write(bucket, name) as w:``.

    ``await w.write(data)`` hands bytes to the provider's streamed upload (S3 multipart,
    Azure blocks, GCS resumable, one request when everything fits in one part) running in
    a task beside the caller, through a queue of two chunks, so memory is bounded by the
    provider's part size whatever the object's size.  Nothing is visible until the ``async
    with`` exits cleanly (or :meth:`commit`); an exception, a cancellation or :meth:`abort`
    discards everything (the multipart upload is aborted, no block is committed, the GCS
    session is cancelled).  A failure of the upload is raised by the next ``write`` or by
    the commit.  ``timeout`` bounds the whole upload, from opening to commit; without it,
    each request gets the client's default.
    """

    def __init__(
        self,
        client: StorageClient,
        bucket: str,
        object_name: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> None:
        self.bucket = bucket
        """The bucket of the object."""
        self.object_name = object_name
        """The name of the object."""
        self.content_type = None if content_type is None else check_content_type(content_type)
        """The content type it is stored with (``None``: the provider's default)."""
        self.metadata: Mapping[str, str] = normalize_metadata(metadata)
        """The user metadata it is stored with."""
        self.bytes_written = 0
        """Bytes accepted by :meth:`write` so far."""
        self._client = client
        self._timeout = check_timeout(timeout, provider=client.provider.value)
        self._send, self._receive = anyio.create_memory_object_stream[bytes](_WRITE_QUEUE)
        self._task: asyncio.Task[None] | None = None
        self._state = "new"  # new -> open -> committed | aborted
        self._aborting = False

    async def __aenter__(self) -> ObjectWriter:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            await self.commit()
        else:
            await self.abort()

    @property
    def committed(self) -> bool:
        """Whether the object was stored."""
        return self._state == "committed"

    async def open(self) -> None:
        """Start the upload task (what ``async with`` does)."""
        if self._state != "new":
            raise RuntimeError("an ObjectWriter is opened once")
        self._state = "open"
        self._task = asyncio.get_running_loop().create_task(self._upload())
        await asyncio.sleep(0)  # argument refusals surface here, before any write
        if self._task.done():
            await self._finish()

    async def _chunks(self) -> AsyncIterator[bytes]:
        async for chunk in self._receive:
            if self._aborting:
                raise _Aborted
            yield chunk
        if self._aborting:
            raise _Aborted

    async def _upload(self) -> None:
        client = self._client
        upload: Callable[..., Awaitable[bool]] = client.upload_stream
        if self._timeout is None:
            # Not one deadline for the writer's whole life (which the caller paces): each
            # request keeps the client's default instead.
            inner = getattr(type(client).upload_stream, "__wrapped__", None)
            if inner is not None:
                upload = inner.__get__(client)
        with self._receive:  # a write waiting on a failed upload wakes up
            await upload(
                self.bucket,
                self.object_name,
                self._chunks(),
                content_type=self.content_type,
                metadata=self.metadata,
                timeout=self._timeout,
            )

    def _check_open(self) -> None:
        if self._state == "open":
            return
        task = self._task
        if self._state == "aborted" and task is not None and task.done() and not task.cancelled():
            failure = task.exception()
            if failure is not None and not isinstance(failure, _Aborted):
                raise failure  # the upload failed: that, again, not a vaguer error
        raise ValueError(f"I/O operation on an ObjectWriter that is {self._state}, not open")

    async def write(self, data: bytes | bytearray | memoryview) -> int:
        """Queue ``data`` for the upload (a copy is taken) and return its length; waits while
        the queue is full.  Raises the upload's error if it failed."""
        self._check_open()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ConfigurationError(f"data must be bytes, not {type(data).__name__}")
        chunk = bytes(data)
        if not chunk:
            return 0
        try:
            await self._send.send(chunk)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            await self._finish()  # raises the upload's error
            raise RuntimeError("the upload ended early") from None
        self.bytes_written += len(chunk)
        return len(chunk)

    async def commit(self) -> None:
        """End the stream and wait for the upload to store the object (raises its error)."""
        self._check_open()
        self._send.close()
        await self._finish()
        self._state = "committed"

    async def _finish(self) -> None:
        """Wait for the upload task; its failure is raised (and the writer is aborted).  A
        cancellation of the caller cancels the upload (which aborts) and waits for it."""
        task = self._task
        assert task is not None
        try:
            await asyncio.wait([task])
        except BaseException:
            await self._cancel(task)
            raise
        if task.cancelled() or task.exception() is not None:
            self._state = "aborted"
            self._send.close()
        task.result()

    async def abort(self) -> None:
        """Discard everything written: nothing is stored.  Idempotent."""
        if self._state in ("aborted", "committed"):
            return
        self._state = "aborted"
        self._aborting = True
        self._send.close()
        if self._task is not None:
            await self._cancel(self._task)

    @staticmethod
    async def _cancel(task: asyncio.Task[None]) -> None:
        if not task.done():
            task.cancel()
        with anyio.CancelScope(shield=True):
            await asyncio.wait([task], timeout=_ABORT_SECONDS)
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: an aborted upload's error is not reported twice

    def _sync_form(self, call: BlockingCall) -> SyncObjectWriter:
        """The blocking, file-like form (the sync facade's ``open_write``), opened now."""
        return SyncObjectWriter(self, call)


def _check_not_closed(file: io.RawIOBase) -> None:
    if file.closed:
        raise ValueError("I/O operation on closed file.")


class SyncObjectReader(io.RawIOBase):
    """The sync facade's :class:`ObjectReader`: a read-only, seekable ``io.RawIOBase``
    (``read``, ``readinto``, ``seek``, ``tell``), so ``io.BufferedReader``, ``zipfile``,
    ``csv`` over ``io.TextIOWrapper``, pandas or pyarrow can read an object like a file.
    Opened when created (``NotFoundError`` at once); a seek re-opens a ranged GET at the
    next read."""

    def __init__(self, reader: ObjectReader, call: BlockingCall) -> None:
        super().__init__()
        self._reader = reader
        self._call = call
        call(reader.open)

    @property
    def size(self) -> int:
        """Bytes this reader returns."""
        return self._reader.size

    @property
    def content_type(self) -> str | None:
        """The object's content type."""
        return self._reader.content_type

    @property
    def etag(self) -> str | None:
        """The object's ETag."""
        return self._reader.etag

    @property
    def metadata(self) -> Mapping[str, str]:
        """The object's user metadata."""
        return self._reader.metadata

    @property
    def last_modified(self) -> datetime | None:
        """When the object was last written."""
        return self._reader.last_modified

    def readable(self) -> bool:
        """``True``."""
        return True

    def seekable(self) -> bool:
        """``True``: a seek re-opens a ranged read."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Read up to ``len(buffer)`` bytes into ``buffer``; 0 at the end."""
        _check_not_closed(self)
        view = memoryview(buffer).cast("B")
        data: bytes = self._call(self._reader.read, len(view))
        view[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        """Up to ``size`` bytes (everything left when ``size`` is negative or ``None``)."""
        _check_not_closed(self)
        data: bytes = self._call(self._reader.read, -1 if size is None else size)
        return data

    def readall(self) -> bytes:
        """Everything left."""
        return self.read(-1)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move to ``offset`` (``whence`` as usual) and return the new position."""
        _check_not_closed(self)
        position: int = self._call(self._reader.seek, offset, whence)
        return position

    def tell(self) -> int:
        """The current position."""
        _check_not_closed(self)
        return self._reader.tell()

    def close(self) -> None:
        """Close the HTTP response now.  Idempotent."""
        if not self.closed:
            try:
                self._call(self._reader.aclose)
            finally:
                super().close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass  # the loop is gone (exit, fork) or this runs inside it: the GC closes it


class SyncObjectWriter(io.RawIOBase):
    """The sync facade's :class:`ObjectWriter`: a write-only ``io.RawIOBase``.  ``close()``
    (or leaving ``with`` cleanly) commits the object; leaving ``with`` on an exception, or
    :meth:`abort`, discards it.  A writer dropped without either is aborted, never
    committed half-written."""

    def __init__(self, writer: ObjectWriter, call: BlockingCall) -> None:
        super().__init__()
        self._writer = writer
        self._call = call
        call(writer.open)

    @property
    def bytes_written(self) -> int:
        """Bytes accepted so far."""
        return self._writer.bytes_written

    def writable(self) -> bool:
        """``True``."""
        return True

    def write(self, data: Any) -> int:
        """Hand ``data`` to the upload (all of it) and return its length."""
        _check_not_closed(self)
        written: int = self._call(self._writer.write, bytes(memoryview(data).cast("B")))
        return written

    def close(self) -> None:
        """Commit the object (raises the upload's error).  Idempotent."""
        if self.closed:
            return
        try:
            self._call(self._writer.commit)
        except BaseException:
            self._abort_quietly()
            raise
        finally:
            super().close()

    def abort(self) -> None:
        """Discard everything written; nothing is stored."""
        if not self.closed:
            try:
                self._call(self._writer.abort)
            finally:
                super().close()

    def _abort_quietly(self) -> None:
        try:
            self._call(self._writer.abort)
        except Exception:
            pass

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        try:
            if not self.closed:
                self.abort()
        except Exception:
            pass
