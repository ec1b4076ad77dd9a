"""Fixtures of the fault suite: each storage emulator behind a :class:`FaultProxy`.

A :class:`Backend` bundles, for one provider: the proxy (a fresh one per test, so rules
and counters start empty), a fresh client through it (the client under test), a *direct*
client on the emulator itself (to seed objects and read back what was really stored,
never through the proxy), a bucket, the request shapes rules match on, and a probe of the
leftovers a failed upload must not leave (S3 multipart uploads, Azure uncommitted blocks).

The direct clients and buckets live for a test module (on its event loop: the storage
test modules run with ``loop_scope="module"``); each test empties the bucket afterwards.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio

from cloud.common.base import StorageClient
from cloud.common.exceptions import CloudError, NotFoundError
from cloud.common.retry import RetryPolicy
from tests.emulators import AZURITE_ACCOUNT, AZURITE_KEY, Emulator
from tests.faults.proxy import JSON_503, XML_503, FaultProxy, Status

SMALL = 256 * 1024 + 17
"""A small object: one request everywhere (under every part, block and chunk size)."""

LARGE = 11 * 1024 * 1024 + 12_345
"""A large object: multipart on S3 (5 MiB parts), blocks on Azure (8 MiB, the default),
chunked resumable uploads and streamed downloads on GCS (4 MiB chunks, 1 MiB blocks)."""

S3_PART = 5 * 1024 * 1024
GCS_CHUNK = 4 * 1024 * 1024
AZURE_BLOCK = 8 * 1024 * 1024

CLIENT_TIMEOUT = 2.5
"""Per-call timeout of the clients under test, so a hang ends as an error, not at the
test's own timeout."""


S3_503 = Status(
    body=b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code>'
    b"<Message>Injected by the fault proxy.</Message></Error>"
)


def fast_retry() -> RetryPolicy:
    """Four attempts, no waiting in between."""
    return RetryPolicy(max_attempts=4, base_delay=0.0, max_delay=0.0)


def payload(size: int) -> bytes:
    """Incompressible bytes of ``size``."""
    return os.urandom(size)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Backend:
    """One provider's emulator, proxy, clients and request shapes."""

    name: str
    proxy: FaultProxy
    client: StorageClient
    direct: StorageClient
    bucket: str
    make: Callable[..., StorageClient]
    upload_request: Callable[[str, str, bool], dict[str, Any]]
    download_request: Callable[[str], dict[str, Any]]
    leftovers: Callable[[str], Awaitable[list[str]]]
    error_503: Status
    chunked_upload_op: str = "upload_file"
    """The upload operation that sends a large object in several requests."""
    clean: Callable[[], Awaitable[None]] | None = None
    """Removes what a test may have left besides objects (S3: open multipart uploads)."""

    async def stored(self, name: str) -> bytes | None:
        """What the emulator holds under ``name`` (read directly), or ``None``."""
        try:
            return await self.direct.get_bytes(self.bucket, name)
        except NotFoundError:
            return None

    async def seed(self, name: str, data: bytes) -> None:
        """Store ``data`` directly (not through the proxy)."""
        await self.direct.put_bytes(self.bucket, name, data)


def new_name(prefix: str = "obj") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# -- proxies -----------------------------------------------------------------------------------


@pytest.fixture
def proxies() -> Iterator[Callable[[str], FaultProxy]]:
    """Start proxies in front of upstream URLs; all are stopped after the test."""
    started: list[FaultProxy] = []

    def start(upstream: str) -> FaultProxy:
        proxy = FaultProxy(upstream).start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()
    errors = [e for p in started for e in p.errors]
    assert not errors, f"the fault proxy itself failed: {errors}"


# -- direct clients and buckets (one per provider and module) ---------------------------------------


@dataclass
class Direct:
    """A client straight on the emulator, its bucket, and what else the provider needs."""

    client: StorageClient
    bucket: str
    emulator: Emulator
    extra: dict[str, Any] = field(default_factory=dict)


