"""Faults on Azure's direct blob requests (cloud/azure/direct.py: Put Blob, Get Blob, Get Blob
Properties, Delete Blob sent without azure-core's pipeline).  Each case checks that the
request it breaks went the direct way, then what the storage fault cases check: success
means identical bytes with the retry counted, failure a typed error and nothing partial.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

import cloud.azure.direct as direct_module
from cloud.common.exceptions import IntegrityError, RateLimitError, TransportError
from tests.faults.conftest import SMALL, Backend, new_name, payload
from tests.faults.ops import download_outcome, unconfigured_logging, upload_outcome
from tests.faults.proxy import FlipRequest, FlipResponse, Reset, Stall, Status, Truncate

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.parametrize("backend", ["azure"], indirect=True),
]


@contextmanager
def direct_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts the requests sent the direct way, by method."""
    sent: Counter[str] = Counter()
    original = direct_module.DirectBlobs.open

    async def counting(self: Any, method: str, url: str, headers: dict[str, str], data: Any = None) -> Any:
        sent[method] += 1
        return await original(self, method, url, headers, data)

    with monkeypatch.context() as patch:
        patch.setattr(direct_module.DirectBlobs, "open", counting)
        yield sent


def assert_retried(backend: Backend, hits: int) -> None:
    assert hits >= 2, f"the proxy saw the request {hits} time(s): it was not retried"
    assert backend.client.stats.retries >= 1, "the retry is not counted"


