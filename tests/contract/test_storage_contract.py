"""The StorageClient contract: the same cases, unchanged, on every backend."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import anyio
import pytest

from cloud.common.base import StorageClient
from cloud.common.exceptions import (
    ConfigurationError,
    ConflictError,
    NotFoundError,
)
from cloud.common.models import ObjectMetadata

from .conftest import Backend, unique_bucket

CONTRACT_KEYS = {"name", "bucket", "size", "etag", "content_type", "last_modified", "metadata", "provider"}

ODD_NAMES = [
    "unicode/ünïcödé-名前-😀.txt",
    "spaces/with some spaces.txt",
    "percent/100%25 and %.txt",
    "plus/a+b=c.txt",
    "symbols/semi;colon,comma@at!bang'quote(paren).txt",
    # 1,024 UTF-8 bytes, with a '/' every 200 bytes so it also fits a filesystem.
    "/".join(["L" * 199] * 5) + "/" + "x" * (1024 - 5 * 200),
]


def test_long_name_is_1024_bytes() -> None:
    assert len(ODD_NAMES[-1].encode()) == 1024


async def test_ensure_bucket_true_then_false(storage: StorageClient) -> None:
    name = unique_bucket()
    try:
        assert await storage.ensure_bucket(name) is True
        assert await storage.ensure_bucket(name) is False
    finally:
        await storage.delete_bucket(name, force=True)
    with pytest.raises(NotFoundError):
        await storage.list_objects(name)


async def test_invalid_bucket_name_is_configuration_error(storage: StorageClient) -> None:
    for bad in ["", "../etc", "a/b", "x" * 300]:
        with pytest.raises(ConfigurationError):
            await storage.ensure_bucket(bad)


async def test_bytes_round_trip_with_content_type_and_metadata(storage: StorageClient, bucket: str) -> None:
    data = os.urandom(70_000)
    meta = await storage.put_bytes(
        bucket, "dir/blob.bin", data, content_type="application/x-test", metadata={"Owner": "ants", "run_id": "42"}
    )
    assert isinstance(meta, ObjectMetadata)
    assert meta.name == "dir/blob.bin" and meta.bucket == bucket and meta.size == len(data)
    assert await storage.get_bytes(bucket, "dir/blob.bin") == data
    info = await storage.get_metadata(bucket, "dir/blob.bin")
    assert set(info) == CONTRACT_KEYS
    assert info["name"] == "dir/blob.bin"
    assert info["bucket"] == bucket
    assert info["size"] == len(data)
    assert info["content_type"] == "application/x-test"
    assert info["metadata"] == {"owner": "ants", "run_id": "42"}
    assert isinstance(info["etag"], str) and info["etag"] and not info["etag"].startswith('"')
    assert isinstance(info["last_modified"], datetime) and info["last_modified"].tzinfo is not None
    assert info["provider"] == storage.provider.value


async def test_default_content_type(storage: StorageClient, bucket: str) -> None:
    await storage.put_bytes(bucket, "plain", b"x")
    assert (await storage.stat(bucket, "plain")).content_type == "application/octet-stream"


async def test_content_type_with_parameters_kept(storage: StorageClient, bucket: str) -> None:
    await storage.put_bytes(bucket, "t.txt", "héllo".encode(), content_type="text/plain; charset=utf-8")
    assert (await storage.stat(bucket, "t.txt")).content_type == "text/plain; charset=utf-8"


async def test_caller_metadata_dict_not_mutated(storage: StorageClient, bucket: str) -> None:
    metadata = {"Mixed_Case": "v"}
    await storage.put_bytes(bucket, "m", b"1", metadata=metadata)
    assert metadata == {"Mixed_Case": "v"}


async def test_invalid_metadata_rejected_before_io(storage: StorageClient, bucket: str) -> None:
    for bad in [{"has-hyphen": "v"}, {"ok": "ünicode"}, {"": "v"}]:
        with pytest.raises(ConfigurationError):
            await storage.put_bytes(bucket, "never", b"x", metadata=bad)
    assert await storage.object_exists(bucket, "never") is False


async def test_invalid_content_type_rejected_before_io(storage: StorageClient, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "f.txt"
    source.write_bytes(b"x")
    before = storage.stats.requests
    for bad in ["text/plain\r\nX-Forged: 1", "text/pläin", "a\tb"]:
        with pytest.raises(ConfigurationError):
            await storage.put_bytes(bucket, "never", b"x", content_type=bad)
        with pytest.raises(ConfigurationError):
            await storage.upload_file(source, bucket, "never", content_type=bad)
        with pytest.raises(ConfigurationError):
            await storage.upload_stream(bucket, "never", _chunks(b"x"), content_type=bad)
    assert storage.stats.requests == before
    assert await storage.object_exists(bucket, "never") is False


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_empty_object(storage: StorageClient, bucket: str) -> None:
    await storage.put_bytes(bucket, "empty", b"")
    assert await storage.get_bytes(bucket, "empty") == b""
    assert (await storage.stat(bucket, "empty")).size == 0
    assert [c async for c in storage.open_read(bucket, "empty")] in ([], [b""])


async def test_file_round_trip(storage: StorageClient, bucket: str, tmp_path: Path) -> None:
    source = tmp_path / "source.json"
    payload = os.urandom(3 * 1024 * 1024 + 123)
    source.write_bytes(payload)
    seen: list[int] = []
    assert (
        await storage.upload_file(source, bucket, "files/source.json", metadata={"k": "v"}, progress=seen.append)
        is True
    )
    assert sum(seen) == len(payload)
    info = await storage.get_metadata(bucket, "files/source.json")
    assert info["size"] == len(payload)
    assert info["content_type"] == "application/json"  # guessed from the file name
    assert info["metadata"] == {"k": "v"}
    target = tmp_path / "out" / "copy.json"
    target.parent.mkdir()
    got: list[int] = []
    assert await storage.download_file(bucket, "files/source.json", target, progress=got.append) is True
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(payload).digest()
    assert sum(got) == len(payload)
    assert os.listdir(target.parent) == ["copy.json"]


async def test_upload_stream_from_chunks(storage: StorageClient, bucket: str) -> None:
    payload = os.urandom(6 * 1024 * 1024 + 17)
    sizes = [1, 1000, 5 * 1024 * 1024, 300_000]

    async def chunks() -> AsyncIterator[bytes]:
        offset = 0
        for size in [*sizes, len(payload)]:
            if offset >= len(payload):
                return
            yield payload[offset : offset + size]
            offset += size

    seen: list[int] = []
    result = await storage.upload_stream(
        bucket, "streamed/obj", chunks(), content_type="text/x-stream", metadata={"via": "stream"}, progress=seen.append
    )
    assert result is True
    assert sum(seen) == len(payload)
    assert await storage.get_bytes(bucket, "streamed/obj") == payload
    meta = await storage.stat(bucket, "streamed/obj")
    assert (meta.size, meta.content_type, dict(meta.metadata)) == (len(payload), "text/x-stream", {"via": "stream"})


async def test_upload_stream_failure_commits_nothing(storage: StorageClient, bucket: str) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * (6 * 1024 * 1024)
        raise OSError("source went away")

    with pytest.raises(OSError):
        await storage.upload_stream(bucket, "streamed/broken", broken())
    assert await storage.object_exists(bucket, "streamed/broken") is False


async def test_copy_between_clients_streams(storage: StorageClient, bucket: str) -> None:
    payload = os.urandom(2 * 1024 * 1024 + 5)
    await storage.put_bytes(bucket, "src", payload)
    assert await storage.upload_stream(bucket, "dst", storage.open_read(bucket, "src", chunk_size=256 * 1024))
    assert await storage.get_bytes(bucket, "dst") == payload


async def test_download_missing_object_leaves_nothing(storage: StorageClient, bucket: str, tmp_path: Path) -> None:
    target = tmp_path / "never.bin"
    with pytest.raises(NotFoundError):
        await storage.download_file(bucket, "does/not/exist", target)
    assert os.listdir(tmp_path) == []


async def test_download_to_a_bad_destination_fails_before_any_request(
    storage: StorageClient, bucket: str, tmp_path: Path
) -> None:
    await storage.put_bytes(bucket, "exists", b"data")
    (tmp_path / "a-file").write_bytes(b"x")
    before = storage.stats.requests
    with pytest.raises(ConfigurationError):
        await storage.download_file(bucket, "exists", tmp_path / "a-file" / "file")  # a file in the way
    with pytest.raises(ConfigurationError):
        await storage.download_file(bucket, "exists", tmp_path)  # a folder, not a file
    assert storage.stats.requests == before
    assert os.listdir(tmp_path) == ["a-file"]
    # A missing folder is no error: it is created, as aws s3 cp does.
    assert await storage.download_file(bucket, "exists", tmp_path / "no-such-folder" / "file")
    assert (tmp_path / "no-such-folder" / "file").read_bytes() == b"data"


async def test_download_over_existing_file_keeps_it_on_failure(
    storage: StorageClient, bucket: str, tmp_path: Path
) -> None:
    target = tmp_path / "keep.txt"
    target.write_bytes(b"precious")
    with pytest.raises(NotFoundError):
        await storage.download_file(bucket, "missing", target)
    assert target.read_bytes() == b"precious"
    assert os.listdir(tmp_path) == ["keep.txt"]


async def test_upload_missing_local_file_creates_nothing(storage: StorageClient, bucket: str, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        await storage.upload_file(tmp_path / "absent", bucket, "ghost")
    assert await storage.object_exists(bucket, "ghost") is False


@pytest.mark.parametrize(
    ("start", "end"),
    [(None, None), (0, 10), (10, None), (None, 5), (5, 5), (100, 200), (-10, None), (-10, -2), (3, -3), (0, 10_000)],
)
async def test_ranged_reads(storage: StorageClient, bucket: str, start: int | None, end: int | None) -> None:
    data = bytes(range(256)) * 4
    await storage.put_bytes(bucket, "ranges", data)
    assert await storage.get_bytes(bucket, "ranges", start=start, end=end) == data[start:end]


async def test_open_read_streams_chunks(storage: StorageClient, bucket: str) -> None:
    data = os.urandom(300_000)
    await storage.put_bytes(bucket, "stream", data)
    chunks = [c async for c in storage.open_read(bucket, "stream", chunk_size=64 * 1024)]
    assert b"".join(chunks) == data
    assert all(len(c) <= 64 * 1024 for c in chunks)
    assert len(chunks) >= 5


async def test_missing_things_raise_not_found(storage: StorageClient, bucket: str) -> None:
    missing_bucket = unique_bucket()
    with pytest.raises(NotFoundError):
        await storage.get_bytes(bucket, "nope")
    with pytest.raises(NotFoundError):
        await storage.stat(bucket, "nope")
    with pytest.raises(NotFoundError):
        await storage.get_metadata(missing_bucket, "nope")
    with pytest.raises(NotFoundError):
        await storage.get_bytes(missing_bucket, "nope")
    with pytest.raises(NotFoundError):
        await storage.list_objects(missing_bucket)
    with pytest.raises(NotFoundError):
        await storage.put_bytes(missing_bucket, "x", b"1")
    with pytest.raises(NotFoundError):
        await storage.delete_bucket(missing_bucket)
    with pytest.raises(NotFoundError):
        await storage.object_exists(missing_bucket, "x")
    with pytest.raises(FileNotFoundError):  # NotFoundError is also a FileNotFoundError
        await storage.get_bytes(bucket, "nope")


async def test_exists_delete_and_idempotent_delete(storage: StorageClient, bucket: str) -> None:
    await storage.put_bytes(bucket, "a", b"1")
    assert await storage.object_exists(bucket, "a") is True
    await storage.delete_object(bucket, "a")
    assert await storage.object_exists(bucket, "a") is False
    await storage.delete_object(bucket, "a")  # deleting a missing object is not an error


async def test_delete_objects_many(storage: StorageClient, bucket: str) -> None:
    names = [f"many/{i:03d}" for i in range(25)]
    async with anyio.create_task_group() as tg:
        for name in names:
            tg.start_soon(storage.put_bytes, bucket, name, name.encode())
    await storage.put_bytes(bucket, "keep", b"k")
    await storage.delete_objects(bucket, [*names, "many/not-there"])
    assert await storage.list_objects(bucket) == ["keep"]


async def test_copy_object_keeps_content_type_and_metadata(storage: StorageClient, bucket: str) -> None:
    other = unique_bucket()
    await storage.ensure_bucket(other)
    try:
        await storage.put_bytes(bucket, "src/a.txt", b"copy me", content_type="text/csv", metadata={"tag": "x"})
        await storage.copy_object(bucket, "src/a.txt", bucket, "dst/a.txt")
        await storage.copy_object(bucket, "src/a.txt", other, "elsewhere.txt")
        for b, n in [(bucket, "dst/a.txt"), (other, "elsewhere.txt")]:
            assert await storage.get_bytes(b, n) == b"copy me"
            meta = await storage.stat(b, n)
            assert meta.content_type == "text/csv"
            assert dict(meta.metadata) == {"tag": "x"}
        with pytest.raises(NotFoundError):
            await storage.copy_object(bucket, "src/missing", bucket, "dst/never")
        assert await storage.object_exists(bucket, "dst/never") is False
    finally:
        await storage.delete_bucket(other, force=True)


async def test_delete_bucket_not_empty_conflict_then_force(storage: StorageClient) -> None:
    name = unique_bucket()
    await storage.ensure_bucket(name)
    await storage.put_bytes(name, "x/y", b"1")
    with pytest.raises(ConflictError):
        await storage.delete_bucket(name)
    assert await storage.object_exists(name, "x/y")
    await storage.delete_bucket(name, force=True)
    with pytest.raises(NotFoundError):
        await storage.list_objects(name)


@pytest.mark.parametrize("name", ODD_NAMES, ids=["unicode", "spaces", "percent", "plus", "symbols", "1024-bytes"])
async def test_odd_names_round_trip(storage: StorageClient, bucket: str, name: str, tmp_path: Path) -> None:
    await storage.put_bytes(bucket, name, name.encode())
    assert await storage.get_bytes(bucket, name) == name.encode()
    assert (await storage.stat(bucket, name)).name == name
    assert await storage.list_objects(bucket) == [name]
    target = tmp_path / "odd"
    await storage.download_file(bucket, name, target)
    assert target.read_bytes() == name.encode()
    copy_name = f"copies/{ODD_NAMES.index(name)}"
    await storage.copy_object(bucket, name, bucket, copy_name)
    assert await storage.get_bytes(bucket, copy_name) == name.encode()
    await storage.delete_object(bucket, name)
    assert await storage.object_exists(bucket, name) is False


async def test_name_over_1024_bytes_rejected_before_io(storage: StorageClient, bucket: str) -> None:
    with pytest.raises(ConfigurationError):
        await storage.put_bytes(bucket, "n/" * 512 + "x", b"1")
    with pytest.raises(ConfigurationError):
        await storage.put_bytes(bucket, "", b"1")
    assert await storage.list_objects(bucket) == []


async def test_listing_1050_objects_crosses_pages(storage: StorageClient, bucket: str) -> None:
    names = sorted(f"bulk/{i:05d}" for i in range(1050))
    limiter = anyio.CapacityLimiter(32)

    async def put(name: str) -> None:
        async with limiter:
            await storage.put_bytes(bucket, name, b"")

    async with anyio.create_task_group() as tg:
        for name in names:
            tg.start_soon(put, name)
    await storage.put_bytes(bucket, "other/one", b"1")

    assert await storage.list_objects(bucket, "bulk/") == names
    pages = [page async for page in storage.iter_objects(bucket, "bulk/", page_size=400).pages()]
    assert [len(p.items) for p in pages if p.items] == [400, 400, 250]
    assert [m.name for p in pages for m in p.items] == names
    paginator = storage.iter_objects(bucket, page_size=300)
    first = await paginator.collect(limit=300)
    assert [m.name for m in first] == names[:300]
    # Resume from the token of the next page.
    assert paginator.resume_token is not None
    resumed = type(paginator)(paginator._fetch_page, start_token=paginator.resume_token)
    rest = [m.name async for m in resumed]
    assert rest == [*names[300:], "other/one"]


async def test_prefix_and_delimiter_listing(storage: StorageClient, bucket: str) -> None:
    for name in ["a.txt", "dir/b.txt", "dir/sub/c.txt", "dir/sub/d.txt", "dir2/e.txt", "dir-x/f.txt"]:
        await storage.put_bytes(bucket, name, b"x")
    top = [(m.name, m.is_prefix) async for m in storage.iter_objects(bucket, delimiter="/")]
    assert top == [("a.txt", False), ("dir-x/", True), ("dir/", True), ("dir2/", True)]
    inner = [(m.name, m.is_prefix) async for m in storage.iter_objects(bucket, "dir/", delimiter="/")]
    assert inner == [("dir/b.txt", False), ("dir/sub/", True)]
    assert await storage.list_objects(bucket, "dir/") == ["dir/b.txt", "dir/sub/c.txt", "dir/sub/d.txt"]
    assert await storage.list_objects(bucket, "dir") == [
        "dir-x/f.txt",
        "dir/b.txt",
        "dir/sub/c.txt",
        "dir/sub/d.txt",
        "dir2/e.txt",
    ]
    assert await storage.list_objects(bucket, "nothing-here/") == []
    listed = [m async for m in storage.iter_objects(bucket, "dir/sub/")]
    assert all(m.size == 1 and m.etag and m.last_modified is not None for m in listed)


async def test_upload_many_and_download_many_keep_going_after_a_failure(
    storage: StorageClient, bucket: str, tmp_path: Path
) -> None:
    files = []
    for i in range(12):
        path = tmp_path / f"f{i}.bin"
        path.write_bytes(os.urandom(1000 + i))
        files.append((path, f"batch/f{i}.bin"))
    files.insert(5, (tmp_path / "missing.bin", "batch/missing.bin"))
    seen = []
    results = await storage.upload_many(bucket, files, concurrency=4, on_result=seen.append)
    assert [r.ok for r in results] == [i != 5 for i in range(13)]
    assert results[5].error is not None and len(seen) == 13
    assert sum(r.bytes for r in results) == sum(1000 + i for i in range(12))
    out = tmp_path / "out"
    out.mkdir()
    items = [(f"batch/f{i}.bin", out / f"f{i}.bin") for i in range(12)] + [("batch/absent", out / "absent")]
    moved: list[int] = []
    results = await storage.download_many(bucket, items, concurrency=4, progress=moved.append)
    assert [r.ok for r in results] == [True] * 12 + [False]
    assert isinstance(results[-1].error, NotFoundError)
    assert sum(moved) == sum(1000 + i for i in range(12))
    for i in range(12):
        assert (out / f"f{i}.bin").read_bytes() == (tmp_path / f"f{i}.bin").read_bytes()
    assert not (out / "absent").exists()


async def test_every_call_accepts_timeout(storage: StorageClient, bucket: str) -> None:
    await storage.put_bytes(bucket, "t", b"1", timeout=30)
    assert await storage.get_bytes(bucket, "t", timeout=30) == b"1"
    assert await storage.list_objects(bucket, timeout=30) == ["t"]
    assert (await storage.get_metadata(bucket, "t", timeout=30))["size"] == 1


def test_sync_facade_runs_the_contract_basics(backend: Backend, tmp_path: Path) -> None:
    with backend.sync_class(**backend.kwargs) as client:
        name = unique_bucket()
        assert client.ensure_bucket(name) is True
        try:
            client.put_bytes(name, "s/one", b"hello", metadata={"k": "v"})
            assert client.get_bytes(name, "s/one", start=1) == b"ello"
            assert client.get_metadata(name, "s/one")["metadata"] == {"k": "v"}
            assert client.list_objects(name) == ["s/one"]
            assert [m.name for m in client.iter_objects(name)] == ["s/one"]
            assert b"".join(client.open_read(name, "s/one", chunk_size=2)) == b"hello"
            source = tmp_path / "f.txt"
            source.write_text("file")
            assert client.upload_file(source, name, "s/f.txt") is True
            assert client.download_file(name, "s/f.txt", tmp_path / "g.txt") is True
            assert (tmp_path / "g.txt").read_text() == "file"
            with pytest.raises(NotFoundError):
                client.get_bytes(name, "s/missing")
        finally:
            client.delete_bucket(name, force=True)
