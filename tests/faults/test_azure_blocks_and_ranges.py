"""Azure's block uploads and ranged reads (``download_file``, ``get_bytes``) with many
blocks or ranges in flight, under a flipped byte in one of them (the first, a middle one or
the last): each block is staged while the whole blob's MD5 is computed beside it (not
before it), and each range is stored while it waits for its turn in the whole blob's MD5
(the first range hashed beside the requests for the others).

A corrupted block must be refused by the service and sent again from its first byte, and the
blob must be committed with the MD5 of the bytes that were meant (not of what the wire
carried); a corrupted range must fail the whole-blob check (``IntegrityError``) and the
read be repeated, never giving or leaving other bytes.  Every case ends with the checks of
:mod:`tests.faults.ops` (bytes read back directly from Azurite, nothing left behind).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote

import pytest
import pytest_asyncio

from cloud.common.exceptions import IntegrityError
from tests.faults.conftest import Backend, Directs, _backend, new_name, payload
from tests.faults.ops import download_outcome, upload_outcome
from tests.faults.proxy import FlipRequest, FlipResponse, ProxiedRequest

pytestmark = [pytest.mark.timeout(60), pytest.mark.asyncio(loop_scope="module")]

BLOCK = 1024 * 1024
"""Small blocks and ranges, so one blob takes many of them, several in flight."""

SIZE = 11 * BLOCK + 4321
"""Twelve blocks or ranges, the last one short."""


@pytest_asyncio.fixture(loop_scope="module")
async def azure(directs: Directs, proxies: object) -> AsyncIterator[Backend]:
    """Azurite behind a fresh proxy, the client under test with 1 MiB blocks and ranges."""
    async for backend in _backend("azure", directs, proxies):  # type: ignore[arg-type]
        client = backend.make(block_size=BLOCK, max_concurrency=4)
        try:
            yield replace(backend, client=client)
        finally:
            await client.aclose()


async def stored_content_md5(backend: Backend, name: str) -> bytes | None:
    """The Content-MD5 property Azurite holds for ``name`` (read directly)."""
    blob = await backend.direct._blob(backend.bucket, name)  # type: ignore[attr-defined]
    props = await blob.get_blob_properties()
    md5 = props.content_settings.content_md5
    return bytes(md5) if md5 else None


@pytest.mark.parametrize("skip", [0, 5, 11])
async def test_flipped_byte_in_one_block_is_refused_and_sent_again(azure: Backend, skip: int, tmp_path: Path) -> None:
    """The first, a middle or the last Put Block corrupted: refused by Azurite (its
    Content-MD5), retried, and the blob committed whole with the MD5 of the source."""
    data, name = payload(SIZE), new_name()
    rule = azure.proxy.add(FlipRequest(offset=1000), skip=skip, **azure.upload_request(name, "upload_file", True))
    error = await upload_outcome(azure, "upload_file", name, data, tmp_path)
    assert rule.landed == 1
    assert error is None, f"one corrupted block failed the upload: {error!r}"
    assert rule.hits == 13, f"expected 12 blocks and one sent again, the proxy saw {rule.hits} Put Block"
    assert azure.client.stats.retries >= 1
    assert await stored_content_md5(azure, name) == hashlib.md5(data).digest()


async def test_persistently_corrupted_block_fails_typed_and_discards_the_blocks(azure: Backend, tmp_path: Path) -> None:
    """A middle block corrupted on every attempt: an IntegrityError, nothing committed and
    no uncommitted block left (checked by upload_outcome)."""
    data, name = payload(SIZE), new_name()
    azure.proxy.add(FlipRequest(offset=1000), **_block_number(azure, name, 6))
    error = await upload_outcome(azure, "upload_file", name, data, tmp_path)
    assert isinstance(error, IntegrityError), f"expected an IntegrityError, got {error!r}"
    assert await azure.stored(name) is None


def _block_number(backend: Backend, name: str, index: int) -> dict[str, object]:
    """The match of every Put Block of block ``index`` of ``name`` (its block id ends with
    the zero-padded index), whatever the attempt."""
    match = backend.upload_request(name, "upload_file", True)

    def is_block(request: ProxiedRequest) -> bool:
        for part in request.query.split("&"):
            if part.startswith("blockid="):
                block_id = base64.b64decode(unquote(part[len("blockid=") :])).decode()
                return block_id.endswith(f"-{index:06d}")
        return False

    return {**match, "when": is_block, "times": None}


@pytest.mark.parametrize("skip", [0, 1, 6, 11])
@pytest.mark.parametrize("op", ["download_file", "get_bytes"])
async def test_flipped_byte_in_one_range_fails_the_whole_blob_check_and_is_read_again(
    azure: Backend, op: str, skip: int, tmp_path: Path
) -> None:
    """The first, second, a middle or the last range of a ranged ``download_file`` or
    ``get_bytes`` corrupted: the blob's Content-MD5 does not match, the read is repeated,
    and it gives the blob's bytes (no temp file left)."""
    data, name = payload(SIZE), new_name()
    await azure.seed(name, data)
    assert await stored_content_md5(azure, name) == hashlib.md5(data).digest()
    rule = azure.proxy.add(FlipResponse(offset=1000), skip=skip, **azure.download_request(name))
    error = await download_outcome(azure, op, name, data, tmp_path)
    assert rule.landed == 1
    assert error is None, f"one corrupted range failed {op}: {error!r}"
    assert rule.hits > 12, f"the download was not repeated ({rule.hits} GETs)"
    assert azure.client.stats.retries >= 1


@pytest.mark.parametrize("op", ["download_file", "get_bytes"])
async def test_every_read_corrupted_in_a_later_range_is_an_integrity_error(
    azure: Backend, op: str, tmp_path: Path
) -> None:
    """The seventh range corrupted on every attempt: an IntegrityError and no file left."""
    data, name = payload(SIZE), new_name()
    await azure.seed(name, data)

    def seventh_of_each_attempt(request: ProxiedRequest) -> bool:
        value = request.header("x-ms-range") or request.header("range") or ""
        return value.startswith(f"bytes={6 * BLOCK}-")

    rule = azure.proxy.add(
        FlipResponse(offset=500_000), times=None, when=seventh_of_each_attempt, **azure.download_request(name)
    )
    error = await download_outcome(azure, op, name, data, tmp_path)
    assert rule.landed >= 2, "the download was not repeated"
    assert isinstance(error, IntegrityError), f"expected an IntegrityError, got {error!r}"
