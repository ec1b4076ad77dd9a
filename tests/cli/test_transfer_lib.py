"""The library side of bulk work: cloud.transfer (in memory and on local folders)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cloud.common.exceptions import NotFoundError
from cloud.common.models import ObjectMetadata, TransferResult
from cloud.local import LocalStorageClient
from cloud.transfer import (
    LocalDir,
    Remote,
    TransferItem,
    compare_objects,
    copy_tree,
    iter_tree,
    plan_sync,
    sync_tree,
    transfer,
)


@pytest.fixture
async def memory() -> AsyncIterator[LocalStorageClient]:
    async with LocalStorageClient() as client:
        await client.ensure_bucket("src")
        await client.ensure_bucket("dst")
        for i in range(12):
            await client.put_bytes("src", f"tree/{i:02d}.bin", bytes([i]) * (1000 + i))
        yield client


async def test_copy_tree_between_two_clients_streams_every_object(memory: LocalStorageClient) -> None:
    other = LocalStorageClient()
    await other.ensure_bucket("out")
    moved: list[int] = []
    finished: list[TransferResult] = []
    results = await copy_tree(
        Remote(memory, "src", "tree"),
        Remote(other, "out", "copy/"),
        concurrency=3,
        progress=moved.append,
        on_result=finished.append,
    )
    assert [r.ok for r in results] == [True] * 12
    assert [r.source for r in results] == [f"memory://src/tree/{i:02d}.bin" for i in range(12)]  # input order
    assert sum(moved) == sum(1000 + i for i in range(12)) == sum(r.bytes for r in results)
    assert len(finished) == 12
    assert await other.get_bytes("out", "copy/05.bin") == bytes([5]) * 1005


async def test_concurrency_is_bounded_and_one_failure_does_not_stop_the_rest(memory: LocalStorageClient) -> None:
    in_flight = 0
    peak = 0
    started: list[str] = []

    def on_start(item: TransferItem) -> None:
        nonlocal in_flight, peak
        started.append(item.source)
        in_flight += 1
        peak = max(peak, in_flight)

    def on_done(item: TransferItem, result: TransferResult) -> None:
        nonlocal in_flight
        in_flight -= 1

    items = [TransferItem(f"tree/{i:02d}.bin", f"x/{i:02d}.bin", size=1000 + i) for i in range(12)]
    items.insert(5, TransferItem("tree/missing.bin", "x/missing.bin", size=1))
    results = await transfer(
        Remote(memory, "src"),
        Remote(memory, "dst"),
        items,
        concurrency=4,
        on_item_start=on_start,
        on_item_done=on_done,
    )
    assert peak <= 4 and len(started) == 13
    assert [r.ok for r in results].count(False) == 1
    assert isinstance(results[5].error, NotFoundError) and results[5].source.endswith("missing.bin")
    assert len(await memory.list_objects("dst", "x/")) == 12


async def test_a_listing_error_is_raised_as_itself(memory: LocalStorageClient) -> None:
    with pytest.raises(NotFoundError):
        await copy_tree(Remote(memory, "no-such-bucket"), Remote(memory, "dst"))


async def test_items_may_come_from_an_async_iterator(memory: LocalStorageClient) -> None:
    async def items() -> AsyncIterator[TransferItem]:
        async for meta in iter_tree(Remote(memory, "src", "tree/")):
            yield TransferItem.from_metadata(meta, meta.name, "lazy/" + meta.name)

    results = await transfer(Remote(memory, "src", "tree/"), Remote(memory, "dst"), items(), concurrency=2)
    assert len(results) == 12 and all(r.ok for r in results)


async def test_local_folders_both_ways(tmp_path: Path) -> None:
    source = tmp_path / "in"
    (source / "a" / "b").mkdir(parents=True)
    (source / "a" / "b" / "deep.txt").write_text("deep")
    (source / "top.txt").write_text("top")
    old = datetime(2020, 1, 2, tzinfo=timezone.utc).timestamp()
    os.utime(source / "top.txt", (old, old))
    memory = LocalStorageClient()
    await memory.ensure_bucket("b")

    up = await copy_tree(LocalDir(source), Remote(memory, "b", "p"))
    assert all(r.ok for r in up) and sorted(await memory.list_objects("b")) == ["p/a/b/deep.txt", "p/top.txt"]
    down = await copy_tree(LocalDir(source), LocalDir(tmp_path / "out" / "x"))
    assert all(r.ok for r in down)
    assert (tmp_path / "out" / "x" / "a" / "b" / "deep.txt").read_text() == "deep"
    assert (tmp_path / "out" / "x" / "top.txt").stat().st_mtime == old  # modification time kept

    # A name that would escape a local destination folder is refused, not written.
    await memory.put_bytes("b", "p/ok.txt", b"ok")
    escape = await transfer(
        Remote(memory, "b", "p"), LocalDir(tmp_path / "safe"), [TransferItem("ok.txt", "../escaped.txt")]
    )
    assert not escape[0].ok and not (tmp_path / "escaped.txt").exists()


def _meta(size: int, etag: str | None, when: datetime | None) -> ObjectMetadata:
    return ObjectMetadata(name="n", bucket="b", size=size, etag=etag, content_type=None, last_modified=when)


def test_compare_objects_rules() -> None:
    t = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    md5a, md5b = "0" * 32, "f" * 32
    assert compare_objects(_meta(1, md5a, t), _meta(2, md5a, t)) == "size"
    assert compare_objects(_meta(1, md5a, t), _meta(1, f'"{md5a}"', t)) is None  # S3 quotes its etags
    assert compare_objects(_meta(1, md5a, t), _meta(1, md5b, t - timedelta(days=1))) == "checksum"
    # No comparable checksum (multipart, Azure, hand-placed file): the newer source wins.
    assert compare_objects(_meta(1, "abc-2", t + timedelta(seconds=5)), _meta(1, "0x8D1", t)) == "newer"
    assert compare_objects(_meta(1, "abc-2", t), _meta(1, "0x8D1", t + timedelta(seconds=5))) is None
    # Within the same second (services keep whole seconds): not newer.
    assert compare_objects(_meta(1, None, t + timedelta(milliseconds=700)), _meta(1, None, t)) is None


async def test_sync_tree_plans_copies_and_deletes(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("keep.txt", "change.txt"):
        (source / name).write_text(name)
    memory = LocalStorageClient()
    await memory.ensure_bucket("b")
    first = await sync_tree(LocalDir(source), Remote(memory, "b"))
    assert first.ok and len(first.results) == 2
    (source / "change.txt").write_text("changed!")
    await memory.put_bytes("b", "extra.txt", b"x")

    plan = await plan_sync(LocalDir(source), Remote(memory, "b"), delete=True)
    assert [(i.source, i.reason) for i in plan.copy] == [("change.txt", "size")]
    assert plan.delete == ["extra.txt"] and plan.unchanged == 1
    dry = await sync_tree(LocalDir(source), Remote(memory, "b"), delete=True, dry_run=True)
    assert dry.results == [] and await memory.object_exists("b", "extra.txt")
    done = await sync_tree(LocalDir(source), Remote(memory, "b"), delete=True)
    assert done.ok and done.deleted == ["extra.txt"]
    assert sorted(await memory.list_objects("b")) == ["change.txt", "keep.txt"]
    again = await plan_sync(LocalDir(source), Remote(memory, "b"), delete=True)
    assert (again.copy, again.delete, again.unchanged) == ([], [], 2)
