"""S3Client on moto's server: multipart uploads, parallel and ranged downloads, integrity."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from cloud.aws import S3Client
from cloud.aws.client import MIN_PART_SIZE
from cloud.aws.direct import _aio_body_classes
from cloud.common.exceptions import (
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
)
from cloud.common.retry import RetryPolicy

from .conftest import client_error, no_sleep, wrap

MiB = 1024 * 1024


async def no_uploads_left(s3: S3Client, bucket: str) -> bool:
    raw = await s3._get_client()
    listing = await raw.list_multipart_uploads(Bucket=bucket)
    return not listing.get("Uploads")


def write_file(path: Path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data


async def test_multipart_parts_go_in_parallel_up_to_max_concurrency(s3: S3Client, bucket: str, tmp_path: Path) -> None:
    payload = write_file(tmp_path / "big.bin", 5 * MIN_PART_SIZE + 123)  # 6 parts
    in_flight = 0
    peak = 0
    numbers: list[int] = []
    all_in = anyio.Event()

    async def count(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        numbers.append(params["PartNumber"])
        if in_flight == s3.max_concurrency:
            all_in.set()
        try:
            # A barrier: the first parts wait until max_concurrency of them are in flight
            # together, which never happens if parts are sent one after another.
            with anyio.fail_after(30):
                await all_in.wait()
            return await original(**params)
        finally:
            in_flight -= 1

    await wrap(s3, "upload_part", count)
    seen: list[int] = []
    assert await s3.upload_file(tmp_path / "big.bin", bucket, "big.bin", metadata={"k": "v"}, progress=seen.append)
    assert peak == s3.max_concurrency == 3
    assert sorted(numbers) == [1, 2, 3, 4, 5, 6]
    assert sum(seen) == len(payload)
    raw = await s3._get_client()
    assert raw.meta.config.max_pool_connections >= s3.max_concurrency
    meta = await s3.stat(bucket, "big.bin")
    assert meta.size == len(payload) and meta.etag is not None and meta.etag.endswith("-6")
    assert (meta.content_type, dict(meta.metadata)) == ("application/octet-stream", {"k": "v"})
    assert hashlib.sha256(await s3.get_bytes(bucket, "big.bin")).digest() == hashlib.sha256(payload).digest()
    assert await no_uploads_left(s3, bucket)


async def test_failed_part_aborts_the_multipart_upload(s3: S3Client, bucket: str, tmp_path: Path) -> None:
    write_file(tmp_path / "doomed.bin", 4 * MIN_PART_SIZE + 1)
    created: list[str] = []
    aborted: list[str] = []

    async def create(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        response = await original(**params)
        created.append(response["UploadId"])
        return response

    async def fail_part_3(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        if params["PartNumber"] == 3:
            raise client_error("AccessDenied", 403)
        return await original(**params)

    async def abort(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        aborted.append(params["UploadId"])
        return await original(**params)

    await wrap(s3, "create_multipart_upload", create)
    await wrap(s3, "upload_part", fail_part_3)
    await wrap(s3, "abort_multipart_upload", abort)
    with pytest.raises(PermissionDeniedError) as info:
        await s3.upload_file(tmp_path / "doomed.bin", bucket, "doomed.bin")
    assert info.value.code == "AccessDenied"
    assert created and aborted == created
    assert await no_uploads_left(s3, bucket)
    assert await s3.object_exists(bucket, "doomed.bin") is False


async def test_retryable_part_failure_is_retried_by_our_policy(s3: S3Client, bucket: str, tmp_path: Path) -> None:
    payload = write_file(tmp_path / "flaky.bin", 2 * MIN_PART_SIZE + 7)
    failed: list[int] = []

    async def slow_down_once(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        if params["PartNumber"] == 2 and not failed:
            failed.append(2)
            raise client_error("SlowDown", 503)
        return await original(**params)

    await wrap(s3, "upload_part", slow_down_once)
    retries_before = s3.stats.retries
    seen: list[int] = []
    assert await s3.upload_file(tmp_path / "flaky.bin", bucket, "flaky.bin", progress=seen.append)
    assert failed == [2] and s3.stats.retries == retries_before + 1
    assert sum(seen) == len(payload)  # the retried part is reported once
    assert await s3.get_bytes(bucket, "flaky.bin") == payload


async def test_botocore_retries_are_off(s3: S3Client) -> None:
    raw = await s3._get_client()
    assert raw.meta.config.retries["total_max_attempts"] == 1


async def test_upload_stream_goes_multipart_and_aborts_on_source_error(s3: S3Client, bucket: str) -> None:
    payload = os.urandom(2 * MIN_PART_SIZE + MiB + 3)

    async def chunks() -> AsyncIterator[bytes]:
        view = memoryview(payload)
        step = 700_001
        for offset in range(0, len(payload), step):
            yield bytes(view[offset : offset + step])

    parts: list[int] = []

    async def record(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        parts.append(len(params["Body"]))
        return await original(**params)

    await wrap(s3, "upload_part", record)
    seen: list[int] = []
    assert await s3.upload_stream(bucket, "streamed", chunks(), progress=seen.append)
    assert sorted(parts) == sorted([MIN_PART_SIZE, MIN_PART_SIZE, MiB + 3])
    assert sum(seen) == len(payload)
    assert await s3.get_bytes(bucket, "streamed") == payload

    async def broken() -> AsyncIterator[bytes]:
        yield os.urandom(2 * MIN_PART_SIZE + 10)
        raise OSError("source went away")

    with pytest.raises(OSError, match="source went away"):
        await s3.upload_stream(bucket, "broken", broken())
    assert await no_uploads_left(s3, bucket)
    assert await s3.object_exists(bucket, "broken") is False


async def test_parallel_ranged_download_pins_the_etag(s3: S3Client, bucket: str, tmp_path: Path) -> None:
    payload = os.urandom(2 * MIN_PART_SIZE + 4321)
    await s3.put_bytes(bucket, "ranged.bin", payload)
    calls: list[dict[str, Any]] = []
    rest_in_flight = 0
    both_in = anyio.Event()

    async def record(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        nonlocal rest_in_flight
        calls.append({k: v for k, v in params.items() if k in ("Range", "IfMatch")})
        if "IfMatch" not in params:
            return await original(**params)
        # The two ranges after the first must be requested together (a barrier, not a timing).
        rest_in_flight += 1
        if rest_in_flight == 2:
            both_in.set()
        with anyio.fail_after(30):
            await both_in.wait()
        return await original(**params)

    await wrap(s3, "get_object", record)
    target = tmp_path / "ranged.bin"
    seen: list[int] = []
    assert await s3.download_file(bucket, "ranged.bin", target, progress=seen.append)
    assert target.read_bytes() == payload
    assert sum(seen) == len(payload)
    assert os.listdir(tmp_path) == ["ranged.bin"]
    p = MIN_PART_SIZE
    assert calls[0] == {"Range": f"bytes=0-{p - 1}"}
    etag = (await s3.stat(bucket, "ranged.bin")).etag
    assert {c["Range"] for c in calls[1:]} == {f"bytes={p}-{2 * p - 1}", f"bytes={2 * p}-{len(payload) - 1}"}
    assert len(calls) == 3
    assert all(c["IfMatch"] == f'"{etag}"' for c in calls[1:])


async def test_object_replaced_during_download_fails_cleanly(s3: S3Client, bucket: str, tmp_path: Path) -> None:
    await s3.put_bytes(bucket, "moving.bin", os.urandom(MIN_PART_SIZE + 10))
    replaced: list[bool] = []

    async def replace_after_first(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        if "IfMatch" in params and not replaced:
            replaced.append(True)
            await s3.put_bytes(bucket, "moving.bin", os.urandom(MIN_PART_SIZE + 10))
        return await original(**params)

    await wrap(s3, "get_object", replace_after_first)
    target = tmp_path / "keep.bin"
    target.write_bytes(b"old")
    with pytest.raises(PreconditionFailedError):
        await s3.download_file(bucket, "moving.bin", target)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["keep.bin"]


async def test_corrupted_download_is_detected_retried_and_leaves_nothing(
    make_client: Callable[..., S3Client], bucket: str, tmp_path: Path
) -> None:
    async with make_client(retry=RetryPolicy(max_attempts=2, sleep=no_sleep)) as s3:
        payload = os.urandom(100_000)
        await s3.put_bytes(bucket, "small.bin", payload)
        attempts: list[int] = []

        async def corrupt(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
            response = await original(**params)
            attempts.append(1)
            response["ETag"] = '"' + hashlib.md5(b"something else").hexdigest() + '"'
            return response

        await wrap(s3, "get_object", corrupt)
        with pytest.raises(IntegrityError, match="MD5"):
            await s3.download_file(bucket, "small.bin", tmp_path / "small.bin")
        assert len(attempts) == 2  # retried once, then given up
        assert os.listdir(tmp_path) == []
        with pytest.raises(IntegrityError):
            await s3.get_bytes(bucket, "small.bin")
        with pytest.raises(IntegrityError):
            async for _ in s3.open_read(bucket, "small.bin"):
                pass


async def test_download_of_empty_and_missing_objects(s3: S3Client, bucket: str, tmp_path: Path) -> None:
    await s3.put_bytes(bucket, "empty", b"")
    assert await s3.download_file(bucket, "empty", tmp_path / "empty")
    assert (tmp_path / "empty").read_bytes() == b""
    with pytest.raises(NotFoundError):
        await s3.download_file(bucket, "missing", tmp_path / "missing")
    assert sorted(os.listdir(tmp_path)) == ["empty"]


async def test_ranged_get_bytes(s3: S3Client, bucket: str) -> None:
    data = os.urandom(10_000)
    await s3.put_bytes(bucket, "r", data)
    ranges: list[str | None] = []

    async def record(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        ranges.append(params.get("Range"))
        return await original(**params)

    await wrap(s3, "get_object", record)
    assert await s3.get_bytes(bucket, "r", start=100, end=200) == data[100:200]
    assert await s3.get_bytes(bucket, "r", start=-300) == data[-300:]
    assert await s3.get_bytes(bucket, "r", start=9_990) == data[9_990:]
    assert await s3.get_bytes(bucket, "r", start=20_000) == b""
    assert ranges == ["bytes=100-199", "bytes=-300", "bytes=9990-", "bytes=20000-"]
    chunks = [c async for c in s3.open_read(bucket, "r", chunk_size=4096)]
    assert b"".join(chunks) == data and max(map(len, chunks)) <= 4096


async def test_crc32_checksums_as_used_on_aws(
    make_client: Callable[..., S3Client], bucket: str, tmp_path: Path
) -> None:
    async with make_client() as s3:
        s3._checksum = "crc32"  # what AWS endpoints use; moto stores and returns CRC32 too
        raw = await s3._get_client()
        data = os.urandom(50_000)
        await s3.put_bytes(bucket, "crc", data)
        head = await raw.head_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")
        assert head["ChecksumCRC32"] == base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
        sent: list[dict[str, Any]] = []

        async def record(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
            sent.append({k: v for k, v in params.items() if k.startswith(("Checksum", "ContentMD5"))})
            return await original(**params)

        await wrap(s3, "upload_part", record)
        payload = write_file(tmp_path / "crc.bin", MIN_PART_SIZE + 99)
        assert await s3.upload_file(tmp_path / "crc.bin", bucket, "crc.bin")
        assert len(sent) == 2 and all(set(s) == {"ChecksumAlgorithm", "ChecksumCRC32"} for s in sent)
        # On AWS whole-object reads ask for the stored checksum and botocore verifies it.
        s3._aws = True
        bodies: list[str] = []

        async def body_type(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
            response = await original(**params)
            bodies.append(f"{params.get('ChecksumMode')}:{type(response['Body']).__name__}")
            return response

        await wrap(s3, "get_object", body_type)
        assert await s3.get_bytes(bucket, "crc") == data
        assert await s3.get_bytes(bucket, "crc.bin") == payload
        # (a multipart object's checksum is per part, so only the single PUT is verifiable whole)
        checked = _aio_body_classes()[1].__name__  # AioStreamingChecksumBody (StreamingChecksumBody in 2.x)
        assert bodies[0] == f"ENABLED:{checked}" and bodies[1].startswith("ENABLED:")


async def test_md5_checksums_sent_to_s3_compatible_stores(s3: S3Client, bucket: str, tmp_path: Path) -> None:
    sent: list[dict[str, Any]] = []

    async def record(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        sent.append({k: v for k, v in params.items() if k.startswith(("Checksum", "ContentMD5"))})
        return await original(**params)

    await wrap(s3, "put_object", record)
    await wrap(s3, "upload_part", record)
    data = b"hello md5"
    await s3.put_bytes(bucket, "m", data)
    write_file(tmp_path / "m.bin", MIN_PART_SIZE + 1)
    await s3.upload_file(tmp_path / "m.bin", bucket, "m.bin")
    assert sent[0] == {"ContentMD5": base64.b64encode(hashlib.md5(data).digest()).decode()}
    assert len(sent) == 3 and all(set(s) == {"ContentMD5"} for s in sent)
    raw = await s3._get_client()
    assert raw.meta.config.request_checksum_calculation == "when_required"
    assert raw.meta.config.response_checksum_validation == "when_required"


async def test_download_from_a_store_that_ignores_ranges(s3: S3Client, bucket: str, tmp_path: Path) -> None:
    payload = os.urandom(MIN_PART_SIZE + 999)
    await s3.put_bytes(bucket, "whole.bin", payload)
    calls: list[str | None] = []

    async def drop_range(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        calls.append(params.pop("Range", None))
        return await original(**params)

    await wrap(s3, "get_object", drop_range)
    seen: list[int] = []
    assert await s3.download_file(bucket, "whole.bin", tmp_path / "whole.bin", progress=seen.append)
    assert (tmp_path / "whole.bin").read_bytes() == payload
    assert len(calls) == 1 and sum(seen) == len(payload)  # the full answer was used, streamed, verified
