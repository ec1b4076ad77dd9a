"""Faults on the short paths of the hot operations: ``download_many`` (each result's byte
count comes from the download itself, not from the disk), ``open_read`` taking what already
arrived without waiting (a slow reader whose buffered body is cut or corrupted), and a GCS
``upload_stream`` whose body came in one piece (handed on without a copy).

Every case ends with the same checks as :mod:`tests.faults.test_storage_faults`: success
means identical bytes; failure a typed ``CloudError`` and nothing partial anywhere.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from cloud.common.exceptions import CloudError, IntegrityError, NotFoundError, TransportError
from tests.faults.conftest import LARGE, SMALL, Backend, new_name, payload
from tests.faults.ops import check_upload, unconfigured_logging
from tests.faults.proxy import FlipRequest, FlipResponse, Reset, Truncate

pytestmark = [pytest.mark.timeout(60), pytest.mark.asyncio(loop_scope="module")]


def no_temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


async def test_download_many_counts_the_bytes_of_a_retried_item(backend: Backend, tmp_path: Path) -> None:
    """One item cut mid-body once (retried from its first byte), one missing, the others
    plain: each result says what happened, the byte counts are the objects' sizes (not the
    bytes of the broken attempt, nor those counted twice), and only whole files are left."""
    small, large = payload(SMALL), payload(LARGE)
    cut, plain, big, missing = new_name(), new_name(), new_name(), new_name()
    await backend.seed(cut, small)
    await backend.seed(plain, small)
    await backend.seed(big, large)
    rule = backend.proxy.add(Reset(response_bytes=100_000), **backend.download_request(cut))
    items = [(cut, tmp_path / "cut.bin"), (missing, tmp_path / "missing.bin"), (plain, tmp_path / "plain.bin")]
    items.append((big, tmp_path / "sub" / "big.bin"))
    with unconfigured_logging():
        results = await backend.client.download_many(backend.bucket, items, concurrency=4)
    assert rule.landed == 1
    by_name = {r.source: r for r in results}
    assert [r.source for r in results] == [name for name, _ in items]
    assert by_name[cut].ok and by_name[cut].bytes == SMALL, by_name[cut]
    assert by_name[plain].ok and by_name[plain].bytes == SMALL, by_name[plain]
    assert by_name[big].ok and by_name[big].bytes == LARGE, by_name[big]
    assert not by_name[missing].ok and isinstance(by_name[missing].error, NotFoundError), by_name[missing]
    assert (tmp_path / "cut.bin").read_bytes() == small
    assert (tmp_path / "plain.bin").read_bytes() == small
    assert (tmp_path / "sub" / "big.bin").read_bytes() == large
    assert not (tmp_path / "missing.bin").exists()
    assert no_temp_files(tmp_path) == [] and no_temp_files(tmp_path / "sub") == []


GCS_ONLY = pytest.mark.parametrize("backend", ["gcs"], indirect=True)


@GCS_ONLY
async def test_download_many_of_an_object_corrupted_every_time_leaves_no_file(backend: Backend, tmp_path: Path) -> None:
    """GCS checks every whole-object answer against its CRC32C: an item corrupted on every
    attempt ends as an ``IntegrityError`` with nothing at its destination; the rest land."""
    bad, good = new_name(), new_name()
    data = payload(SMALL)
    await backend.seed(bad, data)
    await backend.seed(good, data)
    rule = backend.proxy.add(FlipResponse(offset=100_000), times=None, **backend.download_request(bad))
    results = await backend.client.download_many(
        backend.bucket, [(bad, tmp_path / "bad.bin"), (good, tmp_path / "good.bin")], concurrency=2
    )
    assert rule.landed >= 1
    assert not results[0].ok and isinstance(results[0].error, IntegrityError), results[0]
    assert results[1].ok and results[1].bytes == SMALL
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.bin"]


async def _slow_read(backend: Backend, name: str) -> tuple[list[bytes], BaseException | None]:
    """``open_read`` that pauses after its first chunk, so that the rest of the body (and
    the fault) is already buffered when it reads on."""
    received: list[bytes] = []
    try:
        async for chunk in backend.client.open_read(backend.bucket, name, chunk_size=64 * 1024):
            if not received:
                await anyio.sleep(0.5)
            received.append(chunk)
    except Exception as exc:  # checked by the caller
        return received, exc
    return received, None


@pytest.mark.parametrize("fault", ["reset", "truncate"])
async def test_open_read_of_a_buffered_body_cut_short_is_a_transport_error(
    backend: Backend, fault: str, capfd: pytest.CaptureFixture[str]
) -> None:
    data, name = payload(LARGE), new_name()
    await backend.seed(name, data)
    kind = Reset(response_bytes=700_000) if fault == "reset" else Truncate(response_bytes=700_000)
    rule = backend.proxy.add(kind, **backend.download_request(name))
    with unconfigured_logging():
        received, error = await _slow_read(backend, name)
    assert rule.landed == 1
    if error is None:
        # A provider that reads in ranges may retry the cut range: then it must be whole.
        assert b"".join(received) == data
    else:
        assert isinstance(error, TransportError), f"a cut body must be a TransportError, got {error!r}"
        assert len(b"".join(received)) < len(data)
    assert capfd.readouterr().err == ""


@GCS_ONLY
async def test_open_read_of_a_buffered_corrupted_body_is_an_integrity_error(backend: Backend) -> None:
    """GCS's ``open_read`` is one GET checked against the object's CRC32C at its end."""
    data, name = payload(SMALL), new_name()
    await backend.seed(name, data)
    rule = backend.proxy.add(FlipResponse(offset=200_000), **backend.download_request(name))
    received, error = await _slow_read(backend, name)
    assert rule.landed == 1
    assert isinstance(error, IntegrityError), f"expected an IntegrityError, got {error!r}"
    assert len(b"".join(received)) <= len(data)


async def _one_piece(data: bytes) -> AsyncIterator[bytes]:
    yield data


@GCS_ONLY
@pytest.mark.parametrize("fault", ["flip", "reset"])
async def test_gcs_upload_stream_of_one_piece_under_a_fault(backend: Backend, fault: str) -> None:
    """A body that comes in one piece goes out as it is: a request corrupted or cut on the
    way is refused (CRC32C) or retried, and what is stored is the body or nothing."""
    data, name = payload(SMALL), new_name()
    kind = FlipRequest(offset=100_000) if fault == "flip" else Reset(request_bytes=100_000)
    rule = backend.proxy.add(kind, **backend.upload_request(name, "upload_stream", False))
    error: BaseException | None = None
    with unconfigured_logging():
        try:
            await backend.client.upload_stream(backend.bucket, name, _one_piece(data))
        except CloudError as exc:
            error = exc
    assert rule.landed == 1
    await check_upload(backend, name, data, error)
    if fault == "reset":
        assert error is None, f"a one-off reset failed upload_stream: {error!r}"