class Directs:
    """Direct clients and buckets, made on first use and closed with the module."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request
        self._made: dict[str, Direct] = {}

    async def get(self, provider: str) -> Direct:
        if provider not in self._made:
            emulator_fixture, make_direct = _PROVIDERS[provider]
            emulator: Emulator = self._request.getfixturevalue(emulator_fixture)
            self._made[provider] = await make_direct(emulator)
        return self._made[provider]

    async def aclose(self) -> None:
        for direct in self._made.values():
            try:
                await direct.client.delete_bucket(direct.bucket, force=True)
            except CloudError:
                pass  # the GCS emulator keeps a bucket while an abandoned resumable session is open
            finally:
                service = direct.extra.get("service")
                if service is not None:
                    await service.close()
                await direct.client.aclose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def directs(request: pytest.FixtureRequest) -> AsyncIterator[Directs]:
    pool = Directs(request)
    try:
        yield pool
    finally:
        await pool.aclose()


def _bucket_name() -> str:
    return f"faults-{uuid.uuid4().hex[:12]}"


# -- S3 (moto) -------------------------------------------------------------------------------------

S3_CREDENTIALS_KEY = ("AKIAFAULTS", "faults-secret-7q")


def _s3_client(endpoint: str, **overrides: Any) -> StorageClient:
    from cloud.aws import S3Client
    from cloud.common.models import CloudCredentials

    options: dict[str, Any] = {
        "endpoint_url": endpoint,
        "region": "us-east-1",
        "credentials": CloudCredentials(access_key_id=S3_CREDENTIALS_KEY[0], secret_access_key=S3_CREDENTIALS_KEY[1]),
        "part_size": S3_PART,
        "max_concurrency": 4,
        "retry": fast_retry(),
        "timeout": CLIENT_TIMEOUT,
    }
    options.update(overrides)
    return S3Client(**options)


async def _s3_direct(moto: Emulator) -> Direct:
    client = _s3_client(moto.url)
    bucket = _bucket_name()
    await client.ensure_bucket(bucket)
    return Direct(client, bucket, moto)


def _s3_backend(direct: Direct, proxy: FaultProxy) -> Backend:
    bucket = direct.bucket

    def make(**overrides: Any) -> StorageClient:
        return _s3_client(proxy.url, **overrides)

    def upload_request(name: str, op: str, large: bool) -> dict[str, Any]:
        if large and op == "upload_file":  # multipart (put_bytes is always one PUT)
            return {"method": "PUT", "path": f"/{bucket}/{name}$", "query": "partNumber="}
        return {"method": "PUT", "path": f"/{bucket}/{name}$", "query": "^$"}

    def download_request(name: str) -> dict[str, Any]:
        return {"method": "GET", "path": f"/{bucket}/{name}$"}

    async def uploads(name: str | None) -> list[dict[str, Any]]:
        raw = await direct.client._get_client()  # type: ignore[attr-defined]
        answer = await raw.list_multipart_uploads(Bucket=bucket, **({"Prefix": name} if name else {}))
        found: list[dict[str, Any]] = answer.get("Uploads", [])
        return found

    async def leftovers(name: str) -> list[str]:
        return [f"multipart upload {u['Key']} {u['UploadId']}" for u in await uploads(name)]

    async def clean() -> None:
        raw = await direct.client._get_client()  # type: ignore[attr-defined]
        for upload in await uploads(None):
            await raw.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])

    return Backend(
        "s3",
        proxy,
        make(),
        direct.client,
        bucket,
        make,
        upload_request,
        download_request,
        leftovers,
        S3_503,
        clean=clean,
    )


# -- GCS (gcp-storage-emulator) ---------------------------------------------------------------------


def _gcs_client(api_root: str, **overrides: Any) -> StorageClient:
    from cloud.gcp import GCSClient

    options: dict[str, Any] = {
        "api_root": api_root,
        "project": "faults",
        "chunk_size": GCS_CHUNK,
        "retry": fast_retry(),
        "timeout": CLIENT_TIMEOUT,
    }
    options.update(overrides)
    return GCSClient(**options)


async def _gcs_direct(emulator: Emulator) -> Direct:
    client = _gcs_client(emulator.url)
    bucket = _bucket_name()
    await client.ensure_bucket(bucket)
    return Direct(client, bucket, emulator)


def _gcs_backend(direct: Direct, proxy: FaultProxy) -> Backend:
    bucket = direct.bucket

    def make(**overrides: Any) -> StorageClient:
        return _gcs_client(proxy.url, **overrides)

    def upload_request(name: str, op: str, large: bool) -> dict[str, Any]:
        if large:  # the chunk PUTs of the resumable session
            return {"method": "PUT", "path": f"/upload/storage/v1/b/{bucket}/o$", "query": "upload_id="}
        return {"method": "POST", "path": f"/upload/storage/v1/b/{bucket}/o$", "query": "uploadType=multipart"}

    def download_request(name: str) -> dict[str, Any]:
        return {"method": "GET", "path": f"/b/{bucket}/o/{name}$", "query": "alt=media"}

    async def leftovers(name: str) -> list[str]:
        return []  # the emulator cannot list resumable sessions (an open one stores nothing)

    return Backend(
        "gcs",
        proxy,
        make(),
        direct.client,
        bucket,
        make,
        upload_request,
        download_request,
        leftovers,
        Status(body=JSON_503, content_type="application/json"),
        chunked_upload_op="put_bytes",  # upload_file streams a large file in one PUT
    )


# -- Azure (Azurite) ----------------------------------------------------------------------------------


def azure_connection_string(url: str) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={url}/{AZURITE_ACCOUNT};"
    )


def _azure_client(url: str, **overrides: Any) -> StorageClient:
    from cloud.azure import AzureBlobClient

    options: dict[str, Any] = {
        "connection_string": azure_connection_string(url),
        "block_size": AZURE_BLOCK,
        "max_concurrency": 4,
        "retry": fast_retry(),
        "timeout": CLIENT_TIMEOUT,
    }
    options.update(overrides)
    return AzureBlobClient(**options)


async def _azure_direct(azurite: Emulator) -> Direct:
    from azure.storage.blob.aio import BlobServiceClient

    client = _azure_client(azurite.url)
    bucket = _bucket_name()
    await client.ensure_bucket(bucket)
    service = BlobServiceClient.from_connection_string(azure_connection_string(azurite.url))
    return Direct(client, bucket, azurite, {"service": service})


def _azure_backend(direct: Direct, proxy: FaultProxy) -> Backend:
    from azure.core.exceptions import ResourceNotFoundError

    bucket = direct.bucket
    service = direct.extra["service"]
    prefix = f"/{AZURITE_ACCOUNT}/{bucket}/"

    def make(**overrides: Any) -> StorageClient:
        return _azure_client(proxy.url, **overrides)

    def upload_request(name: str, op: str, large: bool) -> dict[str, Any]:
        if large:  # Put Block
            return {"method": "PUT", "path": f"{prefix}{name}$", "query": "comp=block(&|$)"}
        return {"method": "PUT", "path": f"{prefix}{name}$", "when": lambda r: "comp=" not in r.query}

    def download_request(name: str) -> dict[str, Any]:
        return {"method": "GET", "path": f"{prefix}{name}$"}

    async def leftovers(name: str) -> list[str]:
        blob = service.get_blob_client(bucket, name)
        try:
            _, uncommitted = await blob.get_block_list(block_list_type="uncommitted")
        except ResourceNotFoundError:
            return []
        return [f"uncommitted block {b.id} of {name}" for b in uncommitted]

    return Backend(
        "azure",
        proxy,
        make(),
        direct.client,
        bucket,
        make,
        upload_request,
        download_request,
        leftovers,
        Status(body=XML_503, headers=(("x-ms-error-code", "ServerBusy"),)),
    )


_PROVIDERS: dict[str, tuple[str, Callable[[Emulator], Awaitable[Direct]]]] = {
    "s3": ("moto_server", _s3_direct),
    "gcs": ("gcs_emulator", _gcs_direct),
    "azure": ("azurite", _azure_direct),
}
_BACKENDS: dict[str, Callable[[Direct, FaultProxy], Backend]] = {
    "s3": _s3_backend,
    "gcs": _gcs_backend,
    "azure": _azure_backend,
}


async def _backend(provider: str, directs: Directs, proxies: Callable[[str], FaultProxy]) -> AsyncIterator[Backend]:
    direct = await directs.get(provider)
    backend = _BACKENDS[provider](direct, proxies(direct.emulator.url))
    try:
        yield backend
    finally:
        await backend.client.aclose()
        # Empty the bucket for the next test (whatever this one left).
        names = [m.name async for m in direct.client.iter_objects(direct.bucket)]
        if names:
            await direct.client.delete_objects(direct.bucket, names)
        if backend.clean is not None:
            await backend.clean()


@pytest_asyncio.fixture(params=["s3", "gcs", "azure"], loop_scope="module")
async def backend(
    request: pytest.FixtureRequest, directs: Directs, proxies: Callable[[str], FaultProxy]
) -> AsyncIterator[Backend]:
    """Each storage provider in turn (its emulator behind a fresh proxy)."""
    async for b in _backend(request.param, directs, proxies):
        yield b
