"""Resumable uploads, two ways, both resumed from the offset the server says it committed
after any failure:

- a stream of unknown length goes in chunks, each one ``PUT`` with ``Content-Range``
  (memory about one chunk whatever the object size);
- a local file, whose length is known, goes in one ``PUT`` that streams the file from disk
  (no per-chunk round trip; memory about one read block).

https://cloud.google.com/storage/docs/performing-resumable-uploads
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, Protocol

import anyio

from cloud.common.chunks import stream_views
from cloud.common.exceptions import ConfigurationError, ServerError
from cloud.common.files import file_chunks
from cloud.common.operations import OperationRunner
from cloud.common.types import ProgressCallback, StrPath

from .checksums import Checksums

__all__ = [
    "CHUNK_MULTIPLE",
    "ChunkSource",
    "Sender",
    "committed_offset",
    "object_resource",
    "upload_file_resumable",
    "upload_resumable",
]

CHUNK_MULTIPLE = 256 * 1024
"""Every chunk but the last must be a multiple of 256 KiB."""

_RANGE = re.compile(r"bytes=(\d+)-(\d+)")


class Sender(Protocol):
    """Sends one request through the client's session; raises the vendor error for >= 400."""

    def __call__(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = ...,
        data: bytes | AsyncIterable[memoryview] | None = ...,
        params: Mapping[str, str] | None = ...,
    ) -> Awaitable[tuple[int, Mapping[str, str], bytes]]: ...


class ChunkSource:
    """Pulls chunks of any size from an async iterable and holds them until the server has
    committed them: the buffer always starts at the first uncommitted byte.  Pieces are
    kept as they came (no copying into one big buffer) and sent as views, so memory stays
    about one chunk plus one incoming piece.  Each byte is hashed once, in order (CRC32C,
    and MD5 unless ``md5=False``)."""

    def __init__(self, chunks: AsyncIterable[bytes], *, md5: bool = True) -> None:
        self._iterator: AsyncIterator[bytes] = chunks.__aiter__()
        self._pieces: deque[bytes] = deque()
        self._head = 0  # bytes of the first piece already committed
        self._buffered = 0
        self.offset = 0
        """Absolute offset of the first buffered byte (= bytes committed so far)."""
        self.exhausted = False
        self.checksums = Checksums(md5=md5)

    @property
    def buffered(self) -> int:
        """Bytes held in memory, not yet committed by the server."""
        return self._buffered

    async def fill(self, want: int) -> None:
        """Pull from the source until ``want`` bytes are buffered or it ends."""
        while not self.exhausted and self._buffered < want:
            try:
                chunk = await self._iterator.__anext__()
            except StopAsyncIteration:
                self.exhausted = True
                return
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise ConfigurationError(f"upload chunks must be bytes, not {type(chunk).__name__}")
            if chunk:
                data = bytes(chunk)  # no copy for bytes; a private copy of mutable buffers
                self.checksums.update(data)
                self._pieces.append(data)
                self._buffered += len(data)

    def views(self, size: int) -> list[memoryview]:
        """Zero-copy views of the first ``size`` buffered bytes."""
        out: list[memoryview] = []
        start = self._head
        for piece in self._pieces:
            if size <= 0:
                break
            view = memoryview(piece)[start : start + size]
            out.append(view)
            size -= len(view)
            start = 0
        return out

    def peek(self, size: int) -> bytes:
        """A copy of the first ``size`` buffered bytes."""
        return b"".join(self.views(size))

    def take_all(self) -> bytes:
        """Everything buffered, as one ``bytes`` (when the whole object fits one request):
        a body that came in one piece is handed on as it is, not copied."""
        pieces = self._pieces
        data = pieces[0] if len(pieces) == 1 and not self._head else self.peek(self._buffered)
        self._pieces.clear()
        self._head = self._buffered = 0
        return data

    def advance_to(self, offset: int) -> int:
        """Drop bytes the server committed up to ``offset``; return how many were dropped."""
        dropped = offset - self.offset
        if dropped < 0 or dropped > self._buffered:
            raise ServerError(
                f"GCS reported {offset} bytes committed, but {self.offset} were committed "
                f"before and only {self._buffered} more were sent",
                code="ResumableOffsetMismatch",
            )
        remaining = dropped
        while remaining:
            available = len(self._pieces[0]) - self._head
            if remaining >= available:
                self._pieces.popleft()
                self._head = 0
                remaining -= available
            else:
                self._head += remaining
                remaining = 0
        self._buffered -= dropped
        self.offset = offset
        return dropped

    async def aclose(self) -> None:
        """Close the source iterator (releasing e.g. another client's download stream)."""
        close = getattr(self._iterator, "aclose", None)
        if close is not None:
            await close()


def committed_offset(range_header: str | None) -> int:
    """Bytes committed according to a ``308 Resume Incomplete`` answer's ``Range`` header.

    No header means nothing was committed.  ``bytes=0-0`` is read as nothing too: GCS
    commits whole 256 KiB blocks (never a single byte of a multi-chunk upload), while
    gcp-storage-emulator answers ``bytes=0-0`` when it has received nothing.
    """
    if not range_header:
        return 0
    match = _RANGE.search(range_header)
    if not match:
        raise ServerError(f"GCS sent an unreadable Range header: {range_header!r}", code="MalformedResponse")
    end = int(match.group(2))
    return end + 1 if end > 0 else 0


