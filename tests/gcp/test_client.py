"""GCSClient behaviour beyond the contract suite, on the emulator (through the paging proxy)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest

from cloud.common.exceptions import ConfigurationError, NotFoundError
from cloud.gcp import GCSClient, SyncGCSClient
from cloud.gcp.client import check_bucket_name
from tests.emulators import Emulator
from tests.gcp.conftest import CHUNK, fast_retry, new_bucket_name
from tests.gcp.paging_proxy import PagingProxy, decode_token


async def test_listing_pages_with_native_tokens(gcs: GCSClient, bucket: str, proxy: PagingProxy) -> None:
    names = [f"p/{i:02d}" for i in range(7)]
    for name in names:
        await gcs.put_bytes(bucket, name, b"x")
    proxy.log.pages.clear()
    pages = [page async for page in gcs.iter_objects(bucket, "p/", page_size=3).pages()]
    assert [[m.name for m in p.items] for p in pages] == [names[:3], names[3:6], names[6:]]
    # Each page was one request with maxResults and the previous page's token.
    assert [(size, decode_token(token) if token else None, n) for size, token, n in proxy.log.pages] == [
        (3, None, 3),
        (3, "p/02", 3),
        (3, "p/05", 1),
    ]
    paginator = gcs.iter_objects(bucket, "p/", page_size=3)
    assert [m.name for m in await paginator.collect(limit=3)] == names[:3]
    assert paginator.resume_token is not None
    resumed = gcs.iter_objects(bucket, "p/", page_size=3)
    rest = type(resumed)(resumed._fetch_page, start_token=paginator.resume_token)
    assert [m.name async for m in rest] == names[3:]


async def test_delimiter_prefixes_merge_in_name_order_across_pages(gcs: GCSClient, bucket: str) -> None:
    for name in ["a", "b/1", "b/2", "c", "d/1", "e", "f/x/y"]:
        await gcs.put_bytes(bucket, name, b"x")
    pages = [page async for page in gcs.iter_objects(bucket, delimiter="/", page_size=2).pages()]
    flat = [(m.name, m.is_prefix) for p in pages for m in p.items]
    assert flat == [("a", False), ("b/", True), ("c", False), ("d/", True), ("e", False), ("f/", True)]
    assert [len(p.items) for p in pages] == [2, 2, 2]
    prefix = next(m for p in pages for m in p.items if m.is_prefix)
    assert (prefix.size, prefix.etag, prefix.content_type, prefix.last_modified) == (0, None, None, None)


async def test_metadata_and_content_type_are_kept_exactly(gcs: GCSClient, bucket: str, tmp_path: Path) -> None:
    metadata = {"Owner": "Ants & Co: 100% (yes)", "run_id": "  spaced  ", "cacheControl": "no-cache"}
    await gcs.put_bytes(bucket, "one", b"1", content_type="text/csv; charset=utf-8; header=present", metadata=metadata)
    meta = await gcs.stat(bucket, "one")
    assert meta.content_type == "text/csv; charset=utf-8; header=present"
    assert dict(meta.metadata) == {"owner": "Ants & Co: 100% (yes)", "run_id": "  spaced  ", "cachecontrol": "no-cache"}
    assert meta.last_modified is not None and meta.last_modified.tzinfo is not None
    assert metadata == {"Owner": "Ants & Co: 100% (yes)", "run_id": "  spaced  ", "cacheControl": "no-cache"}
    listed = [m async for m in gcs.iter_objects(bucket)]
    assert listed[0].metadata == meta.metadata and listed[0].content_type == meta.content_type


@pytest.mark.parametrize(
    ("start", "end"), [(1024, None), (5000, 6000), (0, 0), (-2000, None), (None, -2000), (1020, 2000), (-1, None)]
)
async def test_get_bytes_edge_ranges_are_deterministic(
    gcs: GCSClient, bucket: str, start: int | None, end: int | None
) -> None:
    data = bytes(range(256)) * 4  # 1,024 bytes; the emulator answers unsatisfiable ranges with 206 + nothing
    await gcs.put_bytes(bucket, "r", data)
    assert await gcs.get_bytes(bucket, "r", start=start, end=end) == data[start:end]


async def test_empty_ranges_still_report_missing_objects(gcs: GCSClient, bucket: str) -> None:
    with pytest.raises(NotFoundError):
        await gcs.get_bytes(bucket, "missing", start=5, end=5)
    await gcs.put_bytes(bucket, "empty", b"")
    assert await gcs.get_bytes(bucket, "empty", start=0, end=10) == b""
    assert await gcs.get_bytes(bucket, "empty", start=-3) == b""


async def test_batch_delete_many_with_missing_and_odd_names(gcs: GCSClient, bucket: str, proxy: PagingProxy) -> None:
    names = [f"del/{i:03d} +%;é" for i in range(120)]
    limiter = anyio.CapacityLimiter(16)

    async def put(name: str) -> None:
        async with limiter:
            await gcs.put_bytes(bucket, name, b"")

    async with anyio.create_task_group() as tg:
        for name in names:
            tg.start_soon(put, name)
    await gcs.put_bytes(bucket, "keep", b"k")
    requests_before = gcs.stats.requests
    await gcs.delete_objects(bucket, [*names, "del/not-there", "also/missing"])
    # 122 names in two batch requests (100 per batch), plus one bucket check for the 404s.
    assert gcs.stats.requests - requests_before == 3
    assert await gcs.list_objects(bucket) == ["keep"]


async def test_deletes_in_a_missing_bucket_raise(gcs: GCSClient) -> None:
    ghost = new_bucket_name()
    with pytest.raises(NotFoundError, match="bucket"):
        await gcs.delete_object(ghost, "x")
    with pytest.raises(NotFoundError, match="bucket"):
        await gcs.delete_objects(ghost, ["x", "y"])
    with pytest.raises(ConfigurationError):
        await gcs.delete_objects(ghost, ["ok", ""])


async def test_a_bad_name_in_delete_objects_raises_before_anything_is_deleted(gcs: GCSClient, bucket: str) -> None:
    await gcs.put_bytes(bucket, "ok", b"k")
    requests_before = gcs.stats.requests
    with pytest.raises(ConfigurationError):
        await gcs.delete_objects(bucket, ["ok", "bad\nname", "later"])
    assert gcs.stats.requests == requests_before
    assert await gcs.list_objects(bucket) == ["ok"]


async def test_one_session_opened_lazily_for_concurrent_first_calls(
    gcs_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    created: list[aiohttp.ClientSession] = []
    real = aiohttp.ClientSession

    def counting(*args: Any, **kwargs: Any) -> aiohttp.ClientSession:
        session = real(*args, **kwargs)
        created.append(session)
        return session

    monkeypatch.setattr(aiohttp, "ClientSession", counting)
    client = GCSClient(api_root=gcs_emulator.url, max_concurrency=40, retry=fast_retry())
    assert created == [] and client._session is None  # construction does no I/O
    name = new_bucket_name()
    async with client:
        await client.ensure_bucket(name)
        results: list[bool] = []

        async def probe() -> None:
            results.append(await client.object_exists(name, "nothing"))

        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(probe)
        assert results == [False] * 20
        assert len(created) == 1
        assert client._session is not None and client._session.connector is not None
        assert client._session.connector.limit >= 4 * 40  # the pool never caps bulk concurrency
        await client.delete_bucket(name)
    assert client._session is None and created[0].closed
    await client.aclose()  # idempotent
    async with client:  # reusable: a new session opens on the next call
        assert await client._bucket_exists(name) is False
    assert len(created) == 2


def test_constructor_validates_arguments_without_io() -> None:
    for kwargs in (
        {"chunk_size": 1000},
        {"chunk_size": 0},
        {"max_concurrency": 0},
        {"api_root": "ftp://x"},
        {"project": ""},
        {"timeout": 0},
    ):
        with pytest.raises(ConfigurationError):
            GCSClient(**kwargs)
    assert GCSClient(service_account_file="/does/not/exist").service_account_file == "/does/not/exist"


@pytest.mark.parametrize(
    "bad", ["", "ab", "Upper", "-start", "end-", "a" * 64, "a..b", "192.168.1.1", "goog-x", "my-google-b", "a/b"]
)
def test_invalid_bucket_names(bad: str) -> None:
    with pytest.raises(ConfigurationError):
        check_bucket_name(bad)


def test_valid_bucket_names() -> None:
    for good in ["abc", "a-b_c.d", "a" * 63, ".".join(["a" * 63] * 3)]:
        assert check_bucket_name(good) == good


async def test_open_read_early_break_releases_the_connection(gcs: GCSClient, bucket: str) -> None:
    await gcs.put_bytes(bucket, "s", os.urandom(300_000))
    reader = gcs.open_read(bucket, "s", chunk_size=1000)
    first = await reader.__anext__()
    assert len(first) <= 1000
    await reader.aclose()  # type: ignore[attr-defined,unused-ignore]
    assert len(await gcs.get_bytes(bucket, "s")) == 300_000


def test_sync_client_through_the_facade(proxy: PagingProxy, tmp_path: Path) -> None:
    payload = os.urandom(2 * CHUNK + 10)
    source = tmp_path / "in.bin"
    source.write_bytes(payload)
    with SyncGCSClient(api_root=proxy.url, chunk_size=CHUNK, retry=fast_retry()) as client:
        name = new_bucket_name()
        assert client.ensure_bucket(name) is True
        assert client.ensure_bucket(name) is False
        assert client.upload_file(source, name, "dir/in.bin", metadata={"k": "v"}) is True  # resumable
        assert client.download_file(name, "dir/in.bin", tmp_path / "out.bin") is True
        assert (tmp_path / "out.bin").read_bytes() == payload
        assert b"".join(client.open_read(name, "dir/in.bin", chunk_size=100_000)) == payload
        for i in range(5):
            client.put_bytes(name, f"dir/{i}", b"x")
        pages = list(client.iter_objects(name, "dir/", page_size=2).pages())
        assert [len(p.items) for p in pages] == [2, 2, 2]
        assert client.get_metadata(name, "dir/in.bin")["metadata"] == {"k": "v"}
        assert client.stats.requests > 0
        with pytest.raises(NotFoundError):
            client.get_bytes(name, "dir/missing")
        client.delete_bucket(name, force=True)
        with pytest.raises(NotFoundError):
            client.list_objects(name)


async def test_write_failure_mid_download_raises_and_leaves_nothing(
    gcs: GCSClient, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A streamed download whose local write fails (a full disk) raises that error, stops
    receiving, and leaves neither a partial file nor a temp file; the old file survives."""
    from cloud.common.stream_download import BlockWriter

    payload = os.urandom(6 * CHUNK + 7)  # several blocks (gcs streams blocks of CHUNK)
    await gcs.put_bytes(bucket, "big.bin", payload)
    real_write = BlockWriter.write
    calls: list[int] = []

    def failing_write(self: Any, pieces: list[bytes]) -> int:
        calls.append(len(pieces))
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_write(self, pieces)

    monkeypatch.setattr(BlockWriter, "write", failing_write)
    kept = tmp_path / "kept.bin"
    kept.write_bytes(b"precious")
    with pytest.raises(OSError, match="No space left"):
        await gcs.download_file(bucket, "big.bin", kept)
    assert len(calls) == 2  # nothing was written after the failure
    assert sorted(os.listdir(tmp_path)) == ["kept.bin"]
    assert kept.read_bytes() == b"precious"

    monkeypatch.setattr(BlockWriter, "write", real_write)
    assert await gcs.download_file(bucket, "big.bin", kept)
    assert kept.read_bytes() == payload
