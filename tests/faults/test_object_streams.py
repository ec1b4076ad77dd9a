"""``open`` and ``open_write`` under faults, on each emulator behind the fault proxy: a
corrupted whole-object read is an ``IntegrityError`` (its last chunk never handed out), a
cut body is a typed error, and an aborted writer leaves no object and no uncommitted
parts (S3 multipart uploads, Azure blocks, GCS resumable sessions)."""

from __future__ import annotations

import anyio
import pytest

from cloud.common.exceptions import CloudError, IntegrityError
from tests.faults.conftest import LARGE, SMALL, Backend, new_name, payload
from tests.faults.proxy import FlipResponse, Truncate

pytestmark = [pytest.mark.timeout(90), pytest.mark.asyncio(loop_scope="module")]


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_open_of_a_corrupted_object_raises_integrity_error(backend: Backend, size: int) -> None:
    data, name = payload(size), new_name()
    await backend.seed(name, data)
    rule = backend.proxy.add(FlipResponse(offset=size - 1000), times=None, **backend.download_request(name))
    received: list[bytes] = []
    with pytest.raises(IntegrityError):
        async with backend.client.open(backend.bucket, name) as reader:
            assert reader.size == size
            async for chunk in reader:
                received.append(chunk)
    assert rule.landed >= 1
    assert len(b"".join(received)) < size, "the chunk that failed the check was handed out"


async def test_open_of_a_cut_body_is_a_typed_error(backend: Backend) -> None:
    data, name = payload(LARGE), new_name()
    await backend.seed(name, data)
    backend.proxy.add(Truncate(response_bytes=700_000), **backend.download_request(name))
    with pytest.raises(CloudError):
        async with backend.client.open(backend.bucket, name) as reader:
            assert await reader.read() != data


async def test_aborted_writer_leaves_no_object_and_no_parts(backend: Backend) -> None:
    name = new_name()

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with backend.client.open_write(backend.bucket, name) as writer:
            for _ in range(2):  # two blocks of every provider's size, and more
                await writer.write(payload(LARGE))
            parts = backend.upload_request(name, "upload_file", True)  # parts, blocks, chunks
            with anyio.fail_after(30):
                while backend.proxy.count(**parts) < 1:
                    await anyio.sleep(0.05)
            raise Boom
    assert await backend.stored(name) is None
    assert await backend.leftovers(name) == []
