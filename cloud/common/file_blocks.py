"""A local file read block by block for an upload in parts: each block read into a buffer
reused from block to block and digested in the same worker-thread call.

At most as many buffers exist as blocks are in flight (the engine's concurrency), and no
part-sized allocation churns per block: freed from worker threads, those stayed resident.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

import anyio

from .exceptions import CloudError
from .types import StrPath

__all__ = ["FileBlocks", "open_file_blocks"]

D = TypeVar("D")


class FileBlocks(Generic[D]):
    """The blocks of the open file ``fd`` (``size`` bytes, blocks of ``block_size``) as the
    transfer engine's items: :meth:`spans` lists them, :meth:`load` reads one into a free
    buffer and returns a view of it with ``digest(view)`` (e.g. the MD5 a provider sends
    with the block), :meth:`release` takes the buffer back once its request has ended."""

    def __init__(self, fd: int, size: int, block_size: int, digest: Callable[[memoryview], D]) -> None:
        self.fd = fd
        self.size = size
        self.block_size = block_size
        self._digest = digest
        self._spare: list[bytearray] = []

    def spans(self) -> Iterator[tuple[int, int]]:
        """``(offset, length)`` of every block, in order."""
        for start in range(0, self.size, self.block_size):
            yield start, min(self.block_size, self.size - start)

    async def load(self, span: tuple[int, int]) -> tuple[memoryview, D]:
        """Read the block at ``span`` and digest it (one worker-thread call)."""
        buffer = self._spare.pop() if self._spare else bytearray(self.block_size)
        try:
            return await anyio.to_thread.run_sync(self._read, buffer, *span)
        except BaseException:
            self._spare.append(buffer)
            raise

    def release(self, view: memoryview) -> None:
        """The request of the block in ``view`` has ended (sent or failed for good): its
        buffer is free again."""
        if isinstance(view.obj, bytearray):
            self._spare.append(view.obj)

    def _read(self, buffer: bytearray, offset: int, length: int) -> tuple[memoryview, D]:
        view = memoryview(buffer)[:length]
        done = 0
        while done < length:
            n = os.preadv(self.fd, [view[done:]], offset + done)
            if n == 0:
                raise CloudError("the local file changed size during the upload")
            done += n
        return view, self._digest(view)


@asynccontextmanager
async def open_file_blocks(
    path: StrPath, block_size: Callable[[int], int], digest: Callable[[memoryview], D]
) -> AsyncIterator[FileBlocks[D]]:
    """The local file at ``path`` opened as :class:`FileBlocks` of ``block_size(its size)``
    bytes, closed when the block ends."""
    fd = await anyio.to_thread.run_sync(os.open, os.fspath(path), os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        yield FileBlocks(fd, size, block_size(size), digest)
    finally:
        os.close(fd)
