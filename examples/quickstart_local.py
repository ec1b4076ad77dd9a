"""Async quick start on the local backend: no cloud account needed.

    python examples/quickstart_local.py [ROOT]

A bucket is a folder under ROOT (default: a temporary folder) and an object is a file at
its natural path, so other programs can read what the SDK writes.
"""

from __future__ import annotations

import sys
import tempfile

import anyio

from cloud.local import LocalStorageClient


async def main(root: str) -> None:
    async with LocalStorageClient(root=root) as store:
        created = await store.ensure_bucket("photos")
        print(f"bucket photos created: {created}")

        await store.put_bytes(
            "photos",
            "notes/hello.txt",
            b"hello, local storage\n",
            content_type="text/plain",
            metadata={"author": "ant"},
        )
        print((await store.get_bytes("photos", "notes/hello.txt")).decode(), end="")

        meta = await store.stat("photos", "notes/hello.txt")
        print(f"{meta.name}: {meta.size} bytes, {meta.content_type}, etag {meta.etag}, metadata {dict(meta.metadata)}")

        async for item in store.iter_objects("photos", delimiter="/"):
            print("listed:", item.name + (" (prefix)" if item.is_prefix else ""))

        chunks = [chunk async for chunk in store.open_read("photos", "notes/hello.txt", chunk_size=8)]
        print(f"streamed in {len(chunks)} chunks")

        await store.delete_object("photos", "notes/hello.txt")
        print("exists after delete:", await store.object_exists("photos", "notes/hello.txt"))
        await store.delete_bucket("photos")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        anyio.run(main, sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as folder:
            anyio.run(main, folder)
