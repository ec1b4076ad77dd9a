"""Container listing for ``cloud ls az://`` (the provider registry's ``buckets`` entry)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from .client import AzureBlobClient

__all__ = ["iter_buckets"]


async def iter_buckets(client: AzureBlobClient) -> AsyncIterator[str]:
    """The names of the account's containers, in name order."""

    async def names() -> list[str]:
        service = client._service or await client._svc()
        return [container.name async for container in service.list_containers()]

    for name in await client._call("list_buckets", names, timeout=None):
        yield name
