"""The generic reader and writer of :mod:`cloud.common.objects`, on the in-memory backend
with its range primitive wrapped to observe and break it: the HTTP response is closed on
every way out, a failed whole-object check withholds the last chunk, a body cut short is a
``TransportError``, a changed object fails a re-open, and writers never commit on error."""

from __future__ import annotations

import gc
import io
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import pytest

from cloud.common.exceptions import IntegrityError, PreconditionFailedError, TransportError
from cloud.common.objects import RangeStream
from cloud.local import LocalStorageClient, SyncLocalStorageClient

DATA = bytes(range(256)) * 64  # 16 KiB


class Probe(LocalStorageClient):
    """The memory backend, its streams in 1 KiB chunks, recording every GET and close."""

    def __init__(self, alter: Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]] | None = None) -> None:
        super().__init__()
        self.alter = alter
        self.opened: list[tuple[int, int | None, str | None]] = []
        self.closed = 0
        self.pulled = 0

    async def _open_range(
        self,
        bucket: str,
        object_name: str,
        offset: int,
        length: int | None,
        *,
        version: str | None = None,
        timeout: float | None = None,
    ) -> RangeStream:
        inner = await super()._open_range(bucket, object_name, offset, length, version=version, timeout=timeout)
        self.opened.append((offset, length, version))

        async def small() -> AsyncIterator[bytes]:
            async for chunk in inner.chunks:
                for i in range(0, len(chunk), 1024):
                    self.pulled += len(chunk[i : i + 1024])
                    yield chunk[i : i + 1024]

        def close() -> None:
            self.closed += 1
            inner.close()

        chunks = small() if self.alter is None else self.alter(small())
        return RangeStream(inner.meta, length=inner.length, version=inner.version, chunks=chunks, close=close)


async def seeded(probe: Probe) -> Probe:
    await probe.ensure_bucket("b")
    await probe.put_bytes("b", "k", DATA, content_type="text/plain", metadata={"a": "1"})
    return probe


async def test_every_way_out_closes_the_response() -> None:
    probe = await seeded(Probe())
    async with probe.open("b", "k") as reader:
        await reader.read(10)
    assert probe.closed == 1 and probe.pulled < len(DATA)

    with pytest.raises(KeyError):
        async with probe.open("b", "k") as reader:
            await reader.read(10)
            raise KeyError
    assert probe.closed == 2

    started = anyio.Event()

    async def slow_consumer() -> None:
        async with probe.open("b", "k") as reader:
            async for _ in reader:
                started.set()
                await anyio.sleep(3600)

    async with anyio.create_task_group() as tg:
        tg.start_soon(slow_consumer)
        await started.wait()
        pulled = probe.pulled
        tg.cancel_scope.cancel()
    assert probe.closed == 3
    assert probe.pulled == pulled < len(DATA)


