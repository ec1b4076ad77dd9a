"""Emulators (orchestrator side) and client factories (worker side).

Emulators are started through ``tests.emulators`` (the same launcher the tests use).  An
*endpoint* is a plain dict handed to workers as JSON: ``{"provider": "s3", "url": ...}``
plus ``"connection_string"`` for Azure.

Worker-side factories build our clients (``cloud.aws.S3Client`` ...) and the raw library
clients the baselines use (aiobotocore, gcloud-aio-storage, azure-storage-blob aio,
obstore), and do unmeasured setup such as creating and emptying buckets with the raw
library so that setup never depends on the code under test.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from benchmarks.harness import ROOT, worker_env

Endpoint = dict[str, str]

STORAGE_PROVIDERS = ("s3", "gcs", "azure")
PROVIDER_NAMES = {"s3": "S3 (moto)", "gcs": "GCS (gcp-storage-emulator)", "azure": "Azure Blob (Azurite)"}

# provider -> (module, async class, sync class)
OURS = {
    "s3": ("cloud.aws", "S3Client", "SyncS3Client"),
    "gcs": ("cloud.gcp", "GCSClient", "SyncGCSClient"),
    "azure": ("cloud.azure", "AzureBlobClient", "SyncAzureBlobClient"),
    "local": ("cloud.local", "LocalStorageClient", "SyncLocalStorageClient"),
}

POOL = 64  # connection pool size given to every raw client (>= the benchmark concurrency)


# --------------------------------------------------------------------------------------
# orchestrator side: what is importable, and the emulators


_import_cache: dict[str, tuple[bool, str]] = {}


def importable(statement: str) -> tuple[bool, str]:
    """Whether ``statement`` (e.g. ``from cloud.aws import S3Client``) runs in a fresh
    interpreter; the reason when it does not."""
    if statement not in _import_cache:
        proc = subprocess.run(
            [sys.executable, "-c", statement],
            cwd=ROOT,
            env=worker_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if proc.returncode == 0:
            _import_cache[statement] = (True, "")
        else:
            lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
            _import_cache[statement] = (False, lines[-1] if lines else f"exit {proc.returncode}")
    return _import_cache[statement]


def ours_available(provider: str, *, sync: bool = False) -> tuple[bool, str]:
    """Whether our client for ``provider`` has landed and imports."""
    module, async_class, sync_class = OURS[provider]
    names = f"{async_class}, {sync_class}" if sync else async_class
    return importable(f"from {module} import {names}")


PEERS = {
    "aiobotocore": "import aiobotocore.session",
    "aioboto3": "import aioboto3",
    "s3fs": "import s3fs",
    "obstore": "import obstore, obstore.store",
    "gcloud-aio": "import gcloud.aio.storage",
    "gcloud-aio+crc32c": "import gcloud.aio.storage, google_crc32c",
    "azure-aio+md5": "import azure.storage.blob.aio",
    "azure-aio+metadata": "import azure.storage.blob.aio",
    "azure-aio": "import azure.storage.blob.aio",
}


RAW = {"s3": "aiobotocore", "gcs": "gcloud-aio", "azure": "azure-aio"}
"""The raw provider library each target compares with."""
LIKE_FOR_LIKE = {"gcs": "gcloud-aio+crc32c", "azure": "azure-aio+md5"}
"""The raw library doing the integrity checks ours does (the raw baselines do none)."""
LISTING_LIKE_FOR_LIKE = {"azure": "azure-aio+metadata"}
"""The raw paginator asking for what ours lists (Azure: each blob's user metadata)."""


def peer_available(name: str) -> tuple[bool, str]:
    """Whether a baseline library imports."""
    return importable(PEERS[name])


# The stock gcp-storage-emulator rewrites a JSON file holding the metadata of *every*
# object on every upload (O(n^2): 2,000 uploads take ~25 s, 10,000 would take ~10 min), a
# cost real GCS does not have and that would swamp every client-side difference.  In
# ``--in-memory`` mode that file is only read back at start-up, so the benchmarks launch
# the emulator with the rewrite turned off; everything else is the stock emulator.
_GCS_LINEAR_PATCH = "import gcp_storage_emulator.storage as _s; _s.Storage._write_config_to_file = lambda self: None; "


def start_gcs_linear() -> Any:
    """``tests.emulators.start_gcs`` with the per-upload metadata rewrite disabled.

    Reuses the test launcher's helpers; falls back to the stock launcher if they moved."""
    from tests import emulators

    try:
        launch = emulators._GCS_LAUNCH
        spawn_, wait, free_port = emulators._spawn, emulators._wait_http, emulators.free_port
    except AttributeError:
        return emulators.start_gcs()
    port = free_port()
    argv = [sys.executable, "-c", _GCS_LINEAR_PATCH + launch]
    argv += ["start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"]
    emulator = spawn_("gcs-emulator", argv, port)
    wait(emulator, "/storage/v1/b")
    emulator.extra["patched"] = "linear"
    return emulator


class Emulators:
    """Shared emulators (one per provider, started on first use) and fresh ones on demand."""

    def __init__(self, log: Callable[[str], None]) -> None:
        self._log = log
        self._shared: dict[str, Any] = {}

    @staticmethod
    def _start(provider: str) -> Any:
        from tests import emulators

        starter = {"s3": emulators.start_moto, "gcs": start_gcs_linear, "azure": emulators.start_azurite}[provider]
        return starter()

    @staticmethod
    def endpoint(provider: str, emulator: Any) -> Endpoint:
        """The JSON-able description of a running emulator."""
        ep = {"provider": provider, "url": emulator.url}
        ep.update(emulator.extra)
        return ep

    def shared(self, provider: str) -> Endpoint:
        """The shared emulator of ``provider`` (started now if needed)."""
        if provider not in self._shared:
            t0 = time.perf_counter()
            self._shared[provider] = self._start(provider)
            self._log(f"  started shared {provider} emulator in {time.perf_counter() - t0:.1f} s")
        return self.endpoint(provider, self._shared[provider])

    def restart_shared(self, provider: str) -> Endpoint:
        """Stop the shared emulator of ``provider`` (freeing its memory) and start a new one."""
        emulator = self._shared.pop(provider, None)
        if emulator is not None:
            emulator.stop()
        return self.shared(provider)

    def stop_shared(self, provider: str) -> None:
        """Stop the shared emulator of ``provider`` if it runs."""
        emulator = self._shared.pop(provider, None)
        if emulator is not None:
            emulator.stop()

    @contextlib.contextmanager
    def fresh(self, provider: str) -> Iterator[Endpoint]:
        """A new emulator for the duration of the block."""
        emulator = self._start(provider)
        try:
            yield self.endpoint(provider, emulator)
        finally:
            emulator.stop()

    def stop_all(self) -> None:
        """Stop every shared emulator."""
        for provider in list(self._shared):
            self.stop_shared(provider)


# --------------------------------------------------------------------------------------
# worker side: our clients


def ours_kwargs(endpoint: Endpoint) -> dict[str, Any]:
    """Constructor arguments of our client for an emulator endpoint."""
    provider = endpoint["provider"]
    if provider == "s3":
        return {"endpoint_url": endpoint["url"], "region": "us-east-1"}
    if provider == "gcs":
        return {"api_root": endpoint["url"], "project": "bench"}
    if provider == "azure":
        return {"connection_string": endpoint["connection_string"]}
    if provider == "local":
        return {"root": endpoint["url"]} if endpoint.get("url") else {}
    raise ValueError(provider)


def ours_class(provider: str, *, sync: bool = False) -> Any:
    """Our async (or sync) client class for ``provider``."""
    import importlib

    module, async_class, sync_class = OURS[provider]
    return getattr(importlib.import_module(module), sync_class if sync else async_class)


def ours(endpoint: Endpoint, **kwargs: Any) -> Any:
    """Our async client for an emulator endpoint."""
    return ours_class(endpoint["provider"])(**ours_kwargs(endpoint), **kwargs)


def ours_sync(endpoint: Endpoint, **kwargs: Any) -> Any:
    """Our blocking facade for an emulator endpoint."""
    return ours_class(endpoint["provider"], sync=True)(**ours_kwargs(endpoint), **kwargs)


def transfer_settings(provider: str) -> dict[str, int]:
    """Our client's default part size and per-object concurrency, read from its signature."""
    import inspect

    signature = inspect.signature(ours_class(provider).__init__)
    out: dict[str, int] = {}
    for name in ("part_size", "chunk_size", "block_size"):
        param = signature.parameters.get(name)
        if param is not None and isinstance(param.default, int):
            out["part_size"] = param.default
    param = signature.parameters.get("max_concurrency")
    if param is not None and isinstance(param.default, int):
        out["concurrency"] = param.default
    return out


# --------------------------------------------------------------------------------------
# worker side: raw library clients


@contextlib.asynccontextmanager
async def raw_s3(endpoint: Endpoint, pool: int = POOL) -> AsyncIterator[Any]:
    """An aiobotocore S3 client with a connection pool of ``pool``."""
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    session = get_session()
    config = AioConfig(max_pool_connections=pool, retries={"max_attempts": 3, "mode": "standard"})
    async with session.create_client(
        "s3",
        endpoint_url=endpoint["url"],
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench-secret",
        config=config,
    ) as client:
        yield client


@contextlib.asynccontextmanager
async def raw_gcs(endpoint: Endpoint) -> AsyncIterator[Any]:
    """A gcloud-aio-storage client on the emulator (no credentials are sent)."""
    from gcloud.aio.storage import Storage

    async with Storage(api_root=endpoint["url"]) as storage:
        yield storage


@contextlib.asynccontextmanager
async def raw_azure(endpoint: Endpoint) -> AsyncIterator[Any]:
    """An azure-storage-blob aio service client on Azurite."""
    from azure.storage.blob.aio import BlobServiceClient

    async with BlobServiceClient.from_connection_string(endpoint["connection_string"]) as service:
        yield service


def obstore_store(endpoint: Endpoint, bucket: str) -> Any:
    """An obstore store for a bucket (S3 or Azure)."""
    from obstore.store import AzureStore, S3Store

    if endpoint["provider"] == "s3":
        return S3Store(
            bucket,
            endpoint=endpoint["url"],
            access_key_id="bench",
            secret_access_key="bench-secret",
            region="us-east-1",
            virtual_hosted_style_request=False,
            client_options={"allow_http": True},
        )
    if endpoint["provider"] == "azure":
        from tests.emulators import AZURITE_ACCOUNT, AZURITE_KEY

        return AzureStore(
            bucket,
            account_name=AZURITE_ACCOUNT,
            account_key=AZURITE_KEY,
            endpoint=f"{endpoint['url']}/{AZURITE_ACCOUNT}",
            client_options={"allow_http": True},
        )
    raise ValueError(f"no obstore store for {endpoint['provider']}")


# --------------------------------------------------------------------------------------
# worker side: unmeasured setup through the raw libraries


def gcs_create_bucket(endpoint: Endpoint, bucket: str) -> None:
    """gcloud-aio-storage has no bucket-create call: POST the JSON API directly."""
    request = urllib.request.Request(
        f"{endpoint['url']}/storage/v1/b?project=bench",
        data=json.dumps({"name": bucket}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


async def create_bucket(endpoint: Endpoint, bucket: str) -> None:
    """Create a bucket / container with the raw library."""
    provider = endpoint["provider"]
    if provider == "s3":
        async with raw_s3(endpoint) as s3:
            await s3.create_bucket(Bucket=bucket)
    elif provider == "gcs":
        gcs_create_bucket(endpoint, bucket)
    elif provider == "azure":
        async with raw_azure(endpoint) as service:
            await service.create_container(bucket)
    else:
        raise ValueError(provider)


async def delete_bucket(endpoint: Endpoint, bucket: str) -> None:
    """Delete a bucket and its objects with the raw library (frees emulator memory).

    The GCS emulator is not cleaned (the GCS cases use a fresh emulator per run)."""
    provider = endpoint["provider"]
    if provider == "s3":
        async with raw_s3(endpoint) as s3:
            paginator = s3.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=bucket):
                keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    await s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            await s3.delete_bucket(Bucket=bucket)
    elif provider == "azure":
        async with raw_azure(endpoint) as service:
            await service.delete_container(bucket)


def unique_bucket(prefix: str = "bench") -> str:
    """A bucket name valid on every provider."""
    import uuid

    return f"{prefix}-{uuid.uuid4().hex[:12]}"
