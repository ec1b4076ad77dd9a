"""The proxy with no fault: every transfer goes through it unchanged, on every emulator.

These cases validate the proxy itself (keep-alive, chunked bodies, 100-continue, the
Location rewrite of GCS resumable sessions): a failure here is a proxy bug, not a product
defect.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.conftest import LARGE, SMALL, Backend, new_name, payload
from tests.faults.ops import DOWNLOADS, UPLOADS, download_outcome, upload_outcome

pytestmark = [pytest.mark.timeout(60), pytest.mark.asyncio(loop_scope="module")]

SIZES = {"small": SMALL, "large": LARGE}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("op", UPLOADS)
async def test_upload_through_proxy(backend: Backend, op: str, size: str, tmp_path: Path) -> None:
    data = payload(SIZES[size])
    name = new_name()
    error = await upload_outcome(backend, op, name, data, tmp_path)
    assert error is None
    assert backend.proxy.count(**backend.upload_request(name, op, size == "large")) >= 1
    assert backend.client.stats.retries == 0


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("op", DOWNLOADS)
async def test_download_through_proxy(backend: Backend, op: str, size: str, tmp_path: Path) -> None:
    data = payload(SIZES[size])
    name = new_name()
    await backend.seed(name, data)
    error = await download_outcome(backend, op, name, data, tmp_path)
    assert error is None
    assert backend.proxy.count(**backend.download_request(name)) >= 1
    assert backend.client.stats.retries == 0
