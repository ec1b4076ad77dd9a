"""rechunk: regrouping a stream into the blocks of a streamed upload; stream_views."""

from __future__ import annotations

from collections.abc import AsyncIterator

from cloud.common.chunks import rechunk, stream_views


async def _collect(chunks: list[bytes], block_size: int, grow_every: int | None = 10_000) -> list[bytes]:
    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    return [block async for block in rechunk(source(), block_size, grow_every=grow_every)]


async def test_chunks_of_any_size_become_full_blocks_then_a_short_one() -> None:
    data = bytes(range(256)) * 10
    chunks = [data[:1], data[1:1000], data[1000:1001], data[1001:]]
    blocks = await _collect(chunks, 300)
    assert b"".join(blocks) == data
    assert [len(b) for b in blocks] == [300] * 8 + [160]


async def test_an_empty_stream_is_one_empty_block() -> None:
    assert await _collect([], 10) == [b""]
    assert await _collect([b"", b""], 10) == [b""]


async def test_block_size_grows_past_10000_blocks_to_stay_under_the_limit() -> None:
    blocks = await _collect([b"x" * 25_000], 1)
    sizes = [len(b) for b in blocks]
    assert sizes[:10_000] == [1] * 10_000
    assert set(sizes[10_000:15_000]) == {2}
    assert sum(sizes) == 25_000 and len(blocks) < 50_000


async def test_without_growth_blocks_keep_their_size() -> None:
    blocks = await _collect([b"x" * 25], 1, grow_every=None)
    assert [len(b) for b in blocks] == [1] * 25


async def test_stream_views_yields_every_byte_in_small_views_without_copying() -> None:
    first, second = bytes(range(256)) * 2048, b"tail"  # 512 KiB + 4 bytes
    views = [view async for view in stream_views(first, b"", second)]
    assert b"".join(views) == first + second
    assert max(len(view) for view in views) == 256 * 1024
    assert all(isinstance(view, memoryview) for view in views)
    assert views[0].obj is first  # a view of the caller's buffer, not a copy