async def test_a_cancelled_read_inside_the_body_closes_it() -> None:
    gate = anyio.Event()

    def stall(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async def gen() -> AsyncIterator[bytes]:
            yield await anext(chunks)
            await gate.wait()  # the network stalls
            async for chunk in chunks:
                yield chunk

        return gen()

    probe = await seeded(Probe(stall))
    async with probe.open("b", "k") as reader:
        assert len(await reader.read(5000)) == 1024
        with anyio.move_on_after(0.1):
            await reader.read(5000)
        assert probe.closed == 1  # at once, not when the reader is left
        # The next read re-opens where the last byte handed out ended.
        gate.set()
        rest = await reader.read()
    assert DATA[:1024] + rest == DATA
    assert probe.opened[-1][0] == 1024


async def test_failed_whole_object_check_withholds_the_last_chunk() -> None:
    def corrupt(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async def gen() -> AsyncIterator[bytes]:
            async for chunk in chunks:
                yield chunk
            raise IntegrityError("checksum mismatch")

        return gen()

    probe = await seeded(Probe(corrupt))
    received: list[bytes] = []
    with pytest.raises(IntegrityError):
        async with probe.open("b", "k") as reader:
            async for chunk in reader:
                received.append(chunk)
    assert len(b"".join(received)) == len(DATA) - 1024
    assert probe.closed == 1


@pytest.mark.parametrize("cut", [100, 5000])
async def test_a_short_or_long_body_is_a_transport_error(cut: int) -> None:
    def short(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async def gen() -> AsyncIterator[bytes]:
            sent = 0
            async for chunk in chunks:
                if sent + len(chunk) > len(DATA) - cut:
                    return
                sent += len(chunk)
                yield chunk

        return gen()

    def long(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async def gen() -> AsyncIterator[bytes]:
            async for chunk in chunks:
                yield chunk
            yield b"extra" * cut

        return gen()

    for alter in (short, long):
        probe = await seeded(Probe(alter))
        with pytest.raises(TransportError):
            async with probe.open("b", "k") as reader:
                await reader.read()
        assert probe.closed == 1


async def test_seek_reopens_pinned_and_a_changed_object_fails() -> None:
    probe = await seeded(Probe())
    async with probe.open("b", "k", start=1000) as reader:
        assert reader.size == len(DATA) - 1000
        assert await reader.read(3) == DATA[1000:1003]
        await reader.seek(10_000)  # a short hop forward reads on
        assert await reader.read(3) == DATA[11_000:11_003]
        assert len(probe.opened) == 1
        await reader.seek(5)  # back: a new GET, pinned to the version first read
        assert await reader.read(3) == DATA[1005:1008]
        offset, length, version = probe.opened[-1]
        assert (offset, length) == (1005, None) and version == reader.etag
        await probe.put_bytes("b", "k", DATA[::-1])
        await reader.seek(0)
        with pytest.raises(PreconditionFailedError):
            await reader.read(1)


async def test_reads_are_refused_before_open_and_after_close() -> None:
    probe = await seeded(Probe())
    reader = probe.open("b", "k")
    with pytest.raises(RuntimeError):
        _ = reader.size
    async with reader:
        pass
    with pytest.raises(ValueError):
        await reader.read()
    with pytest.raises(RuntimeError):
        await reader.open()


class Recorder(LocalStorageClient):
    """The memory backend, its ``upload_stream`` slow and observed."""

    def __init__(self) -> None:
        super().__init__()
        self.taken = 0
        self.outcome = "running"

    async def upload_stream(self, bucket: str, object_name: str, chunks: Any, **options: Any) -> bool:
        async def counted() -> AsyncIterator[bytes]:
            async for chunk in chunks:
                self.taken += 1
                await anyio.sleep(0.01)  # a slow network
                yield chunk

        try:
            result = await super().upload_stream(bucket, object_name, counted(), **options)
        except BaseException as exc:
            self.outcome = type(exc).__name__
            raise
        self.outcome = "committed"
        return result


async def test_writer_memory_is_bounded_by_its_queue() -> None:
    client = Recorder()
    await client.ensure_bucket("b")
    async with client.open_write("b", "w") as writer:
        for i in range(20):
            await writer.write(bytes([i]) * 100)
            assert i + 1 - client.taken <= 4, "the writer ran ahead of the upload"
    assert client.outcome == "committed"
    assert await client.get_bytes("b", "w") == b"".join(bytes([i]) * 100 for i in range(20))


async def test_writer_abort_cancels_the_upload() -> None:
    client = Recorder()
    await client.ensure_bucket("b")
    with pytest.raises(ZeroDivisionError):
        async with client.open_write("b", "w") as writer:
            await writer.write(b"x" * 10)
            1 / 0  # noqa: B018
    assert client.outcome in ("CancelledError", "_Aborted")
    assert not await client.object_exists("b", "w")
    assert not writer.committed


def test_sync_writer_dropped_without_close_is_aborted() -> None:
    with SyncLocalStorageClient() as client:
        client.ensure_bucket("b")
        writer = client.open_write("b", "dropped")
        writer.write(b"half")
        del writer
        gc.collect()
        assert not client.object_exists("b", "dropped")
        with client.open_write("b", "closed") as raw:
            assert raw.write(memoryview(b"abc")) == 3 and raw.bytes_written == 3
        assert client.get_bytes("b", "closed") == b"abc"
        reader = client.open("b", "closed")
        assert isinstance(reader, io.RawIOBase)
        del reader
        gc.collect()


async def test_an_upload_failure_is_raised_by_write_and_by_commit() -> None:
    class Failing(LocalStorageClient):
        async def upload_stream(self, bucket: str, object_name: str, chunks: Any, **options: Any) -> bool:
            async for _ in chunks:
                raise PreconditionFailedError("the service refused the upload")
            return True

    client = Failing()
    await client.ensure_bucket("b")
    writer = client.open_write("b", "w")
    await writer.open()
    with pytest.raises(PreconditionFailedError):
        for _ in range(10):  # the queue takes a few before the failure is seen
            await writer.write(b"x" * 10)
            await anyio.sleep(0.01)
    with pytest.raises(PreconditionFailedError):
        await writer.commit()
    await writer.abort()
    assert not writer.committed and not await client.object_exists("b", "w")
