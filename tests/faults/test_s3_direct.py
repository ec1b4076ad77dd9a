"""Faults on the S3 direct path (:mod:`cloud.aws.direct`): the client behind the fault proxy
sends its object requests without botocore's pipeline, so a reset in a response body, a
flipped byte in a request or response body and a 503 must be handled there as on the
client path: read or sent again from the first byte, every attempt counted, a typed error
when it persists.  Each case checks that the requests really went the direct way."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from cloud.aws.direct import DirectS3Client, _aio_body_classes
from cloud.common.exceptions import TransportError
from tests.faults.conftest import SMALL, Backend, Directs, _backend, new_name, payload
from tests.faults.ops import download_outcome, upload_outcome
from tests.faults.proxy import FaultProxy, FlipRequest, FlipResponse, Reset

pytestmark = [pytest.mark.timeout(60), pytest.mark.asyncio(loop_scope="module")]

MID = 100_000


@pytest_asyncio.fixture(loop_scope="module")
async def s3(directs: Directs, proxies: Callable[[str], FaultProxy]) -> AsyncIterator[Backend]:
    """moto behind a fresh fault proxy."""
    async for backend in _backend("s3", directs, proxies):
        yield backend


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """How many requests of each operation the direct path sent."""
    counts: Counter[str] = Counter()
    original = DirectS3Client._send

    async def counted(self: DirectS3Client, method: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        counts[method] += 1
        return await original(self, method, *args, **kwargs)

    monkeypatch.setattr(DirectS3Client, "_send", counted)
    yield counts


async def _is_direct(backend: Backend) -> None:
    raw = await backend.client._get_client()  # type: ignore[attr-defined]
    assert isinstance(raw, DirectS3Client), "the client behind the fault proxy must take the direct path"


@pytest.mark.parametrize("op", ["get_bytes", "download_file", "open_read"])
async def test_direct_get_reset_mid_body_is_read_again(
    s3: Backend, sent: Counter[str], op: str, tmp_path: Path
) -> None:
    await _is_direct(s3)
    data, name = payload(SMALL), new_name()
    await s3.seed(name, data)
    rule = s3.proxy.add(Reset(response_bytes=MID), **s3.download_request(name))
    error = await download_outcome(s3, op, name, data, tmp_path)
    assert rule.landed == 1
    if op == "open_read":
        # a stream already handed out cannot be read again: a typed transport error
        assert error is None or isinstance(error, TransportError), repr(error)
    else:
        assert error is None, f"a one-off reset mid-body failed {op}: {error!r}"
        assert rule.hits >= 2 and s3.client.stats.retries >= 1
        assert sent["get_object"] >= 2, "the retry did not go the direct way"
    assert sent["get_object"] >= 1


@pytest.mark.parametrize("op", ["get_bytes", "download_file"])
async def test_direct_get_flipped_byte_is_caught(s3: Backend, sent: Counter[str], op: str, tmp_path: Path) -> None:
    await _is_direct(s3)
    data, name = payload(SMALL), new_name()
    await s3.seed(name, data)
    rule = s3.proxy.add(FlipResponse(offset=MID), **s3.download_request(name))
    error = await download_outcome(s3, op, name, data, tmp_path)  # never other bytes
    assert rule.landed == 1
    assert error is None, f"one corrupted answer (an MD5 ETag to check it against) failed {op}: {error!r}"
    assert rule.hits >= 2 and s3.client.stats.retries >= 1
    assert sent["get_object"] >= 2


@pytest.mark.parametrize("op", ["put_bytes", "upload_file"])
async def test_direct_put_flipped_byte_is_never_stored(
    s3: Backend, sent: Counter[str], op: str, tmp_path: Path
) -> None:
    await _is_direct(s3)
    data, name = payload(SMALL), new_name()
    rule = s3.proxy.add(FlipRequest(offset=MID), **s3.upload_request(name, op, False))
    error = await upload_outcome(s3, op, name, data, tmp_path)  # stored intact, or nothing
    assert rule.landed == 1
    assert sent["put_object"] >= 1
    if error is None:
        assert rule.hits >= 2 and s3.client.stats.retries >= 1


async def test_direct_put_reset_mid_body_is_sent_again_whole(s3: Backend, sent: Counter[str], tmp_path: Path) -> None:
    await _is_direct(s3)
    data, name = payload(SMALL), new_name()
    rule = s3.proxy.add(Reset(request_bytes=MID), **s3.upload_request(name, "put_bytes", False))
    error = await upload_outcome(s3, "put_bytes", name, data, tmp_path)
    assert error is None, f"a one-off reset in the request body failed the PUT: {error!r}"
    assert rule.hits >= 2 and s3.client.stats.retries >= 1
    assert sent["put_object"] >= 2


async def test_direct_503_burst_is_retried_and_counted(s3: Backend, sent: Counter[str], tmp_path: Path) -> None:
    await _is_direct(s3)
    data, name = payload(SMALL), new_name()
    await s3.seed(name, data)
    rule = s3.proxy.add(s3.error_503, times=2, **s3.download_request(name))
    got = await s3.client.get_bytes(s3.bucket, name)
    assert got == data
    assert rule.hits == 3 and s3.client.stats.retries >= 2
    assert sent["get_object"] == 3


async def test_direct_get_flipped_byte_fails_the_flexible_checksum_and_is_read_again(
    s3: Backend, sent: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole-object GET asked with ``ChecksumMode`` (as on AWS): the direct path reads the
    answer through the checksum-verifying body botocore would use, so a flipped byte fails
    the CRC32 S3 stored (the MD5 ETag is then not checked) and the GET is sent again."""
    import base64
    import zlib

    await _is_direct(s3)
    data, name = payload(SMALL), new_name()
    seeder = await s3.direct._get_client()  # type: ignore[attr-defined]
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    await seeder.put_object(Bucket=s3.bucket, Key=name, Body=data, ChecksumAlgorithm="CRC32", ChecksumCRC32=crc)
    monkeypatch.setattr(s3.client, "_aws", True)  # whole-object GETs ask for the checksum
    rule = s3.proxy.add(FlipResponse(offset=MID), **s3.download_request(name))
    bodies: list[str] = []
    original = DirectS3Client._send

    async def seen(self: DirectS3Client, *args: Any, **kwargs: Any) -> dict[str, Any]:
        answer = await original(self, *args, **kwargs)
        bodies.append(type(answer.get("Body")).__name__)
        return answer

    monkeypatch.setattr(DirectS3Client, "_send", seen)
    got = await s3.client.get_bytes(s3.bucket, name)
    assert got == data
    assert rule.landed == 1 and rule.hits >= 2 and s3.client.stats.retries >= 1
    assert sent["get_object"] >= 2
    assert bodies[0] == _aio_body_classes()[1].__name__, bodies
