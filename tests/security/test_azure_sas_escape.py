"""Issue #14 item 1 as reported: with an account SAS (no per-request signature to break), a
blob name with dot segments was collapsed client-side into a path of another container."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

from cloud.azure import AzureBlobClient
from cloud.common.exceptions import ConfigurationError
from tests.emulators import AZURITE_KEY, Emulator


@pytest.fixture
async def sas_client(azurite: Emulator) -> AsyncIterator[AzureBlobClient]:
    """A client holding only an account SAS that may do anything to any container."""
    token = generate_account_sas(
        "devstoreaccount1",
        AZURITE_KEY,
        resource_types=ResourceTypes(service=True, container=True, object=True),
        permission=AccountSasPermissions(read=True, write=True, delete=True, list=True, create=True, add=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    async with AzureBlobClient(account_url=f"{azurite.url}/devstoreaccount1", credential=token) as client:
        yield client


async def test_dot_segments_cannot_reach_another_container(sas_client: AzureBlobClient, tmp_path: Path) -> None:
    mine, victim = f"mine-{uuid.uuid4().hex[:12]}", f"victim-{uuid.uuid4().hex[:12]}"
    await sas_client.ensure_bucket(mine)
    await sas_client.ensure_bucket(victim)
    try:
        await sas_client.put_bytes(victim, "keep.txt", b"keep")
        await sas_client.put_bytes(mine, "moved.txt", b"mine")
        source = tmp_path / "pwned.txt"
        source.write_bytes(b"pwned")
        escapes = [f"../{victim}/pwned.txt", f"x/../../{victim}/pwned.txt", f"..\\{victim}\\pwned.txt"]
        for name in escapes:
            with pytest.raises(ConfigurationError):
                await sas_client.put_bytes(mine, name, b"pwned")
            with pytest.raises(ConfigurationError):
                await sas_client.upload_file(source, mine, name)
            with pytest.raises(ConfigurationError):
                await sas_client.copy_object(mine, "moved.txt", mine, name)
        with pytest.raises(ConfigurationError):
            await sas_client.get_bytes(mine, f"../{victim}/keep.txt")
        with pytest.raises(ConfigurationError):
            await sas_client.delete_object(mine, f"../{victim}/keep.txt")
        with pytest.raises(ConfigurationError):
            await sas_client.put_bytes(mine, "x/../moved.txt", b"overwritten")
        assert await sas_client.list_objects(victim) == ["keep.txt"]
        assert await sas_client.get_bytes(victim, "keep.txt") == b"keep"
        assert await sas_client.list_objects(mine) == ["moved.txt"]
        assert await sas_client.get_bytes(mine, "moved.txt") == b"mine"
    finally:
        await sas_client.delete_bucket(mine, force=True)
        await sas_client.delete_bucket(victim, force=True)
