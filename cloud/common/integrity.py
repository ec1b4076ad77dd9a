"""Whole-object checks of transfers that move an object in ranges or parts, in parallel.

Every provider stores a digest of the whole object that a ranged download must match (Azure
the blob's Content-MD5, S3 its ETag: the MD5 of the content, or for a multipart upload the
MD5 of its parts' MD5s), and ranges arrive in any order.  :class:`OrderedDigest` feeds them
to a hasher in offset order from their own buffers, so nothing is read twice;
:class:`MultipartETag` is the hasher that computes S3's multipart ETag.
"""

from __future__ import annotations

import hashlib
from typing import Generic, Protocol, TypeVar

import anyio
import anyio.to_thread

__all__ = ["THREAD_HASH_MIN", "DigestSink", "MultipartETag", "OrderedDigest", "md5_of"]

THREAD_HASH_MIN = 256 * 1024
"""Hash in a worker thread from this size on (hashlib releases the GIL; below it, the hop
costs more than the hash)."""


class DigestSink(Protocol):
    """Anything that takes bytes in order: ``hashlib`` objects, :class:`MultipartETag`."""

    def update(self, data: bytes | bytearray | memoryview, /) -> None:
        """Add the next bytes."""


async def md5_of(data: bytes | bytearray | memoryview) -> bytes:
    """The MD5 digest of ``data`` (a large buffer hashed in a worker thread)."""
    if len(data) < THREAD_HASH_MIN:
        return hashlib.md5(data, usedforsecurity=False).digest()
    return await anyio.to_thread.run_sync(lambda: hashlib.md5(data, usedforsecurity=False).digest())


class MultipartETag:
    """S3's ETag of a multipart upload whose parts are ``part_size`` bytes (the last one
    shorter): ``md5(md5(part 1) + ... + md5(part n))`` in hex, then ``-n``."""

    def __init__(self, part_size: int) -> None:
        self._part_size = part_size
        self._part = hashlib.md5(usedforsecurity=False)
        self._filled = 0
        self._digests: list[bytes] = []

    def update(self, data: bytes | bytearray | memoryview, /) -> None:
        """Add the next bytes of the object."""
        view = memoryview(data)
        while view:
            take = min(len(view), self._part_size - self._filled)
            self._part.update(view[:take])
            self._filled += take
            view = view[take:]
            if self._filled == self._part_size:
                self._digests.append(self._part.digest())
                self._part = hashlib.md5(usedforsecurity=False)
                self._filled = 0

    def hexdigest(self) -> str:
        """The ETag of the bytes added so far (without quotes)."""
        digests = [*self._digests, self._part.digest()] if self._filled else self._digests
        return f"{hashlib.md5(b''.join(digests), usedforsecurity=False).hexdigest()}-{len(digests)}"


S = TypeVar("S", bound=DigestSink)


class OrderedDigest(Generic[S]):
    """Feeds ranges that parallel tasks fetch to ``sink`` in offset order, from the ranges'
    own buffers: a task whose range is not next waits (holding its buffer) until the ones
    before it are hashed, so nothing is re-read and at most as many ranges as tasks are
    held.  The lowest unhashed range always belongs to a task that is not waiting."""

    def __init__(self, sink: S, *, start: int = 0) -> None:
        self.sink = sink
        self._offset = start
        self._turns: dict[int, anyio.Event] = {}

    async def add(self, start: int, data: bytes | bytearray | memoryview, *, end: int | None = None) -> None:
        """Hash ``data``, the range at ``start``, once every byte before it is hashed.
        Positions count bytes unless ``end`` says where the next piece starts (e.g. block
        numbers: ``add(n, data, end=n + 1)``)."""
        while self._offset != start:
            turn = self._turns.get(start)
            if turn is None:
                turn = self._turns[start] = anyio.Event()
            await turn.wait()
        if len(data) >= THREAD_HASH_MIN:
            await anyio.to_thread.run_sync(self.sink.update, data)
        else:
            self.sink.update(data)
        self._offset = start + len(data) if end is None else end
        turn = self._turns.pop(self._offset, None)
        if turn is not None:
            turn.set()

    @property
    def offset(self) -> int:
        """How many bytes (from ``start``) have been hashed."""
        return self._offset
