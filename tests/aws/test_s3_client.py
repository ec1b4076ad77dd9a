"""S3Client on moto's server: buckets, conditional writes, presigned URLs, credentials,
the lazy session, batch deletes, copies, failures and the sync facade."""

from __future__ import annotations

import os
import pickle
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

import cloud.aws.client as client_module
from cloud.aws import S3Client, SyncS3Client
from cloud.aws.client import MIN_PART_SIZE
from cloud.common.exceptions import (
    AlreadyExistsError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    PreconditionFailedError,
    RequestTimeoutError,
    TransportError,
)
from cloud.common.models import CloudCredentials
from cloud.common.retry import RetryPolicy
from tests.emulators import free_port

from .conftest import CREDENTIALS, SECRET, TOKEN, client_error, new_bucket_name, wrap

# -- buckets ---------------------------------------------------------------------------------


async def test_ensure_bucket_outside_us_east_1_sends_location_constraint(
    make_client: Callable[..., S3Client],
) -> None:
    async with make_client(region="eu-west-1") as s3:
        name = new_bucket_name()
        try:
            assert await s3.ensure_bucket(name) is True
            raw = await s3._get_client()
            assert (await raw.get_bucket_location(Bucket=name))["LocationConstraint"] == "eu-west-1"
            assert await s3.ensure_bucket(name) is False
        finally:
            await s3.delete_bucket(name, force=True)