@pytest.mark.parametrize("op", ["get_bytes", "download_file", "open_read"])
async def test_reset_mid_body_of_a_direct_get(
    backend: Backend, op: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    data, name = payload(SMALL), new_name()
    await backend.seed(name, data)
    rule = backend.proxy.add(Reset(response_bytes=50_000), **backend.download_request(name))
    with direct_requests(monkeypatch) as sent, unconfigured_logging():
        error = await download_outcome(backend, op, name, data, tmp_path)
    assert sent["GET"] >= 2, f"the reads did not go the direct way: {sent}"
    assert error is None, f"a one-off reset mid-body failed {op}: {error!r}"
    assert_retried(backend, rule.hits)
    assert capfd.readouterr().err == ""


async def test_truncated_direct_get_is_retried(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, name = payload(SMALL), new_name()
    await backend.seed(name, data)
    rule = backend.proxy.add(Truncate(response_bytes=70_000), **backend.download_request(name))
    with direct_requests(monkeypatch) as sent:
        error = await download_outcome(backend, "get_bytes", name, data, tmp_path)
    assert sent["GET"] >= 2
    assert error is None, f"a one-off short body failed get_bytes: {error!r}"
    assert_retried(backend, rule.hits)


@pytest.mark.parametrize("op", ["get_bytes", "download_file"])
async def test_flipped_byte_of_a_direct_get(
    backend: Backend, op: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, name = payload(SMALL), new_name()
    await backend.seed(name, data)
    rule = backend.proxy.add(FlipResponse(offset=90_000), **backend.download_request(name))
    with direct_requests(monkeypatch) as sent:
        error = await download_outcome(backend, op, name, data, tmp_path)
    assert rule.landed == 1 and sent["GET"] >= 2
    # The blob's Content-MD5 comes with the whole-blob answer: the flip is detected and read again.
    assert error is None, f"one corrupted answer failed {op}: {error!r}"
    assert_retried(backend, rule.hits)


@pytest.mark.parametrize("op", ["put_bytes", "upload_file"])
async def test_flipped_byte_of_a_direct_put(
    backend: Backend, op: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, name = payload(SMALL), new_name()
    rule = backend.proxy.add(FlipRequest(offset=80_000), **backend.upload_request(name, op, False))
    with direct_requests(monkeypatch) as sent:
        error = await upload_outcome(backend, op, name, data, tmp_path)
    assert rule.landed == 1 and sent["PUT"] >= 2, sent
    # The service refuses a body that does not match its Content-MD5; it is sent again.
    assert error is None, f"one corrupted request failed {op}: {error!r}"
    assert_retried(backend, rule.hits)


async def test_reset_mid_body_of_a_direct_put(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, name = payload(SMALL), new_name()
    rule = backend.proxy.add(Reset(request_bytes=60_000), **backend.upload_request(name, "put_bytes", False))
    with direct_requests(monkeypatch) as sent:
        error = await upload_outcome(backend, "put_bytes", name, data, tmp_path)
    assert sent["PUT"] >= 2
    assert error is None, f"a one-off reset of the request failed put_bytes: {error!r}"
    assert_retried(backend, rule.hits)


async def test_503_bursts_on_direct_head_and_delete(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    data, name = payload(1000), new_name()
    await backend.seed(name, data)
    prefix = backend.download_request(name)["path"]
    head = backend.proxy.add(backend.error_503, times=2, method="HEAD", path=prefix)
    with direct_requests(monkeypatch) as sent:
        meta = await backend.client.stat(backend.bucket, name)
    assert meta.size == len(data) and sent["HEAD"] == 3 and head.hits == 3
    assert backend.client.stats.retries >= 2
    delete = backend.proxy.add(backend.error_503, times=None, method="DELETE", path=prefix)
    with direct_requests(monkeypatch) as sent, pytest.raises(RateLimitError) as caught:
        await backend.client.delete_object(backend.bucket, name)
    assert sent["DELETE"] >= 2 and delete.hits == sent["DELETE"]
    assert caught.value.code == "ServerBusy" and caught.value.operation == "delete_object"
    assert (await backend.direct.stat(backend.bucket, name)).size == len(data)  # still there


async def test_reset_of_a_direct_head_is_a_transport_error_then_retried(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = new_name()
    await backend.seed(name, b"abc")
    prefix = backend.download_request(name)["path"]
    rule = backend.proxy.add(Reset(), times=None, method="HEAD", path=prefix)
    with direct_requests(monkeypatch) as sent, pytest.raises(TransportError):
        await backend.client.stat(backend.bucket, name)
    assert sent["HEAD"] >= 2 and rule.hits == sent["HEAD"]
    rule.times = 0  # the fault is over: the next call succeeds
    assert (await backend.client.stat(backend.bucket, name)).size == 3


async def test_a_redirect_to_a_direct_get_or_head_is_left_to_the_sdk(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """azure-core follows a redirect of a GET or HEAD; the direct requests do not: the
    attempt that got one is sent again the SDK's way, which does."""
    name = new_name()
    data = payload(5000)
    await backend.seed(name, data)
    prefix = backend.download_request(name)["path"]
    location = f"{backend.proxy.url}/devstoreaccount1/{backend.bucket}/{name}"
    moved = Status(status=307, body=b"", headers=(("Location", location),))
    get = backend.proxy.add(moved, method="GET", path=prefix)
    head = backend.proxy.add(moved, method="HEAD", path=prefix)
    with direct_requests(monkeypatch) as sent:
        assert await backend.client.get_bytes(backend.bucket, name) == data
        assert (await backend.client.stat(backend.bucket, name)).size == len(data)
    assert sent["GET"] == 1 and sent["HEAD"] == 1  # the direct attempt, then the SDK's
    assert get.fired == 1 and get.hits == 2 and head.fired == 1 and head.hits == 2
    assert backend.client.stats.retries == 0


@contextmanager
def direct_streams(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The aiohttp responses of the direct GETs sent."""
    responses: list[Any] = []
    original = direct_module.DirectBlobs.open

    async def keeping(self: Any, method: str, url: str, headers: dict[str, str], data: Any = None) -> Any:
        response = await original(self, method, url, headers, data)
        if method == "GET":
            responses.append(response)
        return response

    with monkeypatch.context() as patch:
        patch.setattr(direct_module.DirectBlobs, "open", keeping)
        yield responses


async def test_reset_mid_body_of_a_direct_open(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """A body that breaks off under ``open`` is a ``TransportError`` from the read (a
    streamed body is not sent again behind the reader's back), nothing partial handed out,
    the response closed at once; the next ``open`` reads the object whole."""
    data, name = payload(SMALL), new_name()
    await backend.seed(name, data)
    rule = backend.proxy.add(Reset(response_bytes=50_000), **backend.download_request(name))
    with direct_streams(monkeypatch) as responses, unconfigured_logging():
        with pytest.raises(TransportError) as caught:
            async with backend.client.open(backend.bucket, name) as reader:
                await reader.read()
        assert caught.value.operation == "open"
        assert rule.landed == 1 and len(responses) == 1 and responses[0].closed
        async with backend.client.open(backend.bucket, name) as reader:
            assert await reader.read() == data
    assert len(responses) == 2


async def test_flipped_byte_of_a_direct_open_is_an_integrity_error_at_the_end(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, name = payload(SMALL), new_name()
    await backend.seed(name, data)
    rule = backend.proxy.add(FlipResponse(offset=len(data) - 1000), times=None, **backend.download_request(name))
    received: list[bytes] = []
    with direct_streams(monkeypatch) as responses, pytest.raises(IntegrityError):
        async with backend.client.open(backend.bucket, name) as reader:
            assert reader.size == len(data)
            async for chunk in reader:
                received.append(chunk)
    assert rule.landed >= 1 and len(responses) >= 1
    got = b"".join(received)
    assert len(got) < len(data), "the chunk that failed the check was handed out"
    assert responses[0].closed


async def test_a_cancelled_direct_open_closes_its_response_at_once(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, name = payload(SMALL), new_name()
    await backend.seed(name, data)
    # The body stalls after its first bytes: the reader waits for the rest, then gives up.
    rule = backend.proxy.add(Stall(seconds=30, response_bytes=20_000), **backend.download_request(name))
    started = anyio.Event()
    with direct_streams(monkeypatch) as responses:
        async with anyio.create_task_group() as tg:

            async def read() -> None:
                async with backend.client.open(backend.bucket, name) as reader:
                    started.set()
                    await reader.read()

            tg.start_soon(read)
            await started.wait()
            await anyio.sleep(0.2)
            tg.cancel_scope.cancel()
    assert rule.landed == 1 and len(responses) == 1
    assert responses[0].closed  # given back now, not at aclose
