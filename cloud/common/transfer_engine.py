"""The transfer engine: uploads in parts and downloads in ranges, for every provider.

Providers supply primitives and this module holds the transfer logic once:

* **Uploads.** :func:`upload_blocks` makes the one choice between a single request and an
  upload in parts, from the first two blocks of a stream; :func:`upload_in_parts` begins an
  upload, sends its parts with bounded concurrency (items pulled lazily, so memory holds at
  most ``concurrency`` parts), commits them in order, and aborts on any failure, cancellation
  included, so nothing is left half-written.  The provider's :class:`PartUpload` sends one
  part, commits, aborts; each of its requests goes through the provider's runner, which
  retries it from its first byte.
* **Downloads.** :func:`download_in_ranges` asks the provider's :class:`RangedDownload` for
  a first range; an object that fits in it is written in one go, a larger one into a temp
  file, the rest in ranges (:func:`plan_ranges`, :func:`fetch_ranges`: bounded concurrency,
  the first failure cancels the rest), then checked whole and renamed into place.
  :func:`read_in_ranges` does the same into memory (:class:`MemorySink`), for ``get_bytes``
  of a large object or region.  Each range is retried from its first byte by the
  provider's runner; a whole-object mismatch (:class:`WholeObjectMismatch`) runs the
  transfer again (:func:`repeat_on_mismatch`).

Deadlines come from :mod:`cloud.common.deadline` (one per public call), whole-object checks
from :mod:`cloud.common.integrity`.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, cast

import anyio

from .bulk import map_bounded
from .exceptions import ConfigurationError, IntegrityError
from .files import AtomicDestination, atomic_destination, check_destination, write_file_atomically
from .types import ProgressCallback, StrPath

if TYPE_CHECKING:
    from .operations import OperationRunner

__all__ = [
    "ABORT_SECONDS",
    "MemorySink",
    "PartUpload",
    "RangeSink",
    "RangedDownload",
    "SegmentProgress",
    "WholeObjectMismatch",
    "download_in_ranges",
    "fetch_ranges",
    "plan_ranges",
    "read_in_ranges",
    "repeat_on_mismatch",
    "upload_blocks",
    "upload_in_parts",
]

X = TypeVar("X")
X_contra = TypeVar("X_contra", contravariant=True)
S_contra = TypeVar("S_contra", contravariant=True)
P = TypeVar("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

ABORT_SECONDS = 60.0
"""How long an abort may take once a transfer failed (it runs shielded from cancellation)."""


class PartUpload(Protocol[X_contra, P, R_co]):
    """One begun upload in parts, as a provider drives it (S3 multipart, Azure blocks)."""

    async def send_part(self, number: int, item: X_contra) -> P:
        """Send part ``number`` (from 1) made from ``item``; retried by the provider."""

    async def commit(self, parts: list[P]) -> R_co:
        """Make the parts, in order, the object."""

    async def abort(self) -> None:
        """Discard what was sent (best effort; failures are the provider's to log)."""


class _Numbered(Generic[X]):
    """``(number, item)`` pairs from 1, refusing more than ``limit`` parts."""

    def __init__(self, limit: int, message: str) -> None:
        self.limit = limit
        self.message = message

    async def over(self, items: AsyncIterable[X] | Iterable[X]) -> AsyncIterator[tuple[int, X]]:
        number = 0
        if isinstance(items, AsyncIterable):
            iterator = aiter(items)
            try:
                async for item in iterator:
                    number += 1
                    self._check(number)
                    yield number, item
            finally:
                close = getattr(iterator, "aclose", None)
                if close is not None:
                    await close()  # the caller's generator closes now, in this task
        else:
            for item in items:
                number += 1
                self._check(number)
                yield number, item

    def _check(self, number: int) -> None:
        if number > self.limit:
            raise ConfigurationError(self.message)


async def upload_in_parts(
    items: AsyncIterable[X] | Iterable[X],
    begin: Callable[[], Awaitable[PartUpload[X, P, R]]],
    *,
    concurrency: int,
    max_parts: int,
    too_many: str = "too many parts: use a larger part size",
) -> R:
    """Begin an upload, send a part per item (``concurrency`` at once), commit them in
    order and return what the commit returned.  Any failure, from a part, the items or a
    cancellation, aborts the upload (shielded, at most :data:`ABORT_SECONDS`) and is raised
    as itself; an exception raised by ``items`` propagates unchanged."""
    try:
        upload = await begin()
    except BaseException:
        close = getattr(items, "aclose", None)
        if close is not None:
            with anyio.CancelScope(shield=True):
                await close()
        raise
    numbered = _Numbered[X](max_parts, too_many)

    async def send(pair: tuple[int, X]) -> tuple[int, P]:
        number, item = pair
        return number, await upload.send_part(number, item)

    try:
        sent = await map_bounded(numbered.over(items), send, concurrency)
        return await upload.commit([part for _, part in sorted(sent, key=lambda pair: pair[0])])
    except BaseException:
        with anyio.move_on_after(ABORT_SECONDS, shield=True):
            await upload.abort()
        raise


async def upload_blocks(
    blocks: AsyncIterator[bytes],
    *,
    single: Callable[[bytes], Awaitable[R]],
    in_parts: Callable[[AsyncIterator[bytes]], Awaitable[R]],
) -> R:
    """The one choice between a single request and an upload in parts: a stream of at most
    one block goes to ``single`` (an empty stream as ``b""``), a longer one to ``in_parts``
    with every block, the two read ahead included.  ``blocks`` is closed on failure."""
    try:
        first = await anext(blocks, None)
        second = await anext(blocks, None) if first is not None else None
    except BaseException:
        close = getattr(blocks, "aclose", None)
        if close is not None:
            with anyio.CancelScope(shield=True):
                await close()
        raise
    if second is None:
        return await single(first or b"")
    assert first is not None

    async def chained() -> AsyncIterator[bytes]:
        try:
            yield first
            yield second
            async for block in blocks:
                yield block
        finally:
            close = getattr(blocks, "aclose", None)
            if close is not None:
                await close()

    return await in_parts(chained())


class SegmentProgress:
    """Reports progress of one range (or one whole transfer) exactly once, even when its
    request is retried from its first byte."""

    def __init__(self, progress: ProgressCallback | None) -> None:
        self._progress = progress
        self._reported = 0

    def advance(self, position: int) -> None:
        """The current attempt has received ``position`` bytes of the range."""
        if self._progress is not None and position > self._reported:
            delta = position - self._reported
            self._reported = position
            self._progress(delta)


class WholeObjectMismatch(IntegrityError):
    """Raised when an object moved in several requests (ranges of a download) does not match
    the digest the service stored for the whole object: no single request can be blamed, so
    :func:`repeat_on_mismatch` runs the whole transfer again.  Retryable."""


async def repeat_on_mismatch(runner: OperationRunner, operation: str, transfer: Callable[[], Awaitable[R]]) -> R:
    """Run ``transfer`` (its requests each retried by ``runner``) again from the start when
    its whole-object check fails, as often as the runner's retry policy allows, each time
    counted in ``stats``; any other failure was already retried request by request."""
    number = 0
    while True:
        try:
            return await transfer()
        except WholeObjectMismatch as exc:
            number += 1
            if number >= runner.retry.max_attempts:
                raise
            delay = runner.retry.backoff(number)
            runner.stats.record_retry()
            runner.logger.info(
                "retrying %s after %s (retry %d in %.2fs)",
                operation,
                type(exc).__name__,
                number,
                delay,
                extra={"provider": runner.provider, "operation": operation, "attempt": number + 1},
            )
            await runner.retry.sleep(delay)


def plan_ranges(start: int, total: int, size: int) -> list[tuple[int, int]]:
    """``(offset, length)`` ranges of at most ``size`` bytes covering ``[start, total)``."""
    return [(offset, min(size, total - offset)) for offset in range(start, total, size)]


async def fetch_ranges(
    ranges: Iterable[tuple[int, int]],
    fetch: Callable[[int, int], Awaitable[None]],
    *,
    concurrency: int,
) -> None:
    """``await fetch(offset, length)`` for every range, ``concurrency`` at once, ranges taken
    in order as workers free up; the first failure cancels the rest and is raised."""

    async def one(item: tuple[int, int]) -> None:
        await fetch(*item)

    await map_bounded(ranges, one, concurrency)


class RangeSink(Protocol):
    """Where the ranges of a download land: a temp file (:class:`AtomicDestination`) or
    memory (:class:`MemorySink`)."""

    async def write_at(self, data: bytes, offset: int) -> None:
        """Write ``data`` at ``offset`` (called from concurrent tasks)."""

    async def hash_into(self, update: Callable[[bytes], object], size: int) -> None:
        """Feed the first ``size`` bytes, in order, to ``update``."""


class MemorySink:
    """A download in ranges held in memory: one buffer of the final size, each range
    written at its offset (``get_bytes`` of a large object or region)."""

    def __init__(self, size: int) -> None:
        self._buffer = bytearray(size)
        self._view = memoryview(self._buffer)

    async def write_at(self, data: bytes, offset: int) -> None:
        """Copy ``data`` into the buffer at ``offset``."""
        self._view[offset : offset + len(data)] = data

    async def hash_into(self, update: Callable[[bytes], object], size: int) -> None:
        """Feed the first ``size`` bytes to ``update`` in a worker thread."""
        # hashlib takes any buffer: no copy of what may be a large read
        await anyio.to_thread.run_sync(update, cast(bytes, self._view[:size]))

    def take(self) -> bytes:
        """The content, as ``bytes`` (the buffer is not used again)."""
        self._view.release()
        return bytes(self._buffer)


class RangedDownload(Protocol[S_contra]):
    """One attempt at downloading an object (or a region of it) in ranges, as a provider
    drives it.  Offsets are relative to the start of what is downloaded."""

    range_size: int
    """Size of the ranges after the first (known once :meth:`first` has answered)."""

    async def first(self) -> tuple[bytes, int]:
        """Fetch the first range and return it with the size of the whole download.  When
        it holds all of it, the provider has already checked it against the object's digest."""

    async def fetch(self, dest: S_contra, offset: int, length: int, progress: SegmentProgress) -> None:
        """Fetch one later range into ``dest`` at ``offset`` (retried by the provider)."""

    async def finish(self, dest: S_contra, total: int) -> None:
        """Check the whole object (``WholeObjectMismatch`` when it does not match)."""


async def _fill_ranges(
    download: RangedDownload[S_contra],
    dest: S_contra,
    start: int,
    total: int,
    concurrency: int,
    tracker: Callable[[int], SegmentProgress],
) -> None:
    """Fetch ``[start, total)`` into ``dest`` in the download's ranges, then check it whole."""
    await fetch_ranges(
        plan_ranges(start, total, download.range_size),
        lambda offset, length: download.fetch(dest, offset, length, tracker(offset)),
        concurrency=concurrency,
    )
    await download.finish(dest, total)


async def download_in_ranges(
    local_path: StrPath,
    begin: Callable[[], RangedDownload[AtomicDestination]],
    *,
    concurrency: int,
    progress: ProgressCallback | None,
    runner: OperationRunner,
    operation: str,
) -> None:
    """Download an object to ``local_path``: one write of the first answer when it holds the
    whole object, else a temp file filled in ranges (``concurrency`` at once), checked whole
    and renamed into place.  Nothing partial is ever left; progress is reported once per
    byte, even when a range or the whole download is repeated."""
    replacing = check_destination(local_path)
    trackers: dict[int, SegmentProgress] = {}

    def tracker(offset: int) -> SegmentProgress:
        return trackers.setdefault(offset, SegmentProgress(progress))

    async def transfer() -> None:
        download = begin()
        data, total = await download.first()
        tracker(0).advance(len(data))
        if len(data) >= total:
            await write_file_atomically(local_path, data, replacing=replacing)
            return
        async with atomic_destination(local_path) as dest:
            await dest.truncate(total)
            await dest.write_at(data, 0)
            start = len(data)
            del data
            await _fill_ranges(download, dest, start, total, concurrency, tracker)

    await repeat_on_mismatch(runner, operation, transfer)


async def read_in_ranges(
    begin: Callable[[], RangedDownload[MemorySink]],
    *,
    concurrency: int,
    runner: OperationRunner,
    operation: str,
) -> bytes:
    """Read an object (or the region the provider's download covers) into memory: the first
    answer as it is when it holds everything, else a :class:`MemorySink` filled in ranges
    (``concurrency`` at once) and checked whole; a mismatch reads it all again."""
    nothing = SegmentProgress(None)

    async def transfer() -> bytes:
        download = begin()
        data, total = await download.first()
        if len(data) >= total:
            return data
        sink = MemorySink(total)
        await sink.write_at(data, 0)
        start = len(data)
        del data
        await _fill_ranges(download, sink, start, total, concurrency, lambda _: nothing)
        return sink.take()

    return await repeat_on_mismatch(runner, operation, transfer)
