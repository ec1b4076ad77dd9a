"""Fixtures for the Azure tests: clients and containers of the session's Azurite."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from cloud.azure import AzureBlobClient
from tests.emulators import Emulator


@pytest.fixture
def connection_string(azurite: Emulator) -> str:
    """The session Azurite's connection string (it holds the account key)."""
    return azurite.extra["connection_string"]


@pytest.fixture
def account_url(azurite: Emulator) -> str:
    """The session Azurite's account URL (path-style: ``http://127.0.0.1:PORT/devstoreaccount1``)."""
    return f"{azurite.url}/devstoreaccount1"


@pytest.fixture
async def client(connection_string: str) -> AsyncIterator[AzureBlobClient]:
    """A client with small blocks."""
    async with AzureBlobClient(connection_string=connection_string, block_size=64 * 1024) as c:
        yield c


@pytest.fixture
async def container(client: AzureBlobClient) -> AsyncIterator[str]:
    """A fresh container, deleted with its blobs afterwards."""
    name = f"az-{uuid.uuid4().hex[:16]}"
    assert await client.ensure_bucket(name) is True
    yield name
    await client.delete_bucket(name, force=True)
