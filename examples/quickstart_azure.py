"""Async quick start on Azure Blob Storage (or Azurite).

    python examples/quickstart_azure.py CONTAINER [--connection-string S | --account-url URL]

With neither option, ``AZURE_STORAGE_CONNECTION_STRING`` is used, else
``AZURE_STORAGE_ACCOUNT_URL`` with ``DefaultAzureCredential`` (az login, a managed
identity, environment credentials...).
"""

from __future__ import annotations

import argparse
import os

import anyio

from cloud.azure import AzureBlobClient


async def main(container: str, connection_string: str | None, account_url: str | None) -> None:
    client = (
        AzureBlobClient(connection_string=connection_string)
        if connection_string
        else AzureBlobClient(account_url=account_url)
    )
    async with client as azure:
        print(f"container {container} created: {await azure.ensure_bucket(container)}")

        await azure.put_bytes(container, "hello.txt", b"hello, Azure\n", content_type="text/plain")
        print((await azure.get_bytes(container, "hello.txt")).decode(), end="")

        meta = await azure.get_metadata(container, "hello.txt")
        print(f"{meta['name']}: {meta['size']} bytes, {meta['content_type']}")

        async for item in azure.iter_objects(container):
            print("listed:", item.name, item.size)

        print("signed URL:", (await azure.sign_url(container, "hello.txt", expires=300))[:60] + "...")

        await azure.delete_object(container, "hello.txt")
        print("exists after delete:", await azure.object_exists(container, "hello.txt"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("container")
    parser.add_argument("--connection-string", default=os.environ.get("AZURE_STORAGE_CONNECTION_STRING"))
    parser.add_argument("--account-url", default=os.environ.get("AZURE_STORAGE_ACCOUNT_URL"))
    args = parser.parse_args()
    anyio.run(main, args.container, args.connection_string, args.account_url)
