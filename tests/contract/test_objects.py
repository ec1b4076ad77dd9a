"""``open`` / ``open_write`` on every backend: readers that open eagerly (a missing object
fails before any byte, the response headers describe the object), read ranges with slice
rules, stop the network read when closed or cancelled; writers that store nothing until a
clean exit; and their blocking, file-like forms."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import zipfile
from collections.abc import AsyncIterator

import anyio
import pytest

from cloud.common.base import StorageClient
from cloud.common.exceptions import ConfigurationError, NotFoundError
from cloud.common.objects import ObjectReader, ObjectWriter, SyncObjectReader, SyncObjectWriter

from .conftest import Backend, unique_bucket

RANGES = [
    (None, None),
    (0, 10),
    (10, None),
    (None, 5),
    (5, 5),
    (7, 3),
    (100, 200),
    (1000, None),
    (5000, None),
    (-10, None),
    (-10, -2),
    (3, -3),
    (-5000, None),
    (0, 10_000),
]


async def test_open_missing_object_or_bucket_fails_on_enter(storage: StorageClient, bucket: str) -> None:
    reader = storage.open(bucket, "missing")  # no I/O yet
    with pytest.raises(NotFoundError):
        await reader.__aenter__()
    with pytest.raises(NotFoundError):
        async with storage.open(bucket, "missing", start=-3):
            raise AssertionError("entered")
    with pytest.raises(NotFoundError):
        async with storage.open(unique_bucket(), "missing"):
            raise AssertionError("entered")


async def test_reader_describes_the_object_before_the_first_byte(storage: StorageClient, bucket: str) -> None:
    data = os.urandom(200_000)
    await storage.put_bytes(bucket, "described", data, content_type="text/csv", metadata={"Owner": "ann"})
    stored = await storage.stat(bucket, "described")
    requests, received = storage.stats.requests, storage.stats.bytes_received
    async with storage.open(bucket, "described") as reader:
        assert storage.stats.requests == requests + 1, "opening must be one request (no HEAD + GET)"
        assert storage.stats.bytes_received == received, "no body byte is read before it is asked for"
        assert reader.size == reader.object_size == len(data)
        assert reader.content_type == "text/csv"
        assert reader.etag == stored.etag and reader.etag
        assert dict(reader.metadata) == {"owner": "ann"}
        assert reader.tell() == 0
        assert await reader.read() == data
        assert await reader.read(10) == b""
    assert storage.stats.requests == requests + 1
    assert reader.closed


@pytest.mark.parametrize(("start", "end"), RANGES)
async def test_reader_ranges_follow_slice_rules(
    storage: StorageClient, bucket: str, start: int | None, end: int | None
) -> None:
    data = bytes(range(256)) * 4
    await storage.put_bytes(bucket, "ranges", data, content_type="application/x-test")
    async with storage.open(bucket, "ranges", start=start, end=end) as reader:
        assert reader.size == len(data[start:end])
        assert reader.object_size == len(data)
        assert reader.content_type == "application/x-test"
        assert await reader.read() == data[start:end]


async def test_empty_object_reads_empty(storage: StorageClient, bucket: str) -> None:
    await storage.put_bytes(bucket, "empty", b"")
    for start, end in [(None, None), (0, 5), (2, None), (-1, None)]:
        async with storage.open(bucket, "empty", start=start, end=end) as reader:
            assert reader.size == 0
            assert await reader.read() == b""
            assert [c async for c in reader] == []


async def test_reader_chunks_and_read_n_mix(storage: StorageClient, bucket: str) -> None:
    data = os.urandom(2 * 1024 * 1024 + 5)
    await storage.put_bytes(bucket, "mixed", data)
    async with storage.open(bucket, "mixed") as reader:
        head = await reader.read(7)
        assert head == data[:7] and reader.tell() == 7
        parts = [head]
        async for chunk in reader:
            assert chunk
            parts.append(chunk)
        assert b"".join(parts) == data
        assert reader.tell() == len(data)


async def test_reader_seeks_by_reopening_a_range(storage: StorageClient, bucket: str) -> None:
    data = os.urandom(600_000)
    await storage.put_bytes(bucket, "seek", data)
    async with storage.open(bucket, "seek", start=100, end=-100) as reader:
        view = data[100:-100]
        assert await reader.seek(-10, io.SEEK_END) == len(view) - 10
        assert await reader.read() == view[-10:]
        assert await reader.seek(5) == 5
        assert await reader.read(5) == view[5:10]
        assert await reader.seek(1000, io.SEEK_CUR) == 1010  # a short hop forward reads on
        assert await reader.read(3) == view[1010:1013]
        assert await reader.seek(0) == 0
        assert await reader.read() == view
        assert await reader.seek(len(view) + 50) == len(view) + 50
        assert await reader.read(1) == b""


async def test_leaving_early_stops_the_read(storage: StorageClient, bucket: str) -> None:
    size = 12 * 1024 * 1024
    await storage.put_bytes(bucket, "big", os.urandom(size))
    before = storage.stats.bytes_received
    async with storage.open(bucket, "big") as reader:
        first = await reader.read(1000)
        assert len(first) == 1000
    await anyio.sleep(0.2)
    pulled = storage.stats.bytes_received - before
    assert pulled < 3 * 1024 * 1024, f"{pulled} bytes were read after leaving"
    # The client is still fine (the response was closed, not left holding a connection).
    assert await storage.get_bytes(bucket, "big", start=5, end=9)


async def test_cancelling_a_reading_task_stops_the_read(storage: StorageClient, bucket: str) -> None:
    size = 12 * 1024 * 1024
    await storage.put_bytes(bucket, "served", os.urandom(size))
    before = storage.stats.bytes_received
    first_chunk = anyio.Event()
    readers: list[ObjectReader] = []

    async def serve() -> None:  # what an HTTP handler does while its client goes away
        async with storage.open(bucket, "served") as reader:
            readers.append(reader)
            async for _ in reader:
                first_chunk.set()
                await anyio.sleep(3600)  # the slow consumer

    async with anyio.create_task_group() as tg:
        tg.start_soon(serve)
        with anyio.fail_after(30):
            await first_chunk.wait()
        tg.cancel_scope.cancel()
    pulled = storage.stats.bytes_received - before
    await anyio.sleep(0.3)
    assert storage.stats.bytes_received - before == pulled, "bytes were still read after the cancellation"
    assert pulled < 3 * 1024 * 1024
    assert readers[0].closed
    with pytest.raises(ValueError):
        await readers[0].read(1)
    for _ in range(20):  # no connection was leaked by the abandoned response
        assert await storage.get_bytes(bucket, "served", start=0, end=2)


async def test_writer_commits_on_clean_exit(storage: StorageClient, bucket: str) -> None:
    parts = [os.urandom(n) for n in (1, 700_000, 3 * 1024 * 1024, 2 * 1024 * 1024 + 3, 5)]
    async with storage.open_write(bucket, "written", content_type="text/plain", metadata={"k": "v"}) as writer:
        for part in parts:
            assert await writer.write(part) == len(part)
            assert not await storage.object_exists(bucket, "written"), "visible before the commit"
        assert writer.bytes_written == sum(map(len, parts))
    assert writer.committed
    data = b"".join(parts)
    assert await storage.get_bytes(bucket, "written") == data
    meta = await storage.stat(bucket, "written")
    assert meta.content_type == "text/plain" and dict(meta.metadata) == {"k": "v"}
    async with storage.open_write(bucket, "nothing"):
        pass
    assert await storage.get_bytes(bucket, "nothing") == b""
    assert (await storage.stat(bucket, "nothing")).content_type


@pytest.mark.parametrize("size", [10, 9 * 1024 * 1024])
async def test_writer_aborted_by_an_exception_leaves_no_object(storage: StorageClient, bucket: str, size: int) -> None:
    await storage.put_bytes(bucket, "kept", b"old")

    class Boom(Exception):
        pass

    for name in ("aborted", "kept"):
        with pytest.raises(Boom):
            async with storage.open_write(bucket, name) as writer:
                await writer.write(os.urandom(size))
                raise Boom
        assert not writer.committed
        with pytest.raises(ValueError):
            await writer.write(b"late")
    assert not await storage.object_exists(bucket, "aborted")
    assert await storage.get_bytes(bucket, "kept") == b"old", "an aborted writer replaced the object"


async def test_writer_cancelled_leaves_no_object(storage: StorageClient, bucket: str) -> None:
    wrote = anyio.Event()

    async def produce() -> None:
        async with storage.open_write(bucket, "cancelled") as writer:
            await writer.write(os.urandom(6 * 1024 * 1024))
            wrote.set()
            await anyio.sleep(3600)

    async with anyio.create_task_group() as tg:
        tg.start_soon(produce)
        with anyio.fail_after(60):
            await wrote.wait()
        tg.cancel_scope.cancel()
    assert not await storage.object_exists(bucket, "cancelled")


async def test_writer_failure_is_raised(storage: StorageClient) -> None:
    missing = unique_bucket()
    with pytest.raises(NotFoundError):
        async with storage.open_write(missing, "x") as writer:
            await writer.write(b"data")


async def test_bad_arguments_fail_before_io(storage: StorageClient, bucket: str) -> None:
    before = storage.stats.requests
    for call in (
        lambda: storage.open(bucket, ""),
        lambda: storage.open(bucket, "../x"),
        lambda: storage.open(bucket, "k", start="1"),  # type: ignore[arg-type]
        lambda: storage.open(bucket, "k", timeout=-1),
        lambda: storage.open_write(bucket, "a/../b"),
        lambda: storage.open_write(bucket, "k", content_type="a\r\nb: c"),
        lambda: storage.open_write(bucket, "k", metadata={"bad key": "v"}),
    ):
        with pytest.raises(ConfigurationError):
            call()
    async with storage.open_write(bucket, "typed") as writer:
        with pytest.raises(ConfigurationError):
            await writer.write("text")  # type: ignore[arg-type]
    assert storage.stats.requests - before <= 2  # only the commit of "typed" (+ a bucket check)


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def test_reader_feeds_upload_stream(storage: StorageClient, bucket: str) -> None:
    data = os.urandom(3 * 1024 * 1024 + 11)
    await storage.put_bytes(bucket, "src", data)
    async with storage.open(bucket, "src") as reader:
        await storage.upload_stream(bucket, "dst", reader)
    assert hashlib.sha256(await storage.get_bytes(bucket, "dst")).digest() == hashlib.sha256(data).digest()


# -- the sync facade: file-like objects ----------------------------------------------------------


def test_sync_reader_is_a_seekable_raw_file(backend: Backend) -> None:
    with backend.sync_class(**backend.kwargs) as client:
        name = unique_bucket()
        client.ensure_bucket(name)
        try:
            rows = [["id", "name"], *[[str(i), f"row {i}"] for i in range(5000)]]
            text = io.StringIO(newline="")
            csv.writer(text).writerows(rows)
            payload = text.getvalue().encode()
            client.put_bytes(name, "t.csv", payload, content_type="text/csv")
            with pytest.raises(NotFoundError):
                client.open(name, "absent.csv")
            raw = client.open(name, "t.csv")
            assert isinstance(raw, SyncObjectReader) and isinstance(raw, io.RawIOBase)
            assert raw.readable() and raw.seekable() and not raw.writable()
            assert raw.size == len(payload) and raw.content_type == "text/csv"
            with io.BufferedReader(raw, buffer_size=4096) as buffered:
                assert list(csv.reader(io.TextIOWrapper(buffered, encoding="utf-8", newline=""))) == rows
            assert raw.closed
            with client.open(name, "t.csv") as f:
                assert f.read(5) == payload[:5] and f.tell() == 5
                assert f.seek(-7, io.SEEK_END) == len(payload) - 7
                assert f.read() == payload[-7:]
                buffer = bytearray(10)
                f.seek(100)
                assert f.readinto(buffer) == 10 and bytes(buffer) == payload[100:110]
                assert f.seek(0) == 0 and f.readall() == payload
            with client.open(name, "t.csv", start=3, end=9) as f:
                assert f.size == 6 and f.read() == payload[3:9]
            with pytest.raises(ValueError):
                f.read()
        finally:
            client.delete_bucket(name, force=True)


def test_sync_writer_and_zipfile_round_trip(backend: Backend) -> None:
    with backend.sync_class(**backend.kwargs) as client:
        name = unique_bucket()
        client.ensure_bucket(name)
        try:
            members = {f"dir/m{i}.bin": os.urandom(1000 + 997 * i) for i in range(30)}
            with client.open_write(name, "archive.zip", content_type="application/zip") as raw:
                assert isinstance(raw, SyncObjectWriter) and isinstance(raw, io.RawIOBase) and raw.writable()
                with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive:  # streamed: no seeks
                    for member, data in members.items():
                        archive.writestr(member, data)
                assert not client.object_exists(name, "archive.zip")
            assert client.stat(name, "archive.zip").content_type == "application/zip"
            with client.open(name, "archive.zip") as f, zipfile.ZipFile(f) as archive:  # seeks heavily
                assert sorted(archive.namelist()) == sorted(members)
                for member in reversed(list(members)):
                    assert archive.read(member) == members[member]
                assert archive.testzip() is None
            with pytest.raises(KeyError), client.open_write(name, "half.bin") as raw:
                raw.write(b"partial")
                raise KeyError("boom")
            assert not client.object_exists(name, "half.bin")
            with io.BufferedWriter(client.open_write(name, "buffered.bin"), buffer_size=1000) as out:
                for i in range(100):
                    out.write(bytes([i]) * 333)
            assert client.get_bytes(name, "buffered.bin") == b"".join(bytes([i]) * 333 for i in range(100))
        finally:
            client.delete_bucket(name, force=True)


def test_public_types() -> None:
    assert ObjectReader.__doc__ and ObjectWriter.__doc__
    assert issubclass(SyncObjectReader, io.RawIOBase) and issubclass(SyncObjectWriter, io.RawIOBase)


def test_pandas_and_pyarrow_read_and_write_through_the_sync_forms(backend: Backend) -> None:
    import pandas
    import pyarrow.parquet

    frame = pandas.DataFrame({"id": range(2000), "name": [f"row {i}" for i in range(2000)]})
    with backend.sync_class(**backend.kwargs) as client:
        name = unique_bucket()
        client.ensure_bucket(name)
        try:
            writer = client.open_write(name, "t.csv", content_type="text/csv")
            with io.TextIOWrapper(io.BufferedWriter(writer), encoding="utf-8", newline="") as text:
                frame.to_csv(text, index=False)  # committed when the wrapper closes the writer
            assert pandas.read_csv(client.open(name, "t.csv")).equals(frame)
            with client.open_write(name, "t.parquet") as raw:
                pyarrow.parquet.write_table(pyarrow.Table.from_pandas(frame), raw)
            table = pyarrow.parquet.read_table(client.open(name, "t.parquet"))  # seeks to the footer first
            assert table.to_pandas().equals(frame)
            assert pandas.read_parquet(client.open(name, "t.parquet")).equals(frame)
        finally:
            client.delete_bucket(name, force=True)
