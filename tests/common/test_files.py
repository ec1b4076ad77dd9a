"""The atomic local-file helpers every download goes through."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import anyio
import pytest

from cloud.common import files
from cloud.common.exceptions import CloudError, ConfigurationError, NotFoundError
from cloud.common.files import (
    atomic_destination,
    check_destination,
    file_chunks,
    local_file_error,
    read_small_file,
    write_file_atomically,
)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@pytest.mark.parametrize("size", [5, 200_000])  # on the loop, and in a worker thread
async def test_write_file_atomically_writes_whole_body_with_plain_open_mode(tmp_path: Path, size: int) -> None:
    target = tmp_path / "out.bin"
    body = os.urandom(size)
    await write_file_atomically(target, body)
    assert target.read_bytes() == body
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()
    assert os.listdir(tmp_path) == ["out.bin"]


async def test_write_file_atomically_replaces_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old content that is longer")
    await write_file_atomically(str(target), b"new")
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["out.bin"]


async def test_write_file_atomically_onto_a_folder_fails_cleanly(tmp_path: Path) -> None:
    folder = tmp_path / "dir"
    folder.mkdir()
    with pytest.raises(ConfigurationError, match="is a folder"):
        await write_file_atomically(folder, b"data")
    assert os.listdir(tmp_path) == ["dir"]
    assert os.listdir(folder) == []


async def test_write_file_atomically_creates_missing_folders(tmp_path: Path) -> None:
    await write_file_atomically(tmp_path / "missing" / "deeper" / "out.bin", b"data")
    assert (tmp_path / "missing" / "deeper" / "out.bin").read_bytes() == b"data"
    assert os.listdir(tmp_path / "missing" / "deeper") == ["out.bin"]


async def test_a_file_in_the_way_of_a_folder_fails_cleanly(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"x")
    for target in (tmp_path / "file" / "out.bin", tmp_path / "file" / "sub" / "out.bin"):
        with pytest.raises(ConfigurationError, match="is a file"):
            check_destination(target)
        with pytest.raises(ConfigurationError, match="is a file"):
            await write_file_atomically(target, b"data")
        with pytest.raises(ConfigurationError, match="is a file"):
            async with atomic_destination(target):
                pass
    assert os.listdir(tmp_path) == ["file"]


async def test_a_failed_download_removes_only_the_folders_it_created(tmp_path: Path) -> None:
    (tmp_path / "kept").mkdir()
    target = tmp_path / "kept" / "new" / "newer" / "out.bin"
    with pytest.raises(RuntimeError):
        async with atomic_destination(target) as dest:
            await dest.write(b"partial")
            assert os.path.isdir(tmp_path / "kept" / "new" / "newer")
            raise RuntimeError("boom")
    assert os.listdir(tmp_path) == ["kept"] and os.listdir(tmp_path / "kept") == []


async def test_concurrent_downloads_into_one_new_folder(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "sub"

    async def one(i: int) -> None:
        try:
            async with atomic_destination(folder / f"{i}.bin") as dest:
                await dest.write(b"%d" % i)
                if i % 2:
                    raise RuntimeError("a failed download")
        except RuntimeError:
            pass

    async with anyio.create_task_group() as tg:
        for i in range(20):
            tg.start_soon(one, i)
    assert sorted(os.listdir(folder)) == sorted(f"{i}.bin" for i in range(0, 20, 2))


async def test_local_read_failures_are_typed(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as missing:
        await read_small_file(tmp_path / "absent", 10)
    assert isinstance(missing.value, FileNotFoundError)
    with pytest.raises(ConfigurationError, match="is a folder"):
        await read_small_file(tmp_path, 10)
    with pytest.raises(NotFoundError):
        async for _ in file_chunks(tmp_path / "absent", 10):
            pass
    assert isinstance(local_file_error(OSError(28, "No space left on device"), "x"), CloudError)


async def test_atomic_destination_leaves_nothing_when_the_block_fails(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    with pytest.raises(RuntimeError):
        async with atomic_destination(target) as dest:
            await dest.write(b"partial")
            assert os.path.exists(dest.temp_path)
            raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []


async def test_atomic_destination_checks_before_creating_anything(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="is a folder"):
        async with atomic_destination(tmp_path):
            pass
    assert os.listdir(tmp_path) == []


def test_check_destination_accepts_a_bare_file_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert check_destination("plain.txt") == 0
    assert check_destination("missing/plain.txt") == 0
    Path("plain.txt").write_bytes(b"x")
    with pytest.raises(ConfigurationError):
        check_destination("plain.txt/inside.txt")


async def test_file_chunks_reads_a_range_and_notices_a_file_that_shrank(tmp_path: Path) -> None:
    source = tmp_path / "data.bin"
    source.write_bytes(bytes(range(100)))
    assert [c async for c in file_chunks(source, 30, start=10, length=65)] == [
        bytes(range(10, 40)),
        bytes(range(40, 70)),
        bytes(range(70, 75)),
    ]
    assert b"".join([c async for c in file_chunks(source, 64)]) == bytes(range(100))
    with pytest.raises(ConfigurationError, match="got shorter"):
        async for _ in file_chunks(source, 30, start=50, length=60):
            pass


@pytest.fixture
def finish_threads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The thread each temp file was finished (renamed or deleted) in, in order."""
    threads: list[int] = []
    real_finish = files._finish_temp

    def finish(fd: int, temp: str, final: str | None, created: Sequence[str] = ()) -> None:
        threads.append(threading.get_ident())
        real_finish(fd, temp, final, created)

    monkeypatch.setattr(files, "_finish_temp", finish)
    return threads


@pytest.mark.parametrize(
    ("old_size", "new_size", "fails", "off_loop"),
    [
        (0, 10, False, False),  # nothing replaced, nothing big deleted: on the loop
        (10, 10, False, False),  # a small file replaced: on the loop
        (1 << 20, 10, False, True),  # a big file replaced: its pages are freed in the rename
        (0, 1 << 20, True, True),  # a big temp file deleted after a failure
        (0, 10, True, False),
    ],
)
async def test_finishing_that_frees_a_big_file_runs_off_the_loop(
    tmp_path: Path, finish_threads: list[int], old_size: int, new_size: int, fails: bool, off_loop: bool
) -> None:
    threads = finish_threads
    target = tmp_path / "out.bin"
    if old_size:
        target.write_bytes(b"o" * old_size)
    with pytest.raises(RuntimeError) if fails else contextlib.nullcontext():
        async with atomic_destination(target) as dest:
            await dest.write(b"n" * new_size)
            if fails:
                raise RuntimeError("failed")
    assert (threads[0] != threading.get_ident()) is off_loop
    assert os.listdir(tmp_path) == (["out.bin"] if old_size or not fails else [])
    if not fails:
        assert target.read_bytes() == b"n" * new_size


async def test_small_body_replacing_a_big_file_is_renamed_off_the_loop(
    tmp_path: Path, finish_threads: list[int]
) -> None:
    threads = finish_threads
    small, big = tmp_path / "small.bin", tmp_path / "big.bin"
    small.write_bytes(b"s")
    big.write_bytes(b"b" * (1 << 20))
    assert check_destination(tmp_path / "missing.bin") == 0
    assert check_destination(small) == 1
    await write_file_atomically(small, b"new", replacing=check_destination(small))
    await write_file_atomically(big, b"new", replacing=check_destination(big))
    assert threads[0] == threading.get_ident()  # small replaced: on the loop
    assert threads[1] != threading.get_ident()  # big replaced: in a worker thread
    assert small.read_bytes() == big.read_bytes() == b"new"
