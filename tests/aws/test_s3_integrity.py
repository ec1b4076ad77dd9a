"""Every retried body is sent whole, and every byte is verified both ways (moto)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from cloud.aws import S3Client
from cloud.aws.client import MIN_PART_SIZE
from cloud.aws.transfer import BytesBody
from cloud.common.exceptions import IntegrityError, NotFoundError

from .conftest import wrap


class _FlippedBody:
    """A response body whose byte at ``at`` (counted from the body's start) is flipped."""

    def __init__(self, body: Any, at: int) -> None:
        self._body = body
        self._at = at
        self._seen = 0

    async def read(self, n: int = -1) -> bytes:
        data: bytes = await self._body.read(n)
        if self._seen <= self._at < self._seen + len(data):
            i = self._at - self._seen
            data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :]
        self._seen += len(data)
        return data

    def close(self) -> None:
        self._body.close()


def _flip_range(range_header: str, times: list[int]) -> Callable[[Callable[..., Awaitable[Any]], dict[str, Any]], Any]:
    async def corrupt(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        response = await original(**params)
        if params.get("Range") == range_header and times[0] > 0:
            times[0] -= 1
            response["Body"] = _FlippedBody(response["Body"], 12345)
        return response

    return corrupt


async def test_a_retried_request_sends_the_whole_body_again(s3: S3Client, bucket: str) -> None:
    payload = os.urandom(2 * 1024 * 1024)
    params = {"Bucket": bucket, "Key": "twice", "Body": BytesBody(payload), "ContentLength": len(payload)}
    for _ in range(2):  # the second call is what a retry of the first sends
        await s3._request("t", "put_object", params, timeout=30)
        assert await s3.get_bytes(bucket, "twice") == payload


async def test_a_part_retried_after_a_reset_mid_body_is_sent_whole(s3: S3Client, bucket: str, tmp_path: Path) -> None:
    payload = os.urandom(2 * MIN_PART_SIZE + 100)
    source = tmp_path / "src.bin"
    source.write_bytes(payload)
    failed: list[int] = []

    async def reset_once(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        if params["PartNumber"] == 2 and not failed:
            failed.append(1)
            body = params["Body"]
            body.read(1000)  # the first attempt got partway through the body, then the peer reset
            from aiohttp import ClientOSError

            raise ClientOSError(104, "Connection reset by peer")
        return await original(**params)

    await wrap(s3, "upload_part", reset_once)
    assert await s3.upload_file(source, bucket, "parts.bin", timeout=60)
    assert failed and s3.stats.retries >= 1
    assert hashlib.sha256(await s3.get_bytes(bucket, "parts.bin")).digest() == hashlib.sha256(payload).digest()


async def test_a_flipped_byte_in_one_range_of_a_multipart_object_is_caught(
    s3: S3Client, bucket: str, tmp_path: Path
) -> None:
    payload = os.urandom(3 * MIN_PART_SIZE + 10)
    source = tmp_path / "src.bin"
    source.write_bytes(payload)
    await s3.upload_file(source, bucket, "multi.bin")
    assert "-" in (await s3.stat(bucket, "multi.bin")).etag
    times = [1]
    await wrap(s3, "get_object", _flip_range(f"bytes={MIN_PART_SIZE}-{2 * MIN_PART_SIZE - 1}", times))
    target = tmp_path / "out" / "multi.bin"
    target.parent.mkdir()
    # Once: the whole download runs again (no single range can be blamed) and succeeds.
    assert await s3.download_file(bucket, "multi.bin", target)
    assert target.read_bytes() == payload and s3.stats.retries >= 1
    target.unlink()
    times[0] = 100  # every time: a typed error, and nothing partial or corrupt is left
    with pytest.raises(IntegrityError):
        await s3.download_file(bucket, "multi.bin", target)
    assert os.listdir(target.parent) == []


async def test_a_multipart_object_with_other_part_sizes_is_verified(
    make_client: Callable[..., S3Client], bucket: str, tmp_path: Path
) -> None:
    payload = os.urandom(3 * MIN_PART_SIZE + 10)
    source = tmp_path / "src.bin"
    source.write_bytes(payload)
    async with make_client(part_size=MIN_PART_SIZE + 1024 * 1024) as writer:
        await writer.upload_file(source, bucket, "odd.bin")
    async with make_client() as reader:
        target = tmp_path / "odd.bin"
        assert await reader.download_file(bucket, "odd.bin", target)
        assert target.read_bytes() == payload
        await wrap(reader, "get_object", _flip_range(f"bytes={2 * MIN_PART_SIZE}-{3 * MIN_PART_SIZE - 1}", [100]))
        with pytest.raises(IntegrityError):
            await reader.download_file(bucket, "odd.bin", tmp_path / "odd2.bin")
        assert not (tmp_path / "odd2.bin").exists()


async def test_a_single_put_object_read_in_ranges_is_checked_against_its_md5(
    s3: S3Client, bucket: str, tmp_path: Path
) -> None:
    payload = os.urandom(2 * MIN_PART_SIZE + 10)
    await s3.put_bytes(bucket, "single.bin", payload)
    await wrap(s3, "get_object", _flip_range(f"bytes={MIN_PART_SIZE}-{2 * MIN_PART_SIZE - 1}", [100]))
    with pytest.raises(IntegrityError):
        await s3.download_file(bucket, "single.bin", tmp_path / "single.bin")
    assert os.listdir(tmp_path) == []


async def test_a_body_stored_corrupt_is_retried_then_refused_and_removed(s3: S3Client, bucket: str) -> None:
    payload = os.urandom(300_000)
    corrupt_attempts = [1]

    async def flip(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        if corrupt_attempts[0] > 0:
            corrupt_attempts[0] -= 1
            body = bytearray(payload)
            body[7] ^= 0xFF
            params = {**params, "Body": bytes(body)}  # what a flipped byte on the wire stores
        return await original(**params)

    await wrap(s3, "put_object", flip)
    await s3.put_bytes(bucket, "once.bin", payload)  # one corrupt attempt: retried
    assert await s3.get_bytes(bucket, "once.bin") == payload
    assert s3.stats.errors["IntegrityError"] == 1

    corrupt_attempts[0] = 100
    with pytest.raises(IntegrityError):
        await s3.put_bytes(bucket, "always.bin", payload)
    with pytest.raises(NotFoundError):
        await s3.stat(bucket, "always.bin")  # nothing corrupt is left
