"""Regrouping a byte stream into fixed-size blocks: the parts of every streamed upload."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

__all__ = ["rechunk"]


async def rechunk(chunks: AsyncIterable[bytes], size: int, *, grow_every: int | None = None) -> AsyncIterator[bytes]:
    """Regroup chunks of any sizes into blocks of ``size`` bytes (the last one shorter),
    holding at most one block in memory.  An empty stream gives one empty block.

    With ``grow_every=N`` the block size doubles after every ``N`` blocks, so a stream of
    unknown length stays under a provider's block-count limit (Azure: 50,000).
    """
    buffer = bytearray()
    count = 0
    target = size
    async for chunk in chunks:
        buffer += chunk
        while len(buffer) >= target:
            yield bytes(buffer[:target])
            del buffer[:target]
            count += 1
            if grow_every:
                target = size * 2 ** (count // grow_every)
    if buffer or count == 0:
        yield bytes(buffer)
