"""The transfer engine on its own: parts, aborts, the single-or-parts choice, ranged
downloads, whole-object repeats and progress counted once."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from cloud.common.exceptions import ConfigurationError, TransportError
from cloud.common.files import AtomicDestination
from cloud.common.operations import OperationRunner
from cloud.common.retry import RetryPolicy
from cloud.common.transfer_engine import (
    SegmentProgress,
    WholeObjectMismatch,
    download_in_ranges,
    plan_ranges,
    upload_blocks,
    upload_in_parts,
)


async def _no_sleep(_: float) -> None:
    return None


def _runner() -> OperationRunner:
    return OperationRunner(
        provider="local", translate=lambda exc, op: None, retry=RetryPolicy(max_attempts=3, sleep=_no_sleep)
    )


class _Upload:
    def __init__(self, fail_on: int | None = None) -> None:
        self.sent: dict[int, bytes] = {}
        self.committed: list[int] | None = None
        self.aborted = False
        self.fail_on = fail_on

    async def send_part(self, number: int, item: bytes) -> int:
        await anyio.sleep(0)
        if number == self.fail_on:
            raise TransportError("reset")
        self.sent[number] = item
        return number

    async def commit(self, parts: list[int]) -> str:
        self.committed = parts
        return "done"

    async def abort(self) -> None:
        self.aborted = True


async def test_parts_are_committed_in_order() -> None:
    upload = _Upload()

    async def begin() -> _Upload:
        return upload

    items = [bytes([i]) * 10 for i in range(7)]
    assert await upload_in_parts(items, begin, concurrency=3, max_parts=100) == "done"
    assert upload.committed == [1, 2, 3, 4, 5, 6, 7] and not upload.aborted
    assert [upload.sent[n] for n in upload.committed] == items


async def test_a_failed_part_aborts_the_upload() -> None:
    upload = _Upload(fail_on=4)

    async def begin() -> _Upload:
        return upload

    with pytest.raises(TransportError):
        await upload_in_parts([b"x"] * 9, begin, concurrency=2, max_parts=100)
    assert upload.aborted and upload.committed is None


async def test_an_error_of_the_items_propagates_unchanged_and_aborts() -> None:
    upload = _Upload()

    async def begin() -> _Upload:
        return upload

    async def items() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"
        raise KeyError("the caller's own error")

    with pytest.raises(KeyError):
        await upload_in_parts(items(), begin, concurrency=2, max_parts=100)
    assert upload.aborted


async def test_cancelling_aborts_the_upload() -> None:
    upload = _Upload()
    started = anyio.Event()

    async def begin() -> _Upload:
        return upload

    async def endless() -> AsyncIterator[bytes]:
        while True:
            started.set()
            yield b"x"
            await anyio.sleep(0.01)

    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: upload_in_parts(endless(), begin, concurrency=2, max_parts=10_000))
        await started.wait()
        tg.cancel_scope.cancel()
    assert upload.aborted and upload.committed is None


async def test_too_many_parts_is_refused_and_aborted() -> None:
    upload = _Upload()

    async def begin() -> _Upload:
        return upload

    with pytest.raises(ConfigurationError, match="parts"):
        await upload_in_parts([b"x"] * 5, begin, concurrency=2, max_parts=3)
    assert upload.aborted


@pytest.mark.parametrize(("blocks", "expected"), [([], ("single", b"")), ([b"a"], ("single", b"a"))])
async def test_at_most_one_block_goes_as_a_single_request(blocks: list[bytes], expected: tuple[str, bytes]) -> None:
    async def gen() -> AsyncIterator[bytes]:
        for block in blocks:
            yield block

    async def single(data: bytes) -> tuple[str, bytes]:
        return "single", data

    async def in_parts(parts: AsyncIterator[bytes]) -> tuple[str, bytes]:
        raise AssertionError("not in parts")

    assert await upload_blocks(gen(), single=single, in_parts=in_parts) == expected


async def test_two_blocks_or_more_go_in_parts_with_nothing_lost() -> None:
    async def gen() -> AsyncIterator[bytes]:
        for block in (b"a", b"b", b"c"):
            yield block

    async def single(data: bytes) -> list[bytes]:
        raise AssertionError("not single")

    async def in_parts(parts: AsyncIterator[bytes]) -> list[bytes]:
        return [part async for part in parts]

    assert await upload_blocks(gen(), single=single, in_parts=in_parts) == [b"a", b"b", b"c"]


def test_ranges_cover_the_rest_exactly() -> None:
    assert plan_ranges(4, 15, 4) == [(4, 4), (8, 4), (12, 3)]
    assert plan_ranges(10, 10, 4) == []


class _Object:
    """A fake object read in ranges; ``corrupt`` ranges are flipped ``times`` downloads."""

    def __init__(self, data: bytes, *, first: int, step: int, corrupt_times: int = 0) -> None:
        self.data, self.first_size, self.range_size = data, first, step
        self.corrupt_times = corrupt_times
        self.attempts = 0

    def begin(self) -> _Object.Attempt:
        self.attempts += 1
        return _Object.Attempt(self, corrupt=self.attempts <= self.corrupt_times)

    class Attempt:
        def __init__(self, obj: _Object, *, corrupt: bool) -> None:
            self.obj, self.corrupt = obj, corrupt
            self.range_size = obj.range_size
            self.seen = hashlib.sha256()

        async def first(self) -> tuple[bytes, int]:
            return self.obj.data[: self.obj.first_size], len(self.obj.data)

        async def fetch(self, dest: AtomicDestination, offset: int, length: int, progress: SegmentProgress) -> None:
            piece = self.obj.data[offset : offset + length]
            if self.corrupt and offset == self.obj.first_size:
                piece = b"\x00" + piece[1:]
            await dest.write_at(piece, offset)
            progress.advance(length)

        async def finish(self, dest: AtomicDestination, total: int) -> None:
            digest = hashlib.sha256()
            await dest.hash_into(digest.update, total)
            if digest.digest() != hashlib.sha256(self.obj.data).digest():
                raise WholeObjectMismatch("mismatch")


async def test_an_object_in_one_answer_is_written_in_one_go(tmp_path: Path) -> None:
    obj = _Object(b"small", first=10, step=4)
    seen: list[int] = []
    await download_in_ranges(
        tmp_path / "a", obj.begin, concurrency=2, progress=seen.append, runner=_runner(), operation="t"
    )
    assert (tmp_path / "a").read_bytes() == b"small" and sum(seen) == 5


async def test_a_whole_object_mismatch_downloads_again_and_reports_progress_once(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40
    obj = _Object(data, first=1000, step=700, corrupt_times=1)
    seen: list[int] = []
    runner = _runner()
    await download_in_ranges(
        tmp_path / "b", obj.begin, concurrency=3, progress=seen.append, runner=runner, operation="t"
    )
    assert (tmp_path / "b").read_bytes() == data
    assert obj.attempts == 2 and runner.stats.retries == 1
    assert sum(seen) == len(data)  # nothing counted twice


async def test_a_mismatch_every_time_fails_typed_and_leaves_nothing(tmp_path: Path) -> None:
    obj = _Object(b"\x01" * 5000, first=1000, step=700, corrupt_times=100)
    with pytest.raises(WholeObjectMismatch):
        await download_in_ranges(
            tmp_path / "c", obj.begin, concurrency=3, progress=None, runner=_runner(), operation="t"
        )
    assert obj.attempts == 3 and list(tmp_path.iterdir()) == []
