"""Regrouping a byte stream into fixed-size blocks (the parts of every streamed upload), and
streaming in-memory bodies as views."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

__all__ = ["STREAM_BODY_FROM", "rechunk", "stream_views"]

STREAM_BODY_FROM = 1024 * 1024
"""Request bodies from this size are better streamed with :func:`stream_views` than handed
to the HTTP library as one ``bytes``."""

_VIEW_SIZE = 256 * 1024


async def stream_views(*parts: bytes | memoryview) -> AsyncIterator[memoryview]:
    """Yield ``parts`` as views of at most 256 KiB: an aiohttp request body that is never
    copied.  Handed one large ``bytes``, aiohttp writes it to the socket at once and asyncio
    copies every byte the socket did not take into its own buffer (+1 body per request in
    flight); fed views, it waits for the socket to drain between them.  Make a new one per
    attempt of a request."""
    for part in parts:
        view = memoryview(part)
        for start in range(0, len(view), _VIEW_SIZE):
            yield view[start : start + _VIEW_SIZE]


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
