"""AzureBlobClient on Azurite: parallel blocks and ranges, integrity, retries, credentials,
SAS URLs, the sync facade, and secrets kept out of messages."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest
from azure.core.credentials import AccessToken, AzureNamedKeyCredential, AzureSasCredential
from azure.core.exceptions import ResourceNotFoundError, ServiceResponseError
from azure.storage.blob import ContentSettings, UserDelegationKey
from azure.storage.blob.aio import BlobServiceClient, ContainerClient

import cloud
from cloud.azure import AzureBlobClient, SyncAzureBlobClient
from cloud.common.exceptions import (
    AuthenticationError,
    ConfigurationError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RequestTimeoutError,
    TransportError,
)
from cloud.common.models import CloudCredentials
from cloud.common.retry import RetryPolicy
from tests.emulators import AZURITE_KEY

from .transport import Gate, RecordingTransport

BLOCK = 64 * 1024
NO_WAIT = RetryPolicy(max_attempts=4, base_delay=0.0)


def block_index(request: Any) -> int:
    """The index our client encodes at the end of a block id (``<uuid>-000123``)."""
    blockid = parse_qs(urlsplit(request.url).query)["blockid"][0]
    return int(base64.b64decode(blockid).decode().rsplit("-", 1)[1])


async def test_large_upload_stages_blocks_in_parallel(connection_string: str, container: str, tmp_path: Path) -> None:
    transport = RecordingTransport(hook=Gate("stage_block", 4))
    payload = os.urandom(16 * BLOCK + 100)
    source = tmp_path / "big.bin"
    source.write_bytes(payload)
    seen: list[int] = []
    async with AzureBlobClient(
        connection_string=connection_string, block_size=BLOCK, max_concurrency=4, transport=transport
    ) as client:
        assert await client.upload_file(source, container, "big.bin", progress=seen.append) is True
        assert await client.get_bytes(container, "big.bin") == payload
        meta = await client.stat(container, "big.bin")
    assert transport.sent["stage_block"] == 17 and transport.sent["commit"] == 1
    assert transport.max_in_flight["stage_block"] == 4  # parallel, and bounded by max_concurrency
    assert sum(seen) == len(payload)
    assert meta.size == len(payload) and meta.content_type == "application/octet-stream"
    # Each block carried its own Content-MD5 (checked by the service), and the commit stored
    # the whole blob's MD5, which a later ranged download checks.
    for request in transport.requests:
        if "comp=block&" in request.url or request.url.endswith("comp=block"):
            assert base64.b64decode(request.headers["Content-MD5"]) == hashlib.md5(request.data).digest()
    async with BlobServiceClient.from_connection_string(connection_string) as service:
        props = await service.get_blob_client(container, "big.bin").get_blob_properties()
    assert bytes(props.content_settings.content_md5) == hashlib.md5(payload).digest()


async def test_upload_stream_stages_in_parallel(connection_string: str, container: str) -> None:
    transport = RecordingTransport(hook=Gate("stage_block", 3))
    payload = os.urandom(10 * BLOCK)

    async def chunks() -> Any:
        for i in range(0, len(payload), 10_000):
            yield payload[i : i + 10_000]

    async with AzureBlobClient(
        connection_string=connection_string, block_size=BLOCK, max_concurrency=3, transport=transport
    ) as client:
        assert await client.upload_stream(container, "streamed", chunks()) is True
        assert await client.get_bytes(container, "streamed") == payload
    assert transport.sent["stage_block"] == 10 and transport.max_in_flight["stage_block"] == 3


async def test_failed_block_commits_nothing_and_keeps_the_old_version(connection_string: str, container: str) -> None:
    async def fail_block_5(request: Any, kind: str) -> None:
        if kind == "stage_block" and block_index(request) == 5:
            raise ServiceResponseError("connection reset (injected)")

    transport = RecordingTransport(hook=fail_block_5)
    async with AzureBlobClient(
        connection_string=connection_string, block_size=BLOCK, retry=NO_WAIT, transport=transport
    ) as client:
        await client.put_bytes(container, "doc", b"old version")
        with pytest.raises(TransportError):
            await client.put_bytes(container, "doc", os.urandom(12 * BLOCK))
        assert await client.get_bytes(container, "doc") == b"old version"
        with pytest.raises(TransportError):
            await client.put_bytes(container, "never", os.urandom(12 * BLOCK))
        assert await client.object_exists(container, "never") is False
        assert client.stats.retries >= 3  # block 5 was retried by our policy before giving up
    assert_no_block_committed(transport)
    # The new blob's staged blocks were discarded (committed empty, then deleted).
    async with BlobServiceClient.from_connection_string(connection_string) as service:
        with pytest.raises(ResourceNotFoundError):
            await service.get_blob_client(container, "never").get_block_list("uncommitted")


def assert_no_block_committed(transport: RecordingTransport) -> None:
    """Every Put Block List sent was an empty one (the abort of a new blob), never the blocks."""
    commits = [r for r in transport.requests if r.method == "PUT" and "comp=blocklist" in r.url]
    assert len(commits) == transport.sent["commit"]
    assert all(b"<Latest>" not in bytes(r.data or b"") for r in commits)


async def test_corrupted_block_is_rejected_by_the_service(connection_string: str, container: str) -> None:
    async def corrupt(request: Any, kind: str) -> None:
        if kind == "stage_block" and block_index(request) == 2:
            request.data = b"X" + bytes(request.data)[1:]

    transport = RecordingTransport(hook=corrupt)
    async with AzureBlobClient(connection_string=connection_string, block_size=BLOCK, transport=transport) as client:
        with pytest.raises(IntegrityError):
            await client.put_bytes(container, "corrupt", b"\x00" * (4 * BLOCK))
        assert client.stats.retries >= 1  # the corrupted block was sent again
        assert await client.object_exists(container, "corrupt") is False
    assert_no_block_committed(transport)


async def test_download_uses_parallel_ranged_reads(connection_string: str, container: str, tmp_path: Path) -> None:
    payload = os.urandom(16 * BLOCK + 7)
    transport = RecordingTransport(hook=Gate("ranged_get", 4, skip=1))  # the first read comes alone
    async with AzureBlobClient(
        connection_string=connection_string, block_size=BLOCK, max_concurrency=4, transport=transport
    ) as client:
        await client.put_bytes(container, "big", payload)
        target = tmp_path / "big.out"
        got: list[int] = []
        assert await client.download_file(container, "big", target, progress=got.append) is True
        assert target.read_bytes() == payload and sum(got) == len(payload)
        assert transport.sent["ranged_get"] == 17
        assert transport.max_in_flight["ranged_get"] == 4
        assert (
            await client.get_bytes(container, "big", start=BLOCK - 3, end=5 * BLOCK) == payload[BLOCK - 3 : 5 * BLOCK]
        )
    assert os.listdir(tmp_path) == ["big.out"]


async def test_content_md5_is_verified_on_reads(connection_string: str, container: str, tmp_path: Path) -> None:
    async with AzureBlobClient(connection_string=connection_string, block_size=BLOCK) as client:
        await client.put_bytes(container, "tampered", os.urandom(3 * BLOCK))
        await client.put_bytes(container, "small", b"small")
        async with BlobServiceClient.from_connection_string(connection_string) as service:
            for name in ("tampered", "small"):
                await service.get_blob_client(container, name).set_http_headers(
                    ContentSettings(content_type="application/octet-stream", content_md5=bytearray(16))
                )
        target = tmp_path / "keep.bin"
        target.write_bytes(b"precious")
        for name in ("tampered", "small"):
            with pytest.raises(IntegrityError, match="Content-MD5"):
                await client.download_file(container, name, target)
            assert target.read_bytes() == b"precious" and os.listdir(tmp_path) == ["keep.bin"]
            with pytest.raises(IntegrityError, match="Content-MD5"):
                await client.get_bytes(container, name)
            with pytest.raises(IntegrityError, match="Content-MD5"):
                [c async for c in client.open_read(container, name, chunk_size=BLOCK)]
        # A partial read cannot be checked against the whole blob's MD5, and is not refused.
        assert len(await client.get_bytes(container, "tampered", start=10, end=20)) == 10


async def test_retries_are_ours_not_azure_cores(connection_string: str, container: str) -> None:
    failures = 0

    async def flaky_head(request: Any, kind: str) -> None:
        nonlocal failures
        if kind == "head" and failures < 2:
            failures += 1
            raise ServiceResponseError("connection reset (injected)")

    transport = RecordingTransport(hook=flaky_head)
    async with AzureBlobClient(connection_string=connection_string, retry=NO_WAIT, transport=transport) as client:
        await client.put_bytes(container, "flaky", b"1")
        assert (await client.stat(container, "flaky")).size == 1
        # Three HEADs in all: azure-core sent each attempt once (its own retries are off).
        assert transport.sent["head"] == 3
        assert client.stats.retries == 2
    transport = RecordingTransport(hook=flaky_head)
    failures = 0
    async with AzureBlobClient(
        connection_string=connection_string, retry=RetryPolicy.disabled(), transport=transport
    ) as client:
        with pytest.raises(TransportError):
            await client.stat(container, "flaky")
        assert transport.sent["head"] == 1


@pytest.mark.parametrize("kind", ["connection_string", "key", "named_key", "mapping", "cloud_credentials"])
async def test_connection_string_and_account_key_credentials(
    kind: str, connection_string: str, account_url: str, container: str
) -> None:
    options: dict[str, Any] = {
        "connection_string": {"connection_string": connection_string},
        "key": {"account_url": account_url, "credential": AZURITE_KEY},
        "named_key": {
            "account_url": account_url,
            "credential": AzureNamedKeyCredential("devstoreaccount1", AZURITE_KEY),
        },
        "mapping": {
            "account_url": account_url,
            "credential": {"account_name": "devstoreaccount1", "account_key": AZURITE_KEY},
        },
        "cloud_credentials": {"account_url": account_url, "credential": CloudCredentials(account_key=AZURITE_KEY)},
    }[kind]
    async with AzureBlobClient(**options) as client:
        await client.put_bytes(container, f"cred/{kind}", kind.encode(), metadata={"Kind": kind})
        assert await client.get_bytes(container, f"cred/{kind}") == kind.encode()
        assert (await client.get_metadata(container, f"cred/{kind}"))["metadata"] == {"kind": kind}
        assert AZURITE_KEY not in repr(client)


async def test_bad_key_is_always_an_authentication_error(
    connection_string: str, account_url: str, container: str, caplog: pytest.LogCaptureFixture
) -> None:
    bad_key = base64.b64encode(b"not the key".ljust(64, b"!")).decode()
    caplog.set_level(logging.DEBUG)
    clients = [
        AzureBlobClient(connection_string=connection_string.replace(AZURITE_KEY, bad_key), retry=NO_WAIT),
        AzureBlobClient(account_url=account_url, credential=bad_key, retry=NO_WAIT),
    ]
    for client in clients:
        async with client:
            for call in (
                client.stat(container, "x"),
                client.put_bytes(container, "x", b"1"),
                client.list_objects(container),
                client.ensure_bucket("another-container"),
            ):
                with pytest.raises(AuthenticationError) as info:
                    await call
                err = info.value
                # Azurite: 403 AuthorizationFailure; real Azure: 403 AuthenticationFailed.
                assert err.status_code == 403 and err.code in ("AuthorizationFailure", "AuthenticationFailed")
                assert not err.retryable
                for text in (str(err), repr(err), repr(err.args), err.body or ""):
                    assert bad_key not in text and AZURITE_KEY not in text
            assert client.stats.retries == 0
            assert bad_key not in repr(client)
    assert bad_key not in caplog.text


async def test_sas_urls_work_with_plain_http(connection_string: str, account_url: str, container: str) -> None:
    async with AzureBlobClient(connection_string=connection_string) as client:
        await client.put_bytes(container, "shared/é file.txt", b"shared content")
        url = await client.sign_url(container, "shared/é file.txt", expires=300)
        assert "sig=" in url and url.startswith(account_url)
        async with httpx.AsyncClient() as http:
            response = await http.get(url)
            assert response.status_code == 200 and response.content == b"shared content"
            put_url = await client.sign_url(container, "shared/uploaded", method="PUT", expires=300)
            response = await http.put(put_url, content=b"via sas", headers={"x-ms-blob-type": "BlockBlob"})
            assert response.status_code == 201
            assert (await http.get(url.replace("%C3%A9%20file.txt", "nothing"))).status_code in (403, 404)
            assert (await http.put(url, content=b"x", headers={"x-ms-blob-type": "BlockBlob"})).status_code == 403
            delete_url = await client.sign_url(container, "shared/uploaded", method="DELETE", expires=300)
            assert (await http.delete(delete_url)).status_code == 202
        assert await client.get_bytes(container, "shared/é file.txt") == b"shared content"
        assert await client.object_exists(container, "shared/uploaded") is False
        with pytest.raises(ConfigurationError):
            await client.sign_url(container, "x", method="POST")
        with pytest.raises(ConfigurationError):
            await client.sign_url(container, "x", expires=0)
        with pytest.raises(ConfigurationError):
            await client.sign_url(container, "x", expires=8 * 24 * 3600)
        # A client that only holds a SAS can use it, but cannot sign new URLs.
        token = url.split("?", 1)[1]
    async with AzureBlobClient(account_url=account_url, credential=AzureSasCredential(token)) as sas_client:
        assert AZURITE_KEY not in repr(sas_client) and token not in repr(sas_client)
        with pytest.raises(ConfigurationError, match="account key or a token credential"):
            await sas_client.sign_url(container, "shared/é file.txt")


class FakeTokenCredential:
    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("token", 2_000_000_000)

    async def close(self) -> None:
        return None


async def test_sign_url_with_a_token_credential_uses_a_user_delegation_key(monkeypatch: pytest.MonkeyPatch) -> None:
    requested: list[tuple[Any, Any]] = []

    async def fake_key(self: BlobServiceClient, start: Any, expiry: Any, **kwargs: Any) -> UserDelegationKey:
        requested.append((start, expiry))
        key = UserDelegationKey()
        key.signed_oid, key.signed_tid = "oid-1", "tid-1"
        key.signed_start, key.signed_expiry = "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"
        key.signed_service, key.signed_version = "b", "2025-11-05"
        key.value = base64.b64encode(b"delegation-key-bytes").decode()
        return key

    monkeypatch.setattr(BlobServiceClient, "get_user_delegation_key", fake_key)
    credential = FakeTokenCredential()
    async with AzureBlobClient(account_url="https://acme.blob.core.windows.net", credential=credential) as client:  # type: ignore[arg-type]
        url = await client.sign_url("photos", "a b.jpg", expires=600)
        await client.sign_url("photos", "other.jpg", method="PUT", expires=1200)  # the key is reused
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://acme.blob.core.windows.net/photos/a%20b.jpg?")
    assert query["skoid"] == ["oid-1"] and query["sp"] == ["r"] and "sig" in query
    assert len(requested) == 1


async def test_batch_delete_results_are_mapped(
    monkeypatch: pytest.MonkeyPatch, connection_string: str, container: str
) -> None:
    class Part:
        def __init__(self, status: int, code: str | None = None) -> None:
            self.status_code = status
            self.headers = {"x-ms-error-code": code} if code else {}

    async def fake_delete_blobs(self: ContainerClient, *names: str, **kwargs: Any) -> Any:
        parts = [Part(202), Part(404, "BlobNotFound"), Part(403, "AuthorizationPermissionMismatch")][: len(names)]

        async def iterate() -> Any:
            for part in parts:
                yield part

        return iterate()

    async with AzureBlobClient(connection_string=connection_string) as client:
        # Azurite cannot parse the SDK's batch body: the client falls back to one delete each.
        for i in range(5):
            await client.put_bytes(container, f"del/{i}", b"x")
        await client.delete_objects(container, [f"del/{i}" for i in range(5)] + ["del/missing"])
        assert await client.list_objects(container, "del/") == []
        assert client._batch_supported is False

    monkeypatch.setattr(ContainerClient, "delete_blobs", fake_delete_blobs)
    async with AzureBlobClient(connection_string=connection_string) as client:
        with pytest.raises(PermissionDeniedError) as info:
            await client.delete_objects(container, ["a", "b", "c"])
        assert info.value.code == "AuthorizationPermissionMismatch" and info.value.operation == "delete_objects"
        assert client._batch_supported is True
        await client.delete_objects(container, ["a", "b"])  # deleted + already missing: fine


async def test_delimiter_listing_stays_in_name_order_across_pages(client: AzureBlobClient, container: str) -> None:
    for name in ["a/1", "b", "c/1", "c/2", "d", "e/x/y"]:
        await client.put_bytes(container, name, b"1")
    pages = [p async for p in client.iter_objects(container, delimiter="/", page_size=2).pages()]
    names = [(m.name, m.is_prefix) for p in pages for m in p.items]
    assert names == [("a/", True), ("b", False), ("c/", True), ("d", False), ("e/", True)]
    assert all(len(p.items) <= 2 for p in pages) and len(pages) >= 3


async def test_missing_container_and_blob(client: AzureBlobClient, container: str) -> None:
    missing = f"nope-{uuid.uuid4().hex[:8]}"
    for call in (
        client.stat(missing, "x"),
        client.delete_object(missing, "x"),
        client.delete_bucket(missing),
        client.copy_object(container, "x", missing, "y"),
        client.upload_stream(missing, "x", _one_chunk()),
    ):
        with pytest.raises(NotFoundError):
            await call
    assert await client.ensure_bucket(container) is False


async def _one_chunk() -> Any:
    yield b"data"


def test_sync_client_through_the_facade(connection_string: str, tmp_path: Path) -> None:
    name = f"sync-{uuid.uuid4().hex[:12]}"
    with SyncAzureBlobClient(connection_string=connection_string, block_size=BLOCK, max_concurrency=3) as client:
        assert client.ensure_bucket(name) is True
        try:
            payload = os.urandom(5 * BLOCK + 1)
            source = tmp_path / "data.csv"
            source.write_bytes(payload)
            assert client.upload_file(source, name, "dir/data.csv") is True
            assert client.get_metadata(name, "dir/data.csv")["content_type"] == "text/csv"
            assert client.download_file(name, "dir/data.csv", tmp_path / "back.csv") is True
            assert (tmp_path / "back.csv").read_bytes() == payload
            assert [m.name for m in client.iter_objects(name, delimiter="/")] == ["dir/"]
            assert b"".join(client.open_read(name, "dir/data.csv", chunk_size=BLOCK)) == payload
            url = client.sign_url(name, "dir/data.csv", expires=60)
            assert httpx.get(url).content == payload
            with pytest.raises(NotFoundError):
                client.stat(name, "missing")
            assert client.stats.requests > 0
        finally:
            client.delete_bucket(name, force=True)


async def test_open_storage_builds_an_azure_client(connection_string: str) -> None:
    store = cloud.open_storage("az://anything", connection_string=connection_string)
    assert isinstance(store, AzureBlobClient)
    async with store:
        assert await store.ensure_bucket("open-storage-check") in (True, False)
        await store.delete_bucket("open-storage-check")


async def test_blob_replaced_during_download_fails_and_leaves_nothing(
    connection_string: str, container: str, tmp_path: Path
) -> None:
    replaced = False

    async def replace_after_first_range(request: Any, kind: str) -> None:
        nonlocal replaced
        later_range = not request.headers.get("x-ms-range", "bytes=0-").startswith("bytes=0-")
        if kind == "ranged_get" and not replaced and later_range:
            replaced = True
            async with BlobServiceClient.from_connection_string(connection_string) as service:
                await service.get_blob_client(container, "moving").upload_blob(b"new" * BLOCK, overwrite=True)

    transport = RecordingTransport(hook=replace_after_first_range)
    async with AzureBlobClient(
        connection_string=connection_string, block_size=BLOCK, max_concurrency=2, transport=transport
    ) as client:
        await client.put_bytes(container, "moving", os.urandom(6 * BLOCK))
        with pytest.raises(PreconditionFailedError):
            await client.download_file(container, "moving", tmp_path / "moving.bin")
    assert replaced and os.listdir(tmp_path) == []


async def test_timeout_applies_to_each_request(connection_string: str, container: str) -> None:
    async def stall(request: Any, kind: str) -> None:
        if kind == "head":
            await anyio.sleep(60)

    transport = RecordingTransport(hook=stall)
    async with AzureBlobClient(
        connection_string=connection_string, retry=RetryPolicy.disabled(), transport=transport
    ) as client:
        await client.put_bytes(container, "slow", b"1")
        with pytest.raises(RequestTimeoutError):
            await client.stat(container, "slow", timeout=0.2)
        assert await client.get_bytes(container, "slow", timeout=30) == b"1"


async def test_a_single_put_is_hashed_once_and_checked_by_the_service(
    monkeypatch: pytest.MonkeyPatch, connection_string: str, container: str, tmp_path: Path
) -> None:
    import azure.storage.blob._shared.policies as sdk_policies

    sdk_hashes = 0
    sdk_md5 = sdk_policies.calculate_content_md5

    def counting(data: Any) -> bytes:
        nonlocal sdk_hashes
        sdk_hashes += 1
        return sdk_md5(data)

    monkeypatch.setattr(sdk_policies, "calculate_content_md5", counting)

    async def corrupt(request: Any, kind: str) -> None:
        if kind == "put" and request.url.split("?")[0].endswith("/corrupt"):
            request.data = b"X" + bytes(request.data)[1:]

    transport = RecordingTransport(hook=corrupt)
    payload = os.urandom(3 * BLOCK)  # above 64 KiB: read in one worker-thread call
    source = tmp_path / "one.bin"
    source.write_bytes(payload)
    async with AzureBlobClient(
        connection_string=connection_string, block_size=4 * BLOCK, retry=NO_WAIT, transport=transport
    ) as client:
        assert await client.upload_file(source, container, "one") is True
        # Corrupted on every attempt: the service refuses each one, a retryable IntegrityError.
        with pytest.raises(IntegrityError):
            await client.put_bytes(container, "corrupt", b"\x00" * 1000)
        assert client.stats.retries >= 1
        assert await client.object_exists(container, "corrupt") is False
        assert await client.get_bytes(container, "one") == payload
    puts = [r for r in transport.requests if r.method == "PUT" and r.url.split("?")[0].endswith("/one")]
    assert len(puts) == 1 and transport.sent["stage_block"] == 0
    digest = base64.b64encode(hashlib.md5(payload).digest()).decode()
    # One digest, ours: the request's Content-MD5 (checked by the service) is also the
    # blob's Content-MD5 property; the SDK hashed nothing.
    assert puts[0].headers["Content-MD5"] == digest and puts[0].headers["x-ms-blob-content-md5"] == digest
    assert sdk_hashes == 0


async def test_ranges_of_a_blob_without_content_md5_are_checked_one_by_one(
    monkeypatch: pytest.MonkeyPatch, connection_string: str, container: str, tmp_path: Path
) -> None:
    transport = RecordingTransport()
    payload = os.urandom(5 * BLOCK + 3)
    # A blob committed from blocks by another tool: no Content-MD5 property.
    async with BlobServiceClient.from_connection_string(connection_string) as service:
        raw = service.get_blob_client(container, "blocks")
        await raw.stage_block("b1", payload[: 3 * BLOCK])
        await raw.stage_block("b2", payload[3 * BLOCK :])
        await raw.commit_block_list(["b1", "b2"])
        assert (await raw.get_blob_properties()).content_settings.content_md5 is None
    async with AzureBlobClient(connection_string=connection_string, block_size=BLOCK, transport=transport) as client:
        assert (await client.download_file(container, "blocks", tmp_path / "blocks.bin")) is True
        assert (tmp_path / "blocks.bin").read_bytes() == payload
        ranged = [r for r in transport.requests if request_kind_is_range(r)]
        assert len(ranged) == 7
        # The first read cannot know yet, so it is read again checked; every range asks for its MD5.
        assert [r.headers.get("x-ms-range-get-content-md5") for r in ranged] == [None] + ["true"] * 6

        import cloud.azure.client as azure_client

        real = azure_client.md5_of

        async def wrong_for_ranges(data: bytes) -> bytes:
            return b"\x00" * 16 if len(data) == BLOCK else await real(data)

        monkeypatch.setattr(azure_client, "md5_of", wrong_for_ranges)
        with pytest.raises(IntegrityError):
            await client.download_file(container, "blocks", tmp_path / "bad.bin")
        with pytest.raises(IntegrityError):
            await client.get_bytes(container, "blocks", start=1)
        with pytest.raises(IntegrityError):
            _ = [chunk async for chunk in client.open_read(container, "blocks")]
    assert sorted(os.listdir(tmp_path)) == ["blocks.bin"]


def request_kind_is_range(request: Any) -> bool:
    return request.method == "GET" and "x-ms-range" in request.headers and "?" not in request.url


async def test_content_md5_over_ranges_landing_out_of_order(
    connection_string: str, container: str, tmp_path: Path
) -> None:
    async def slow_second_range(request: Any, kind: str) -> None:
        if kind == "ranged_get" and request.headers.get("x-ms-range", "").startswith(f"bytes={BLOCK}-"):
            await anyio.sleep(0.3)  # every later range lands before this one

    transport = RecordingTransport(hook=slow_second_range)
    payload = os.urandom(8 * BLOCK + 5)
    async with AzureBlobClient(
        connection_string=connection_string, block_size=BLOCK, max_concurrency=4, transport=transport
    ) as client:
        await client.put_bytes(container, "md5", payload)
        async with BlobServiceClient.from_connection_string(connection_string) as service:
            await service.get_blob_client(container, "md5").set_http_headers(
                ContentSettings(
                    content_type="application/octet-stream", content_md5=bytearray(hashlib.md5(payload).digest())
                )
            )
        transport.requests.clear()
        assert await client.download_file(container, "md5", tmp_path / "md5.bin") is True
    assert (tmp_path / "md5.bin").read_bytes() == payload
    ranged = [r for r in transport.requests if request_kind_is_range(r)]
    # The blob's Content-MD5 is the one check: no range asks for its own MD5 as well.
    assert len(ranged) == 9 and all("x-ms-range-get-content-md5" not in r.headers for r in ranged)


async def test_a_cancelled_read_closes_its_response_at_once(
    monkeypatch: pytest.MonkeyPatch, connection_string: str, container: str
) -> None:
    import cloud.azure.client as azure_client

    reading: list[Any] = []
    started = anyio.Event()

    async def stuck(stream: Any) -> bytes:  # the body never arrives: the caller gives up
        reading.append(stream)
        started.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async with AzureBlobClient(connection_string=connection_string) as client:
        await client.put_bytes(container, "slow", b"x" * 1000)
        monkeypatch.setattr(azure_client, "read_body", stuck)
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.get_bytes, container, "slow")
            await started.wait()
            tg.cancel_scope.cancel()
        response = reading[0].response.internal_response
        assert response.closed  # given back now, not when the client is closed
