"""download_to_file, the streamed download written once in cloud/common: blocks written in
order through the writer thread, the whole body checked, a bad attempt retried from its
first byte into a new temp file, nothing left behind on failure."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from cloud.common import stream_download
from cloud.common.exceptions import ConfigurationError, TransportError
from cloud.common.stats import ClientStats
from cloud.common.stream_download import BlockWriter, StreamedBody, download_to_file


class Hasher:
    def __init__(self) -> None:
        self.fed = b""

    def update(self, data: bytes) -> None:
        self.fed += data


def streamed(blocks: list[list[bytes]], *, length: int | None, good: bool = True) -> tuple[StreamedBody, list[str]]:
    events: list[str] = []
    hasher = Hasher()
    pending = list(blocks)

    async def read_block() -> list[bytes]:
        return pending.pop(0) if pending else []

    def check() -> None:
        events.append("check")
        if not good:
            raise TransportError("checksum mismatch")

    body = StreamedBody(read_block, length, hasher, check, lambda: events.append("release"))
    return body, events


async def twice(attempt: Callable[[], Awaitable[None]]) -> None:
    try:
        await attempt()
    except TransportError:
        await attempt()


async def test_blocks_are_written_in_order_checked_and_released(tmp_path: Path) -> None:
    body, events = streamed([[b"ab", b"cd"], [b"e"]], length=5)
    stats, seen = ClientStats(), []

    async def open_body() -> bytes | StreamedBody:
        return body

    dest = tmp_path / "out"
    await download_to_file(dest, open_body, retrying=twice, limit=5, stats=stats, progress=seen.append)
    assert dest.read_bytes() == b"abcde"
    assert isinstance(body.hasher, Hasher) and body.hasher.fed == b"abcde"
    assert events == ["check", "release"]
    assert sum(seen) == 5 and stats.bytes_received == 5
    assert os.listdir(tmp_path) == ["out"]


@pytest.mark.parametrize("broken", ["short", "corrupt"])
async def test_a_bad_attempt_is_retried_from_the_first_byte_and_progress_counts_once(
    tmp_path: Path, broken: str
) -> None:
    first = streamed([[b"abc"]], length=5 if broken == "short" else 3, good=broken != "corrupt")
    second = streamed([[b"abc"], [b"de"]], length=5)
    attempts = [first[0], second[0]]
    seen: list[int] = []

    async def open_body() -> bytes | StreamedBody:
        return attempts.pop(0)

    dest = tmp_path / "out"
    dest.write_bytes(b"old")
    await download_to_file(dest, open_body, retrying=twice, limit=None, stats=ClientStats(), progress=seen.append)
    assert dest.read_bytes() == b"abcde"
    assert sum(seen) == 5
    assert first[1][-1] == "release" and second[1] == ["check", "release"]
    assert os.listdir(tmp_path) == ["out"]


async def test_a_failed_download_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    async def open_body() -> bytes | StreamedBody:
        return streamed([[b"abc"]], length=9)[0]

    dest = tmp_path / "out"
    dest.write_bytes(b"old")
    with pytest.raises(TransportError, match="3 of 9"):
        await download_to_file(dest, open_body, retrying=twice, limit=None, stats=ClientStats(), progress=None)
    assert dest.read_bytes() == b"old" and os.listdir(tmp_path) == ["out"]


async def test_a_small_body_is_written_whole(tmp_path: Path) -> None:
    async def open_body() -> bytes | StreamedBody:
        return b"small"

    dest = tmp_path / "out"
    await download_to_file(dest, open_body, retrying=twice, limit=None, stats=ClientStats(), progress=None)
    assert dest.read_bytes() == b"small"


async def test_the_destination_is_checked_before_the_body_is_opened(tmp_path: Path) -> None:
    opened: list[bool] = []

    async def open_body() -> bytes | StreamedBody:
        opened.append(True)
        return b""

    with pytest.raises(ConfigurationError):
        await download_to_file(tmp_path, open_body, retrying=twice, limit=None, stats=ClientStats(), progress=None)
    assert opened == []


def test_block_writer_carries_on_after_a_short_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.pwritev

    def short(fd: int, buffers: list[bytes], offset: int) -> int:
        return real(fd, buffers, offset) if len(buffers) == 1 else real(fd, buffers[:1], offset) + 0

    monkeypatch.setattr(stream_download, "_pwritev", short)
    path = tmp_path / "f"
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        hasher = Hasher()
        writer = BlockWriter(fd, hasher)
        assert writer.write([b"ab", b"cde", b"f"]) == 6
        assert writer.write([b"gh"]) == 2
    finally:
        os.close(fd)
    assert path.read_bytes() == b"abcdefgh" and hasher.fed == b"abcdefgh"
