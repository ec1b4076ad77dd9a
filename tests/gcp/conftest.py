"""Fixtures of the GCS tests: the session's emulator behind a paging/fault-injecting proxy."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from cloud.common.retry import RetryPolicy
from cloud.gcp import GCSClient
from tests.emulators import Emulator
from tests.gcp.paging_proxy import PagingProxy

CHUNK = 256 * 1024


@pytest.fixture(scope="session")
def gcs_proxy(gcs_emulator: Emulator) -> Iterator[PagingProxy]:
    """One proxy in front of the session's emulator."""
    proxy = PagingProxy(gcs_emulator.url).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def proxy(gcs_proxy: PagingProxy) -> Iterator[PagingProxy]:
    """The proxy with no armed faults and an empty log."""
    gcs_proxy.reset()
    yield gcs_proxy
    gcs_proxy.reset()


def fast_retry() -> RetryPolicy:
    """Retries without real waiting (the tests assert on behaviour, never on time)."""
    return RetryPolicy(max_attempts=4, base_delay=0.0, max_delay=0.0)


@pytest.fixture
async def gcs(proxy: PagingProxy) -> AsyncIterator[GCSClient]:
    """A client of the emulator through the proxy, with 256 KiB resumable chunks."""
    async with GCSClient(api_root=proxy.url, project="gcp-tests", chunk_size=CHUNK, retry=fast_retry()) as client:
        yield client


def new_bucket_name() -> str:
    """A fresh, valid bucket name."""
    return f"gt-{uuid.uuid4().hex[:16]}"


@pytest.fixture
async def bucket(gcs: GCSClient) -> AsyncIterator[str]:
    """A fresh bucket, deleted (with its objects) afterwards."""
    name = new_bucket_name()
    assert await gcs.ensure_bucket(name) is True
    yield name
    try:
        await gcs.delete_bucket(name, force=True)
    except Exception:
        pass  # e.g. a deliberately abandoned upload session keeps the emulator's bucket
