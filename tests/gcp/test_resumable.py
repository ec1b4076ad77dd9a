"""Resumable uploads on the emulator: a file streamed in one PUT, a stream in chunks; both
resume after injected failures, and memory stays bounded by the chunk size."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cloud.common.exceptions import TransportError
from cloud.gcp import GCSClient
from cloud.gcp.errors import ChecksumMismatchError
from cloud.gcp.resumable import ChunkSource, committed_offset
from tests.emulators import Emulator
from tests.gcp.conftest import CHUNK, fast_retry, new_bucket_name
from tests.gcp.paging_proxy import PagingProxy, UploadFault


def test_committed_offset_reads_the_range_header() -> None:
    assert committed_offset(None) == 0
    assert committed_offset("bytes=0-262143") == 262144
    # The emulator answers bytes=0-0 when nothing was received; GCS never commits 1 byte.
    assert committed_offset("bytes=0-0") == 0


async def test_chunk_source_buffers_and_drops_committed_bytes() -> None:
    async def pieces() -> AsyncIterator[bytes]:
        for piece in (b"ab", b"", b"cdef", b"g"):
            yield piece

    source = ChunkSource(pieces())
    await source.fill(3)
    assert (source.buffered, source.exhausted) == (6, False)
    assert source.advance_to(4) == 4 and source.peek(10) == b"ef"
    await source.fill(100)
    assert source.exhausted and source.peek(10) == b"efg"
    assert source.checksums.size == 7 and source.checksums.md5 == GCS_MD5(b"abcdefg")


def GCS_MD5(data: bytes) -> str:
    import base64

    return base64.b64encode(hashlib.md5(data).digest()).decode()


async def test_large_file_streams_in_one_put_with_its_crc32c(
    gcs: GCSClient, bucket: str, proxy: PagingProxy, tmp_path: Path
) -> None:
    payload = os.urandom(3 * CHUNK + 1234)
    source = tmp_path / "big.txt"
    source.write_bytes(payload)
    seen: list[int] = []
    assert await gcs.upload_file(
        source, bucket, "big.txt", content_type="text/plain; charset=utf-8", metadata={"Run": "1"}, progress=seen.append
    )
    assert proxy.log.chunk_ranges == [f"bytes 0-{len(payload) - 1}/{len(payload)}"]
    assert sum(seen) == len(payload) and all(n > 0 for n in seen)
    meta = await gcs.stat(bucket, "big.txt")
    # The resumable initiation carries the JSON metadata: content-type parameters survive.
    assert (meta.size, meta.content_type, dict(meta.metadata)) == (
        len(payload),
        "text/plain; charset=utf-8",
        {"run": "1"},
    )
    assert await gcs.get_bytes(bucket, "big.txt") == payload


async def test_large_stream_goes_in_chunks_with_content_range(gcs: GCSClient, bucket: str, proxy: PagingProxy) -> None:
    payload = os.urandom(3 * CHUNK + 1234)

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(payload), 100_000):
            yield payload[i : i + 100_000]

    seen: list[int] = []
    assert await gcs.upload_stream(bucket, "big.bin", chunks(), progress=seen.append)
    assert proxy.log.chunk_ranges == [
        f"bytes 0-{CHUNK - 1}/*",
        f"bytes {CHUNK}-{2 * CHUNK - 1}/*",
        f"bytes {2 * CHUNK}-{3 * CHUNK - 1}/*",
        f"bytes {3 * CHUNK}-{len(payload) - 1}/{len(payload)}",
    ]
    assert seen == [CHUNK, CHUNK, CHUNK, 1234]
    assert await gcs.get_bytes(bucket, "big.bin") == payload


@pytest.mark.parametrize("action", ["error", "drop"])
async def test_file_upload_resumes_from_the_committed_offset_after_a_failure(
    gcs: GCSClient, bucket: str, proxy: PagingProxy, tmp_path: Path, action: str
) -> None:
    payload = os.urandom(4 * CHUNK + 777)
    size = len(payload)
    source = tmp_path / "resume.bin"
    source.write_bytes(payload)
    # The streamed PUT dies after the server committed its first 256 KiB block.
    proxy.inject(UploadFault(commit=CHUNK, action=action))
    seen: list[int] = []
    assert await gcs.upload_file(source, bucket, "resume.bin", progress=seen.append)
    assert proxy.log.faults_fired == 1
    assert gcs.stats.retries >= 1
    # After the failure the client asked for the committed offset, then sent the rest.
    assert proxy.log.chunk_ranges == [
        f"bytes 0-{size - 1}/{size}",
        f"bytes */{size}",
        f"bytes {CHUNK}-{size - 1}/{size}",
    ]
    assert sum(seen) == size  # bytes sent twice are reported once
    assert hashlib.sha256(await gcs.get_bytes(bucket, "resume.bin")).digest() == hashlib.sha256(payload).digest()


async def test_file_that_changes_during_upload_commits_nothing(gcs: GCSClient, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "moving.bin"
    source.write_bytes(os.urandom(3 * CHUNK))
    chunks = 0

    def flip(_: int) -> None:  # rewrites the file after its CRC32C was taken
        nonlocal chunks
        chunks += 1
        if chunks == 1:
            with open(source, "r+b") as f:
                f.seek(2 * CHUNK + 10)
                f.write(b"changed")

    with pytest.raises(ChecksumMismatchError):
        await gcs.upload_file(source, bucket, "moving.bin", progress=flip)
    assert await gcs.object_exists(bucket, "moving.bin") is False


async def test_upload_stream_resumes_from_its_buffer(gcs: GCSClient, bucket: str, proxy: PagingProxy) -> None:
    payload = os.urandom(3 * CHUNK + 5)

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(payload), 100_000):
            yield payload[i : i + 100_000]

    proxy.inject(UploadFault(commit=0, action="drop", skip=2))
    assert await gcs.upload_stream(bucket, "streamed", chunks(), content_type="application/x-s")
    assert proxy.log.faults_fired == 1 and "bytes */*" in proxy.log.chunk_ranges
    assert await gcs.get_bytes(bucket, "streamed") == payload


async def test_upload_gives_up_after_the_retry_budget_and_commits_nothing(proxy: PagingProxy, tmp_path: Path) -> None:
    source = tmp_path / "doomed.bin"
    source.write_bytes(os.urandom(2 * CHUNK + 1))
    async with GCSClient(api_root=proxy.url, chunk_size=CHUNK, retry=fast_retry()) as gcs:
        name = new_bucket_name()
        await gcs.ensure_bucket(name)
        for _ in range(4):  # every attempt of the first chunk is dropped
            proxy.inject(UploadFault(action="drop"))
        with pytest.raises(TransportError):
            await gcs.upload_file(source, name, "doomed.bin")
        assert await gcs.object_exists(name, "doomed.bin") is False


async def test_failing_source_commits_nothing(gcs: GCSClient, bucket: str) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * (2 * CHUNK)
        raise OSError("disk went away")

    with pytest.raises(OSError, match="disk went away"):
        await gcs.upload_stream(bucket, "never", broken())
    assert await gcs.object_exists(bucket, "never") is False


async def test_memory_stays_bounded_by_the_chunk_size(gcs_emulator: Emulator, tmp_path: Path) -> None:
    """A 24 MiB upload and download with 1 MiB chunks holds a few chunks, not the object."""
    chunk = 1024 * 1024
    size = 24 * chunk
    source = tmp_path / "large.bin"
    with open(source, "wb") as f:
        for _ in range(size // chunk):
            f.write(os.urandom(chunk))
    target = tmp_path / "back.bin"
    async with GCSClient(api_root=gcs_emulator.url, chunk_size=chunk, retry=fast_retry()) as gcs:
        name = new_bucket_name()
        await gcs.ensure_bucket(name)
        tracemalloc.start()
        try:
            await gcs.upload_file(source, name, "large.bin")
            _, upload_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            await gcs.download_file(name, "large.bin", target)
            _, download_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        await gcs.delete_bucket(name, force=True)
    assert target.stat().st_size == size
    # The peaks follow the chunk and block sizes, never the object size (24 MiB here):
    # measured ~3 MiB up (the chunk in flight, the next file piece) and ~5.3 MiB down
    # (1 MiB write blocks, aiohttp's read buffer, the copy handed to the writer thread).
    assert upload_peak < 5 * chunk, upload_peak
    assert download_peak < 8 * chunk, download_peak


async def test_chunks_stay_256k_aligned_after_a_partial_commit(bucket: str, proxy: PagingProxy) -> None:
    payload = os.urandom(6 * CHUNK + 3)
    piece = 2 * CHUNK + 1  # the source yields a bit more than one chunk at a time

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(payload), piece):
            yield payload[i : i + piece]

    # The first chunk (512 KiB) dies after 256 KiB were committed: the buffer then holds
    # 256 KiB + 1 byte, of which only the aligned 256 KiB may go as a non-final chunk.
    proxy.inject(UploadFault(commit=CHUNK, action="error"))
    async with GCSClient(api_root=proxy.url, chunk_size=2 * CHUNK, retry=fast_retry()) as gcs:
        assert await gcs.upload_stream(bucket, "aligned", chunks())
        assert await gcs.get_bytes(bucket, "aligned") == payload
    sent = [r for r in proxy.log.chunk_ranges if not r.startswith("bytes */")]
    assert sent[1] == f"bytes {CHUNK}-{2 * CHUNK - 1}/*"  # resumed at 256 KiB with 256 KiB
    for content_range in sent[:-1]:
        first, last = content_range.removeprefix("bytes ").split("/")[0].split("-")
        assert (int(last) - int(first) + 1) % CHUNK == 0, content_range
    assert sent[-1].endswith(f"/{len(payload)}")
