"""``upload_file`` in parts read from disk into reused buffers (``cloud.common.file_blocks``)
on S3 (multipart) and Azure (blocks), two parts in flight at a time, so every part after
the second is read into a buffer an earlier one used.

A part corrupted or cut off on the wire is sent again from its first byte, from its own
buffer: it must not be handed back for the next part before its last attempt ended, and
the next part must never carry the bytes of the one before.  Every case ends with the
checks of :mod:`tests.faults.ops` (bytes read back directly from the emulator, nothing
left behind).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio

from cloud.common.exceptions import CloudError
from cloud.common.retry import RetryPolicy
from tests.faults.conftest import S3_PART, Backend, Directs, _backend, new_name, payload
from tests.faults.ops import upload_outcome
from tests.faults.proxy import Fault, FlipRequest, Reset

pytestmark = [pytest.mark.timeout(90), pytest.mark.asyncio(loop_scope="module")]

AZURE_BLOCK = 1024 * 1024
PARTS = 6


@pytest_asyncio.fixture(loop_scope="module", params=["s3", "azure"])
async def two_at_a_time(request: pytest.FixtureRequest, directs: Directs, proxies: object) -> AsyncIterator[Backend]:
    """The provider behind a fresh proxy, its client sending two parts at a time."""
    async for backend in _backend(request.param, directs, proxies):  # type: ignore[arg-type]
        sizes = {"s3": {"part_size": S3_PART}, "azure": {"block_size": AZURE_BLOCK}}[request.param]
        # A retry waits long enough for the other part in flight to finish and the next
        # one to be read: into a buffer that must not be the retried part's.
        retry = RetryPolicy(max_attempts=4, base_delay=0.3, max_delay=0.3, jitter=False)
        client = backend.make(max_concurrency=2, retry=retry, **sizes)
        try:
            yield replace(backend, client=client)
        finally:
            await client.aclose()


def _size(backend: Backend) -> int:
    part = S3_PART if backend.name == "s3" else AZURE_BLOCK
    return (PARTS - 1) * part + 4321


@pytest.mark.parametrize(
    "fault", [FlipRequest(offset=1000), Reset(request_bytes=64 * 1024)], ids=["flipped-byte", "reset-mid-body"]
)
@pytest.mark.parametrize("skip", [1, PARTS - 1])
async def test_a_part_sent_again_from_a_reused_buffer_keeps_its_own_bytes(
    two_at_a_time: Backend, fault: Fault, skip: int, tmp_path: Path
) -> None:
    """The second or the last part fails once on the wire and is sent again after the
    other part in flight finished and the next one was read: the object stored is the
    file, byte for byte (each part from its own buffer, never from one another part was
    read into meanwhile)."""
    backend = two_at_a_time
    data, name = payload(_size(backend)), new_name()
    rule = backend.proxy.add(fault, skip=skip, **backend.upload_request(name, "upload_file", True))
    error = await upload_outcome(backend, "upload_file", name, data, tmp_path)
    assert rule.landed == 1
    assert error is None, f"one failed part failed the upload: {error!r}"
    assert rule.hits == PARTS + 1, f"expected {PARTS} parts and one sent again, the proxy saw {rule.hits}"
    assert backend.client.stats.retries >= 1


async def test_a_part_failing_for_good_aborts_and_leaves_nothing(two_at_a_time: Backend, tmp_path: Path) -> None:
    """A part corrupted on every attempt: a typed error, nothing stored, no part left."""
    backend = two_at_a_time
    data, name = payload(_size(backend)), new_name()
    backend.proxy.add(FlipRequest(offset=1000), skip=2, times=None, **backend.upload_request(name, "upload_file", True))
    error = await upload_outcome(backend, "upload_file", name, data, tmp_path)
    assert isinstance(error, CloudError), f"expected a typed error, got {error!r}"
    assert await backend.stored(name) is None