async def test_ensure_bucket_owned_by_someone_else_or_raced(s3: S3Client) -> None:
    async def forbidden(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        raise client_error("403", 403, "HeadBucket")

    await wrap(s3, "head_bucket", forbidden)

    async def taken(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        raise client_error("BucketAlreadyExists", 409, "CreateBucket", "The requested bucket name is not available")

    await wrap(s3, "create_bucket", taken)
    with pytest.raises(AlreadyExistsError) as info:
        await s3.ensure_bucket("someone-elses-bucket")
    assert info.value.code == "BucketAlreadyExists" and info.value.status_code == 409

    async def mine(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        raise client_error("BucketAlreadyOwnedByYou", 409, "CreateBucket")

    await wrap(s3, "create_bucket", mine)
    assert await s3.ensure_bucket("created-meanwhile") is False


async def test_invalid_bucket_names_rejected_before_io(s3: S3Client) -> None:
    for bad in ["ab", "UPPER", "under_score", "-lead", "trail-", "a..b", "192.168.1.1", "xn--punycode", "x" * 64]:
        with pytest.raises(ConfigurationError):
            await s3.ensure_bucket(bad)
    assert s3._client is None  # nothing was opened


async def test_delete_bucket_force_removes_versions_and_unfinished_uploads(s3: S3Client) -> None:
    name = new_bucket_name()
    await s3.ensure_bucket(name)
    raw = await s3._get_client()
    await raw.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    await s3.put_bytes(name, "v", b"1")
    await s3.put_bytes(name, "v", b"2")
    await s3.delete_object(name, "v")  # leaves two versions and a delete marker
    await raw.create_multipart_upload(Bucket=name, Key="unfinished")
    with pytest.raises(ConflictError):
        await s3.delete_bucket(name)
    await s3.delete_bucket(name, force=True)
    with pytest.raises(NotFoundError):
        await s3.list_objects(name)


# -- conditional writes ----------------------------------------------------------------------


async def test_conditional_put(s3: S3Client, bucket: str, tmp_path: Path) -> None:
    first = await s3.put_bytes(bucket, "c", b"one", if_none_match="*")
    with pytest.raises(PreconditionFailedError):
        await s3.put_bytes(bucket, "c", b"two", if_none_match="*")
    assert first.etag is not None
    second = await s3.put_bytes(bucket, "c", b"two", if_match=first.etag)
    with pytest.raises(PreconditionFailedError):
        await s3.put_bytes(bucket, "c", b"three", if_match=first.etag)
    assert await s3.get_bytes(bucket, "c") == b"two" and second.etag != first.etag
    for bad in [{"if_none_match": "etag"}, {"if_none_match": "*", "if_match": "x"}]:
        with pytest.raises(ConfigurationError):
            await s3.put_bytes(bucket, "c", b"x", **bad)  # type: ignore[arg-type]

    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(MIN_PART_SIZE + 5))
    with pytest.raises(PreconditionFailedError):
        await s3.upload_file(big, bucket, "c", if_none_match="*")
    raw = await s3._get_client()
    assert not (await raw.list_multipart_uploads(Bucket=bucket)).get("Uploads")
    assert await s3.get_bytes(bucket, "c") == b"two"
    assert await s3.upload_file(big, bucket, "new", if_none_match="*")
    assert (await s3.stat(bucket, "new")).size == MIN_PART_SIZE + 5


# -- presigned URLs --------------------------------------------------------------------------


async def test_presigned_get_and_put_work_with_httpx(s3: S3Client, bucket: str) -> None:
    await s3.put_bytes(bucket, "shared/file.txt", b"signed content")
    get_url = await s3.sign_url(bucket, "shared/file.txt", method="GET", expires=300)
    put_url = await s3.sign_url(bucket, "shared/upload.bin", method="PUT", expires=300)
    assert "X-Amz-Signature=" in get_url and "X-Amz-Expires=300" in get_url
    assert SECRET not in get_url and SECRET not in put_url
    async with httpx.AsyncClient() as http:
        got = await http.get(get_url)
        assert got.status_code == 200 and got.content == b"signed content"
        put = await http.put(put_url, content=b"uploaded through a URL")
        assert put.status_code == 200
    assert await s3.get_bytes(bucket, "shared/upload.bin") == b"uploaded through a URL"
    with pytest.raises(ConfigurationError):
        await s3.sign_url(bucket, "x", method="POST")
    for bad in (0, 8 * 24 * 3600):
        with pytest.raises(ConfigurationError):
            await s3.sign_url(bucket, "x", expires=bad)


# -- credentials -----------------------------------------------------------------------------


def isolate_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


async def signed_key_ids(s3: S3Client, bucket: str) -> list[str]:
    """Use the client for a real request and report the key id each request was signed with."""
    raw = await s3._get_client()
    seen: list[str] = []

    def capture(request: Any, **_: Any) -> None:
        auth = request.headers.get("Authorization", b"")
        auth = auth.decode() if isinstance(auth, bytes) else auth
        seen.append(auth.split("Credential=")[1].split("/")[0])

    raw.meta.events.register("before-send.s3", capture)
    await s3.put_bytes(bucket, "signed", b"1")
    assert await s3.get_bytes(bucket, "signed") == b"1"
    return seen


async def test_credentials_from_the_environment(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret-value-123")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "env-session-token-456")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    async with S3Client(endpoint_url=moto_url) as s3:
        name = new_bucket_name()
        await s3.ensure_bucket(name)
        try:
            assert set(await signed_key_ids(s3, name)) == {"AKIAFROMENV"}
            url = await s3.sign_url(name, "signed")
            assert "X-Amz-Credential=AKIAFROMENV" in url and "X-Amz-Security-Token=" in url
            # The chain's secrets are redacted like explicit ones.
            err = s3._runner.to_cloud_error(
                client_error("SignatureDoesNotMatch", 403, "GetObject", "bad env-secret-value-123"), "get_bytes"
            )
            assert err is not None and "env-secret-value-123" not in str(err)
        finally:
            await s3.delete_bucket(name, force=True)


async def test_explicit_credentials_win_over_the_environment(
    moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    isolate_aws_env(monkeypatch, tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret-value-123")
    creds = CloudCredentials(access_key_id="AKIAEXPLICIT", secret_access_key=SECRET, session_token=TOKEN)
    async with S3Client(endpoint_url=moto_url, region="us-east-1", credentials=creds) as s3:
        name = new_bucket_name()
        await s3.ensure_bucket(name)
        try:
            assert set(await signed_key_ids(s3, name)) == {"AKIAEXPLICIT"}
            url = await s3.sign_url(name, "signed", method="PUT")
            assert "X-Amz-Credential=AKIAEXPLICIT" in url
        finally:
            await s3.delete_bucket(name, force=True)
        for text in (repr(s3), str(s3), repr(SyncS3Client(endpoint_url=moto_url, credentials=creds))):
            assert SECRET not in text and TOKEN not in text


async def test_no_credentials_is_a_configuration_error(
    moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    isolate_aws_env(monkeypatch, tmp_path)
    async with S3Client(endpoint_url=moto_url, region="us-east-1") as s3:
        with pytest.raises(ConfigurationError, match="credentials"):
            await s3.sign_url("some-bucket", "x")


async def test_errors_never_carry_secrets_and_pickle(s3: S3Client, bucket: str) -> None:
    with pytest.raises(NotFoundError) as info:
        await s3.get_bytes(bucket, "missing")
    err = info.value
    assert err.code == "NoSuchKey" and err.status_code == 404 and err.provider == "aws"
    assert err.operation == "get_bytes" and err.__cause__ is not None
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is NotFoundError and copy.code == "NoSuchKey"
    leaky = client_error("SignatureDoesNotMatch", 403, "PutObject", f"secret was {SECRET} token {TOKEN}")
    leaky.response["Error"]["StringToSign"] = f"AWS4-HMAC-SHA256 {SECRET}"  # type: ignore[attr-defined]
    mapped = s3._runner.to_cloud_error(leaky, "put_bytes")
    assert mapped is not None
    assert SECRET not in str(mapped) and SECRET not in (getattr(mapped, "body", None) or "")


# -- the session -----------------------------------------------------------------------------


async def test_session_opens_once_on_concurrent_first_calls(
    make_client: Callable[..., S3Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[int] = []
    original = S3Client._open

    async def counting(self: S3Client) -> None:
        opened.append(1)
        await anyio.sleep(0.05)  # widen the window in which other first calls arrive
        await original(self)

    monkeypatch.setattr(S3Client, "_open", counting)
    s3 = make_client()
    assert s3._client is None  # construction did no I/O
    name = new_bucket_name()
    try:
        await s3.ensure_bucket(name)
        await s3.aclose()
        opened.clear()
        async with anyio.create_task_group() as tg:
            for i in range(8):
                tg.start_soon(s3.put_bytes, name, f"k{i}", b"x")
        assert opened == [1]
        assert len(await s3.list_objects(name)) == 8
    finally:
        await s3.delete_bucket(name, force=True)
        await s3.aclose()
        await s3.aclose()  # idempotent
    assert s3._client is None


# -- batch deletes and copies ----------------------------------------------------------------


async def test_delete_objects_sends_batches_of_1000(s3: S3Client, bucket: str) -> None:
    real = [f"real/{i}" for i in range(5)]
    for name in real:
        await s3.put_bytes(bucket, name, b"1")
    await s3.put_bytes(bucket, "keep", b"k")
    sizes: list[int] = []

    async def record(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        sizes.append(len(params["Delete"]["Objects"]))
        return await original(**params)

    await wrap(s3, "delete_objects", record)
    headers: list[set[str]] = []
    raw = await s3._get_client()
    raw.meta.events.register(
        "before-send.s3.DeleteObjects", lambda request, **_: headers.append({h.lower() for h in request.headers})
    )
    names = [f"ghost/{i:04d}" for i in range(2495)] + real
    await s3.delete_objects(bucket, iter(names))
    assert sorted(sizes) == [500, 1000, 1000]
    # S3-compatible stores get the Content-MD5 they require, not botocore's default CRC32.
    assert headers and all("content-md5" in h and not any(x.startswith("x-amz-checksum") for x in h) for h in headers)
    assert await s3.list_objects(bucket) == ["keep"]
    with pytest.raises(NotFoundError):
        await s3.delete_objects(new_bucket_name(), ["a", "b"])


async def test_delete_objects_reports_per_key_errors(s3: S3Client, bucket: str) -> None:
    async def partial(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        response = await original(**params)
        response["Errors"] = [{"Key": "locked", "Code": "AccessDenied", "Message": "Access Denied"}]
        return response

    await wrap(s3, "delete_objects", partial)
    from cloud.common.exceptions import PermissionDeniedError

    with pytest.raises(PermissionDeniedError, match="locked"):
        await s3.delete_objects(bucket, ["locked", "other"])


async def test_copy_of_a_source_over_5_gib_uses_multipart_copy(
    s3: S3Client, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = os.urandom(2 * MIN_PART_SIZE + 77)
    await s3.put_bytes(bucket, "huge", payload, content_type="text/csv", metadata={"tag": "x"})
    # Pretend the source is over S3's 5 GiB CopyObject limit, and answer as S3 does.
    monkeypatch.setattr(client_module, "MAX_PART_SIZE", MIN_PART_SIZE)

    async def too_large(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        raise client_error("InvalidRequest", 400, "CopyObject", "The specified copy source is larger than the maximum")

    ranges: list[str] = []

    async def record(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        ranges.append(params["CopySourceRange"])
        return await original(**params)

    await wrap(s3, "copy_object", too_large)
    await wrap(s3, "upload_part_copy", record)
    await s3.copy_object(bucket, "huge", bucket, "copied")
    assert len(ranges) == 3
    assert await s3.get_bytes(bucket, "copied") == payload
    meta = await s3.stat(bucket, "copied")
    assert (meta.content_type, dict(meta.metadata)) == ("text/csv", {"tag": "x"})


# -- transport failures ----------------------------------------------------------------------


async def test_unreachable_endpoint_is_a_transport_error() -> None:
    port = free_port()
    async with S3Client(
        endpoint_url=f"http://127.0.0.1:{port}", credentials=CREDENTIALS, retry=RetryPolicy.disabled()
    ) as s3:
        with pytest.raises(TransportError) as info:
            await s3.get_bytes("some-bucket", "x")
    assert not isinstance(info.value, RequestTimeoutError)
    assert SECRET not in str(info.value)


async def test_timeout_is_a_request_timeout_error(s3: S3Client, bucket: str) -> None:
    await s3.put_bytes(bucket, "slow", b"x")

    async def stall(original: Callable[..., Awaitable[Any]], params: dict[str, Any]) -> Any:
        await anyio.sleep(60)
        return await original(**params)

    await wrap(s3, "get_object", stall)
    with pytest.raises(RequestTimeoutError) as info:
        await s3.get_bytes(bucket, "slow", timeout=0.05)
    assert info.value.operation == "get_bytes"
    # timeout= is the whole call: the stalled attempt used it up, nothing is left to retry in
    assert s3.stats.retries == 0 and s3.stats.errors["RequestTimeoutError"] == 1


# -- sync facade -----------------------------------------------------------------------------


def test_sync_facade(moto_url: str, tmp_path: Path) -> None:
    with SyncS3Client(
        endpoint_url=moto_url, region="us-east-1", credentials=CREDENTIALS, part_size=MIN_PART_SIZE
    ) as s3:
        name = new_bucket_name()
        assert s3.ensure_bucket(name) is True
        try:
            meta = s3.put_bytes(name, "a/one", b"1", if_none_match="*")
            with pytest.raises(PreconditionFailedError):
                s3.put_bytes(name, "a/one", b"2", if_none_match="*")
            assert meta.etag and s3.get_bytes(name, "a/one") == b"1"
            source = tmp_path / "big.bin"
            source.write_bytes(os.urandom(MIN_PART_SIZE + 3))
            assert s3.upload_file(source, name, "a/big.bin") is True
            assert s3.download_file(name, "a/big.bin", tmp_path / "back.bin") is True
            assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()
            assert [m.name for m in s3.iter_objects(name, "a/")] == ["a/big.bin", "a/one"]
            assert httpx.get(s3.sign_url(name, "a/one")).content == b"1"
            assert s3.stats.requests > 0
        finally:
            s3.delete_bucket(name, force=True)
