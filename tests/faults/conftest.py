"""Fixtures of the fault suite: each storage emulator behind a :class:`FaultProxy`.

A :class:`Backend` bundles, for one provider: the proxy (a fresh one per test, so rules
and counters start empty), a client through it (the client under test), a *direct*
client on the emulator itself (to seed objects and read back what was really stored,
never through the proxy), a fresh bucket, the request shapes rules match on, and a probe
of the leftovers a failed upload must not leave (S3 multipart uploads, Azure uncommitted
blocks).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from cloud.common.base import StorageClient
from cloud.common.exceptions import NotFoundError
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

CLIENT_TIMEOUT = 8.0
"""Per-call timeout of the clients under test, so a hang ends as an error, not at the
test's own timeout."""


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
    extra: dict[str, Any] = field(default_factory=dict)

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


# -- S3 (moto) -------------------------------------------------------------------------------------


async def _s3_backend(moto: Emulator, proxy: FaultProxy) -> AsyncIterator[Backend]:
    from cloud.aws import S3Client
    from cloud.common.models import CloudCredentials

    credentials = CloudCredentials(access_key_id="AKIAFAULTS", secret_access_key="faults-secret-7q")

    def make(endpoint: str = proxy.url, **overrides: Any) -> S3Client:
        options: dict[str, Any] = {
            "endpoint_url": endpoint,
            "region": "us-east-1",
            "credentials": credentials,
            "part_size": S3_PART,
            "max_concurrency": 4,
            "retry": fast_retry(),
            "timeout": CLIENT_TIMEOUT,
        }
        options.update(overrides)
        return S3Client(**options)

    direct = make(moto.url)
    client = make()
    bucket = f"faults-{uuid.uuid4().hex[:12]}"
    await direct.ensure_bucket(bucket)

    def upload_request(name: str, op: str, large: bool) -> dict[str, Any]:
        if large and op == "upload_file":  # multipart (put_bytes is always one PUT)
            return {"method": "PUT", "path": f"/{bucket}/{name}$", "query": "partNumber="}
        return {"method": "PUT", "path": f"/{bucket}/{name}$", "query": "^$"}

    def download_request(name: str) -> dict[str, Any]:
        return {"method": "GET", "path": f"/{bucket}/{name}$"}

    async def leftovers(name: str) -> list[str]:
        raw = await direct._get_client()
        answer = await raw.list_multipart_uploads(Bucket=bucket)
        return [f"multipart upload {u['Key']} {u['UploadId']}" for u in answer.get("Uploads", [])]

    try:
        yield Backend(
            "s3", proxy, client, direct, bucket, make, upload_request, download_request, leftovers, Status(body=XML_503)
        )
    finally:
        await client.aclose()
        try:
            await direct.delete_bucket(bucket, force=True)
        finally:
            await direct.aclose()


# -- GCS (gcp-storage-emulator) ---------------------------------------------------------------------


async def _gcs_backend(emulator: Emulator, proxy: FaultProxy) -> AsyncIterator[Backend]:
    from cloud.gcp import GCSClient

    def make(api_root: str = proxy.url, **overrides: Any) -> GCSClient:
        options: dict[str, Any] = {
            "api_root": api_root,
            "project": "faults",
            "chunk_size": GCS_CHUNK,
            "retry": fast_retry(),
            "timeout": CLIENT_TIMEOUT,
        }
        options.update(overrides)
        return GCSClient(**options)

    direct = make(emulator.url)
    client = make()
    bucket = f"faults-{uuid.uuid4().hex[:12]}"
    await direct.ensure_bucket(bucket)

    def upload_request(name: str, op: str, large: bool) -> dict[str, Any]:
        if large:  # the chunk PUTs of the resumable session
            return {"method": "PUT", "path": f"/upload/storage/v1/b/{bucket}/o$", "query": "upload_id="}
        return {"method": "POST", "path": f"/upload/storage/v1/b/{bucket}/o$", "query": "uploadType=multipart"}

    def download_request(name: str) -> dict[str, Any]:
        return {"method": "GET", "path": f"/b/{bucket}/o/{name}$", "query": "alt=media"}

    async def leftovers(name: str) -> list[str]:
        return []  # the emulator cannot list resumable sessions (an open one stores nothing)

    try:
        yield Backend(
            "gcs",
            proxy,
            client,
            direct,
            bucket,
            make,
            upload_request,
            download_request,
            leftovers,
            Status(body=JSON_503, content_type="application/json"),
        )
    finally:
        await client.aclose()
        try:
            await direct.delete_bucket(bucket, force=True)
        finally:
            await direct.aclose()


# -- Azure (Azurite) ----------------------------------------------------------------------------------


def azure_connection_string(url: str) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={url}/{AZURITE_ACCOUNT};"
    )


async def _azure_backend(azurite: Emulator, proxy: FaultProxy) -> AsyncIterator[Backend]:
    from azure.core.exceptions import ResourceNotFoundError
    from azure.storage.blob.aio import BlobServiceClient

    from cloud.azure import AzureBlobClient

    def make(url: str = proxy.url, **overrides: Any) -> AzureBlobClient:
        options: dict[str, Any] = {
            "connection_string": azure_connection_string(url),
            "block_size": AZURE_BLOCK,
            "max_concurrency": 4,
            "retry": fast_retry(),
            "timeout": CLIENT_TIMEOUT,
        }
        options.update(overrides)
        return AzureBlobClient(**options)

    direct = make(azurite.url)
    client = make()
    bucket = f"faults-{uuid.uuid4().hex[:12]}"
    await direct.ensure_bucket(bucket)
    service = BlobServiceClient.from_connection_string(azure_connection_string(azurite.url))
    prefix = f"/{AZURITE_ACCOUNT}/{bucket}/"

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

    try:
        yield Backend(
            "azure",
            proxy,
            client,
            direct,
            bucket,
            make,
            upload_request,
            download_request,
            leftovers,
            Status(body=XML_503),
        )
    finally:
        await client.aclose()
        await service.close()
        try:
            await direct.delete_bucket(bucket, force=True)
        finally:
            await direct.aclose()


_FACTORIES = {
    "s3": ("moto_server", _s3_backend),
    "gcs": ("gcs_emulator", _gcs_backend),
    "azure": ("azurite", _azure_backend),
}


async def _backend(
    request: pytest.FixtureRequest, name: str, proxies: Callable[[str], FaultProxy]
) -> AsyncIterator[Backend]:
    emulator_fixture, factory = _FACTORIES[name]
    emulator: Emulator = request.getfixturevalue(emulator_fixture)
    async for backend in factory(emulator, proxies(emulator.url)):
        yield backend


@pytest.fixture(params=["s3", "gcs", "azure"])
async def backend(request: pytest.FixtureRequest, proxies: Callable[[str], FaultProxy]) -> AsyncIterator[Backend]:
    """Each storage provider in turn (its emulator behind a fresh proxy)."""
    async for b in _backend(request, request.param, proxies):
        yield b


@pytest.fixture
async def s3(request: pytest.FixtureRequest, proxies: Callable[[str], FaultProxy]) -> AsyncIterator[Backend]:
    async for b in _backend(request, "s3", proxies):
        yield b


@pytest.fixture
async def gcs(request: pytest.FixtureRequest, proxies: Callable[[str], FaultProxy]) -> AsyncIterator[Backend]:
    async for b in _backend(request, "gcs", proxies):
        yield b


@pytest.fixture
async def azure(request: pytest.FixtureRequest, proxies: Callable[[str], FaultProxy]) -> AsyncIterator[Backend]:
    async for b in _backend(request, "azure", proxies):
        yield b
