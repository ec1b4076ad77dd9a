"""Async quick start on Google Cloud Storage (or the GCS emulator).

    python examples/quickstart_gcs.py BUCKET [--api-root URL] [--project PROJECT]

Credentials are Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``,
gcloud's login, the metadata server); ``--api-root`` or ``STORAGE_EMULATOR_HOST`` points
the client at an emulator (then no credentials are sent).
"""

from __future__ import annotations

import argparse
import os

import anyio

from cloud.gcp import GCSClient


async def main(bucket: str, api_root: str | None, project: str | None) -> None:
    async with GCSClient(api_root=api_root, project=project) as gcs:
        print(f"bucket {bucket} created: {await gcs.ensure_bucket(bucket)}")

        await gcs.put_bytes(bucket, "hello.txt", b"hello, GCS\n", content_type="text/plain")
        print((await gcs.get_bytes(bucket, "hello.txt")).decode(), end="")

        meta = await gcs.get_metadata(bucket, "hello.txt")
        print(f"{meta['name']}: {meta['size']} bytes, {meta['content_type']}")

        async for item in gcs.iter_objects(bucket):
            print("listed:", item.name, item.size)

        total = 0
        async for chunk in gcs.open_read(bucket, "hello.txt"):
            total += len(chunk)
        print(f"streamed {total} bytes")

        await gcs.delete_object(bucket, "hello.txt")
        print("exists after delete:", await gcs.object_exists(bucket, "hello.txt"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bucket")
    parser.add_argument("--api-root", default=os.environ.get("STORAGE_EMULATOR_HOST"))
    parser.add_argument("--project", default=os.environ.get("GOOGLE_CLOUD_PROJECT"))
    args = parser.parse_args()
    anyio.run(main, args.bucket, args.api_root, args.project)
