"""A download streamed into a file, written once for every provider: the body's blocks are
received on the event loop while one background thread hashes and writes the earlier ones
to a temp file beside the destination, each block under a stall deadline; the whole body
is checked (length and the provider's whole-object hash), then renamed into place.  A body
broken or corrupted on the way is fetched again from its first byte, into a new temp file.

The provider's primitive opens the object and hands back either the whole body (a small
object, already checked) or a :class:`StreamedBody`: its next block of pieces, its length,
a hasher and the check of that hash."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import anyio

from .background import background_worker
from .exceptions import TransportError
from .files import atomic_destination, check_destination, pwrite_all, write_file_atomically
from .stats import ClientStats
from .transfer_engine import SegmentProgress
from .types import ProgressCallback, StrPath

__all__ = [
    "STALL_SECONDS",
    "WRITE_AHEAD",
    "BlockWriter",
    "StreamedBody",
    "block_deadline",
    "download_to_file",
]

STALL_SECONDS = 300.0
"""Without a call ``timeout``, a block that takes longer than this to arrive fails the attempt."""

WRITE_AHEAD = 4
"""Blocks a streamed download may queue for its writer thread."""

_pwritev = getattr(os, "pwritev", None)
_IOV_MAX = 1024


class BodyHasher(Protocol):
    """The running hash of a body, fed once, in order (from the writer thread)."""

    def update(self, data: bytes) -> object:
        """Add ``data``."""


@dataclass
class StreamedBody:
    """An opened object body, the primitive under :func:`download_to_file`.

    ``read_block()`` returns the next block as received pieces (about one block's size;
    empty at the end); ``length`` is the announced size, if any; ``hasher`` is fed every
    byte and ``check()`` raises when the hash does not match the object's; ``release()``
    gives the connection back."""

    read_block: Callable[[], Awaitable[list[bytes]]]
    length: int | None
    hasher: BodyHasher
    check: Callable[[], None]
    release: Callable[[], None]


def block_deadline(limit: float | None) -> AbstractContextManager[Any]:
    """The deadline of one block of a streamed body: the call's ``timeout`` when given, else
    the stall guard (``sock_read``'s job on requests whose body is read whole)."""
    return anyio.fail_after(limit if limit is not None else STALL_SECONDS)


class BlockWriter:
    """Hashes and appends blocks (lists of received pieces) to a file in one worker-thread
    call per block: one ``pwritev``, no joining copy.

    It writes through the descriptor of the temp file :func:`atomic_destination` made,
    from the worker thread, because ``AtomicDestination.write`` takes one buffer per (async)
    call: joining each block's pieces first costs a copy, and hashing apart a second hop."""

    def __init__(self, fd: int, hasher: BodyHasher) -> None:
        self._fd = fd
        self._hasher = hasher
        self._offset = 0

    def write(self, pieces: list[bytes]) -> int:
        """Hash ``pieces`` and write them after the previous ones; return their size."""
        start = self._offset
        update = self._hasher.update
        for piece in pieces:
            update(piece)
        fd, offset = self._fd, self._offset
        if _pwritev is None:
            for piece in pieces:
                offset += pwrite_all(fd, piece, offset)
        else:
            while pieces:
                batch = pieces[:_IOV_MAX]
                written = _pwritev(fd, batch, offset)
                offset += written
                rest = pieces[_IOV_MAX:]
                # After a short write, carry on after the last byte written.
                pieces = _after(batch, written) + rest if written < sum(map(len, batch)) else rest
        self._offset = offset
        return offset - start


def _after(pieces: list[bytes], skip: int) -> list[bytes]:
    out: list[bytes] = []
    for piece in pieces:
        if skip >= len(piece):
            skip -= len(piece)
            continue
        out.append(piece[skip:] if skip else piece)
        skip = 0
    return out


async def download_to_file(
    local_path: StrPath,
    open_body: Callable[[], Awaitable[bytes | StreamedBody]],
    *,
    retrying: Callable[[Callable[[], Awaitable[None]]], Awaitable[None]],
    limit: float | None,
    stats: ClientStats,
    progress: ProgressCallback | None,
) -> int:
    """Download into ``local_path`` (checked here, before any I/O): each attempt calls
    ``open_body()`` and writes what it gives; ``retrying(attempt)`` runs the attempts (the
    provider's runner: deadline, retries, error table).  ``limit`` is each block's deadline
    (``None``: the stall guard); progress is reported once per byte across attempts.
    Returns the size of the file now at ``local_path``."""
    replacing = check_destination(local_path)
    tracker = SegmentProgress(progress)
    written = 0

    async def attempt() -> None:
        nonlocal written
        body = await open_body()
        if isinstance(body, bytes):
            await write_file_atomically(local_path, body, replacing=replacing)
            size = len(body)
            stats.add_received(size)
            tracker.advance(size)
            written = size
            return
        try:
            async with atomic_destination(local_path) as dest:
                writer = BlockWriter(dest.fd, body.hasher)
                position = 0
                # At most WRITE_AHEAD blocks queued plus one being written.
                async with background_worker(writer.write, depth=WRITE_AHEAD) as worker:
                    while True:
                        with block_deadline(limit):
                            pieces = await body.read_block()
                        if not pieces:
                            break
                        await worker.put(pieces)
                        size = sum(map(len, pieces))
                        position += size
                        stats.add_received(size)
                        tracker.advance(position)
                if body.length is not None and position != body.length:
                    raise TransportError(f"the response ended after {position} of {body.length} bytes")
                body.check()
            written = position
        finally:
            body.release()

    await retrying(attempt)
    return written
