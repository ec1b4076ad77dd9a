"""What only the local backend promises: safe paths, atomic writes, real files, sidecars."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from cloud.common.exceptions import BadRequestError, CloudError, ConfigurationError, ConflictError, NotFoundError
from cloud.local import LocalStorageClient

ESCAPES = ["../outside", "a/../../outside", "/etc/passwd", "a//b", "./a", "a/./b", "nul\x00byte", "back\\slash"]


@pytest.mark.parametrize("name", ESCAPES)
async def test_names_that_could_escape_are_rejected_before_touching_disk(tmp_path: Path, name: str) -> None:
    root = tmp_path / "root"
    root.mkdir()
    async with LocalStorageClient(root=root) as store:
        await store.ensure_bucket("b")
        before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
        with pytest.raises((ConfigurationError, BadRequestError)):
            await store.put_bytes("b", name, b"x")
        source = tmp_path / "src.txt"
        source.write_bytes(b"x")
        before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
        with pytest.raises((ConfigurationError, BadRequestError)):
            await store.upload_file(source, "b", name)
        with pytest.raises((ConfigurationError, BadRequestError)):
            await store.copy_object("b", "x", "b", name)
        after = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
        assert after == before
        assert not (tmp_path / "outside").exists()


@pytest.mark.parametrize("name", ESCAPES)
async def test_memory_store_rejects_the_same_names(name: str) -> None:
    async with LocalStorageClient() as store:
        await store.ensure_bucket("b")
        with pytest.raises((ConfigurationError, BadRequestError)):
            await store.put_bytes("b", name, b"x")


async def test_objects_are_real_files_and_writes_leave_no_temp(tmp_path: Path) -> None:
    async with LocalStorageClient(root=tmp_path) as store:
        await store.ensure_bucket("photos")
        await store.put_bytes("photos", "2024/cat.jpg", b"meow", content_type="image/jpeg", metadata={"by": "me"})
        assert (tmp_path / "photos" / "2024" / "cat.jpg").read_bytes() == b"meow"
        assert list((tmp_path / ".cloud-tmp").iterdir()) == []
        meta = await store.stat("photos", "2024/cat.jpg")
        assert meta.content_type == "image/jpeg" and dict(meta.metadata) == {"by": "me"}
        # The MD5 etag matches S3's single-part etag for the same content.
        assert meta.etag == hashlib.md5(b"meow").hexdigest()


async def test_files_placed_by_hand_are_listed_with_guessed_types(tmp_path: Path) -> None:
    (tmp_path / "docs" / "sub").mkdir(parents=True)
    (tmp_path / "docs" / "readme.md").write_text("# hi")
    (tmp_path / "docs" / "sub" / "data.json").write_text("{}")
    async with LocalStorageClient(root=tmp_path) as store:
        assert await store.list_objects("docs") == ["readme.md", "sub/data.json"]
        meta = await store.stat("docs", "sub/data.json")
        assert meta.content_type == "application/json" and meta.size == 2 and meta.etag
        # Editing the file by hand invalidates a stale sidecar.
        await store.put_bytes("docs", "readme.md", b"v1", content_type="text/x-custom")
        (tmp_path / "docs" / "readme.md").write_text("changed by hand!")
        meta = await store.stat("docs", "readme.md")
        assert meta.size == len("changed by hand!") and meta.content_type != "text/x-custom"


async def test_object_and_prefix_name_clash_is_a_conflict(tmp_path: Path) -> None:
    async with LocalStorageClient(root=tmp_path) as store:
        await store.ensure_bucket("b")
        await store.put_bytes("b", "a/b", b"1")
        with pytest.raises(ConflictError):
            await store.put_bytes("b", "a", b"2")
        await store.put_bytes("b", "x", b"1")
        with pytest.raises(ConflictError):
            await store.put_bytes("b", "x/y", b"2")
        assert await store.list_objects("b") == ["a/b", "x"]


async def test_failed_download_leaves_no_partial_file(tmp_path: Path) -> None:
    async with LocalStorageClient() as store:
        await store.ensure_bucket("b")
        with pytest.raises(CloudError):
            await store.download_file("b", "missing", tmp_path / "out.bin")
        with pytest.raises(NotFoundError):  # the folder it would have created is removed too
            await store.download_file("b", "missing", tmp_path / "no-such-dir" / "out.bin")
    assert os.listdir(tmp_path) == []


async def test_deleting_objects_prunes_empty_folders(tmp_path: Path) -> None:
    async with LocalStorageClient(root=tmp_path) as store:
        await store.ensure_bucket("b")
        await store.put_bytes("b", "deep/er/file", b"1")
        await store.delete_object("b", "deep/er/file")
        assert list((tmp_path / "b").iterdir()) == []


def test_repr_names_where_it_stores(tmp_path: Path) -> None:
    assert "in memory" in repr(LocalStorageClient())
    assert str(tmp_path) in repr(LocalStorageClient(root=tmp_path))


async def test_downloaded_files_get_the_usual_mode(tmp_path: Path) -> None:
    async with LocalStorageClient() as store:
        await store.ensure_bucket("b")
        await store.put_bytes("b", "k", b"1")
        await store.download_file("b", "k", tmp_path / "k")
    mask = os.umask(0o022)
    os.umask(mask)
    assert (tmp_path / "k").stat().st_mode & 0o777 == 0o666 & ~mask
