"""S3 answers written by the fault proxy itself, with header names in any case: what the
client reads from a response's headers (ETag, Content-Length, checksums, user metadata,
dates) decides whether a body is accepted, so a wrong or corrupt answer whose headers are
spelled ``ETAG`` or ``Content-length`` must be caught as one spelled in lower case is."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone

import pytest
import pytest_asyncio

from cloud.common.exceptions import IntegrityError
from tests.faults.conftest import SMALL, Backend, Directs, _backend, new_name, payload
from tests.faults.proxy import FaultProxy, Status

pytestmark = [pytest.mark.timeout(60), pytest.mark.asyncio(loop_scope="module")]

_DATE = "Fri, 04 Dec 2026 21:00:00 GMT"


@pytest_asyncio.fixture(loop_scope="module")
async def s3(directs: Directs, proxies: Callable[[str], FaultProxy]) -> AsyncIterator[Backend]:
    """moto behind a fresh fault proxy."""
    async for backend in _backend("s3", directs, proxies):
        yield backend


def _etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def _flipped(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]


def _object_answer(body: bytes, etag: str) -> Status:
    headers = (("ETAG", etag), ("Last-MODIFIED", _DATE), ("X-Amz-Request-Id", "fault-proxy"))
    return Status(status=200, body=body, content_type="application/octet-stream", headers=headers)


async def test_get_with_upper_case_headers_and_a_flipped_body_is_read_again(s3: Backend) -> None:
    data, name = payload(SMALL), new_name()
    await s3.seed(name, data)
    rule = s3.proxy.add(_object_answer(_flipped(data), _etag(data)), method="GET", path=f"/{s3.bucket}/{name}$")
    got = await s3.client.get_bytes(s3.bucket, name)
    assert got == data
    assert rule.fired == 1 and rule.hits == 2
    assert s3.client.stats.retries >= 1


async def test_get_always_answered_with_a_flipped_body_is_an_integrity_error(s3: Backend) -> None:
    data, name = payload(SMALL), new_name()
    await s3.seed(name, data)
    fault = _object_answer(_flipped(data), _etag(data))
    rule = s3.proxy.add(fault, method="GET", path=f"/{s3.bucket}/{name}$", times=None)
    with pytest.raises(IntegrityError):
        await s3.client.get_bytes(s3.bucket, name)
    assert rule.fired >= 2


async def test_get_answered_one_byte_short_under_the_whole_etag_is_read_again(s3: Backend) -> None:
    data, name = payload(SMALL), new_name()
    await s3.seed(name, data)
    # a complete answer (framed by the proxy's own Content-Length) one byte short, under
    # the whole object's ETag in mixed case
    fault = Status(
        status=200,
        body=data[:-1],
        content_type="application/octet-stream",
        headers=(("Etag", _etag(data)),),
    )
    rule = s3.proxy.add(fault, method="GET", path=f"/{s3.bucket}/{name}$")
    assert await s3.client.get_bytes(s3.bucket, name) == data
    assert rule.fired == 1 and s3.client.stats.retries >= 1


async def test_put_answered_with_another_md5_in_an_upper_case_etag_is_sent_again(s3: Backend) -> None:
    data, name = payload(SMALL), new_name()
    fault = Status(status=200, body=b"", content_type="application/xml", headers=(("ETAG", _etag(b"other")),))
    rule = s3.proxy.add(fault, method="PUT", path=f"/{s3.bucket}/{name}$")
    meta = await s3.client.put_bytes(s3.bucket, name, data)
    assert meta.etag == hashlib.md5(data).hexdigest()
    assert rule.fired == 1 and rule.hits == 2
    assert await s3.stored(name) == data


async def test_put_always_answered_with_another_md5_is_an_integrity_error(s3: Backend) -> None:
    data, name = payload(SMALL), new_name()
    fault = Status(status=200, body=b"", content_type="application/xml", headers=(("ETag", _etag(b"other")),))
    s3.proxy.add(fault, method="PUT", path=f"/{s3.bucket}/{name}$", times=None)
    with pytest.raises(IntegrityError):
        await s3.client.put_bytes(s3.bucket, name, data)
    assert await s3.stored(name) is None


async def test_head_answer_in_odd_case_describes_the_object(s3: Backend) -> None:
    name = new_name()
    crc = base64.b64encode(b"\x01\x02\x03\x04").decode("ascii")
    fault = Status(
        status=200,
        body=b"x" * 123,
        content_type="text/plain",
        headers=(
            ("ETAG", '"0123456789abcdef0123456789abcdef"'),
            ("last-Modified", _DATE),
            ("X-AMZ-META-Owner", "fault-proxy"),
            ("x-amz-meta-colour", "blue"),
            ("X-Amz-Checksum-Crc32", crc),
        ),
    )
    s3.proxy.add(fault, method="HEAD", path=f"/{s3.bucket}/{name}$")
    meta = await s3.client.stat(s3.bucket, name)
    assert meta.size == 123
    assert meta.etag == "0123456789abcdef0123456789abcdef"
    assert meta.content_type == "text/plain"
    assert meta.last_modified == datetime(2026, 12, 4, 21, 0, 0, tzinfo=timezone.utc)
    assert meta.metadata == {"owner": "fault-proxy", "colour": "blue"}