async def upload_resumable(
    *,
    source: ChunkSource,
    start_session: Callable[[], Awaitable[str]],
    send: Sender,
    runner: OperationRunner,
    operation: str,
    chunk_size: int,
    timeout: float | None,
    progress: ProgressCallback | None,
) -> dict[str, Any]:
    """Upload everything ``source`` yields through a new resumable session; return the
    object resource.  Each chunk request goes through ``runner`` (timeout, retries, error
    table); a retried chunk first asks the server how much it committed and resumes there.
    On failure the session is cancelled, so nothing is committed."""
    session_url = await runner.call(operation, start_session, idempotent=True, timeout=timeout)
    dirty = False

    def advance(committed: int) -> None:
        dropped = source.advance_to(committed)
        if dropped and progress is not None:
            progress(dropped)

    async def step() -> dict[str, Any] | None:
        nonlocal dirty
        if dirty:
            known = str(source.offset + source.buffered) if source.exhausted else "*"
            status, headers, body = await send("PUT", session_url, headers={"Content-Range": f"bytes */{known}"})
            dirty = False
            if status in (200, 201):
                advance(source.offset + source.buffered)
                return object_resource(body)
            advance(committed_offset(headers.get("Range")))
        size = min(chunk_size, source.buffered)
        final = source.exhausted and size == source.buffered
        if not final:
            # Every chunk but the last must be a multiple of 256 KiB.  After a resume the
            # buffer may hold less than a chunk: send what aligns, or (only when the server
            # committed nearly all that was sent, so progress was made) refill first.
            size -= size % CHUNK_MULTIPLE
            if size == 0:
                return None
        start = source.offset
        if final:
            total = start + size
            content_range = f"bytes {start}-{total - 1}/{total}" if size else f"bytes */{total}"
        else:
            content_range = f"bytes {start}-{start + size - 1}/*"
        headers_out = {"Content-Range": content_range, "Content-Length": str(size)}
        if final:
            headers_out["X-Goog-Hash"] = source.checksums.goog_hash()
        # The chunk is streamed from the buffered pieces (a fresh iterator per attempt).
        payload = stream_views(*source.views(size)) if size else b""
        try:
            status, headers, body = await send("PUT", session_url, headers=headers_out, data=payload)
        except BaseException:
            dirty = True
            raise
        if status in (200, 201):
            advance(start + size)
            return object_resource(body)
        if status == 308:
            advance(committed_offset(headers.get("Range")))
            return None
        dirty = True
        raise ServerError(f"unexpected HTTP {status} to a resumable upload chunk", status_code=status)

    try:
        while True:
            await source.fill(chunk_size + 1)
            resource = await runner.call(operation, step, idempotent=True, timeout=timeout)
            if resource is not None:
                return resource
    except BaseException:
        with anyio.CancelScope(shield=True):
            await cancel_session(send, session_url)
        raise


async def upload_file_resumable(
    *,
    path: StrPath,
    size: int,
    start_session: Callable[[], Awaitable[str]],
    send: Sender,
    runner: OperationRunner,
    operation: str,
    block_size: int,
    timeout: float | None,
    progress: ProgressCallback | None,
) -> dict[str, Any]:
    """Upload the ``size`` bytes of a local file through a new resumable session in one
    streamed ``PUT``; return the object resource.  A retried attempt first asks the server
    how much it committed and streams the rest from there.  On failure the session is
    cancelled, so nothing is committed."""
    session_url = await runner.call(operation, start_session, idempotent=True, timeout=timeout)
    offset = 0  # bytes the server has committed
    reported = 0  # bytes reported to ``progress`` (never twice, whatever is re-sent)
    dirty = False

    async def blocks(start: int) -> AsyncIterator[memoryview]:
        nonlocal reported
        position = start
        async for block in file_chunks(path, block_size, start=start, length=size - start):
            yield memoryview(block)
            position += len(block)
            if progress is not None and position > reported:
                progress(position - reported)
                reported = position

    async def step() -> dict[str, Any] | None:
        nonlocal offset, dirty
        if dirty:
            status, headers, body = await send("PUT", session_url, headers={"Content-Range": f"bytes */{size}"})
            dirty = False
            if status in (200, 201):
                return object_resource(body)
            offset = _checked_offset(committed_offset(headers.get("Range")), size)
        remaining = size - offset
        content_range = f"bytes {offset}-{size - 1}/{size}" if remaining else f"bytes */{size}"
        headers_out = {"Content-Range": content_range, "Content-Length": str(remaining)}
        try:
            status, headers, body = await send(
                "PUT", session_url, headers=headers_out, data=blocks(offset) if remaining else b""
            )
        except BaseException:
            dirty = True
            raise
        if status in (200, 201):
            return object_resource(body)
        dirty = True
        if status == 308:  # the server kept only part of it: resume from what it committed
            return None
        raise ServerError(f"unexpected HTTP {status} to a resumable upload", status_code=status)

    try:
        while True:
            resource = await runner.call(operation, step, idempotent=True, timeout=timeout)
            if resource is not None:
                if progress is not None and size > reported:
                    progress(size - reported)
                return resource
    except BaseException:
        with anyio.CancelScope(shield=True):
            await cancel_session(send, session_url)
        raise


def _checked_offset(committed: int, size: int) -> int:
    if committed > size:
        raise ServerError(
            f"GCS reported {committed} bytes committed of a {size}-byte upload", code="ResumableOffsetMismatch"
        )
    return committed


async def cancel_session(send: Sender, session_url: str) -> None:
    """Best effort: cancel a resumable session so nothing is committed (GCS answers 499)."""
    with anyio.move_on_after(10):
        try:
            await send("DELETE", session_url)
        except Exception:
            pass


def object_resource(body: bytes) -> dict[str, Any]:
    """The object resource GCS answers a finished upload with."""
    try:
        data = json.loads(body or b"{}")
    except ValueError as exc:
        raise ServerError("GCS answered an upload with a body that is not JSON", code="MalformedResponse") from exc
    if not isinstance(data, dict):
        raise ServerError("GCS answered a finished upload without an object resource", code="MalformedResponse")
    return data
