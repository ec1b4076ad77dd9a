"""Async quick start on Amazon S3 or any S3-compatible service (MinIO, moto...).

    python examples/quickstart_s3.py BUCKET [--endpoint-url URL] [--region REGION]

Credentials come from the usual chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``,
``AWS_PROFILE``, an IAM role...); the endpoint from ``--endpoint-url`` or
``AWS_ENDPOINT_URL`` (default: AWS itself).
"""

from __future__ import annotations

import argparse
import os

import anyio

from cloud.aws import S3Client


async def main(bucket: str, endpoint_url: str | None, region: str | None) -> None:
    async with S3Client(endpoint_url=endpoint_url, region=region) as s3:
        print(f"bucket {bucket} created: {await s3.ensure_bucket(bucket)}")

        await s3.put_bytes(bucket, "hello.txt", b"hello, S3\n", content_type="text/plain")
        print((await s3.get_bytes(bucket, "hello.txt")).decode(), end="")
        print("first bytes:", await s3.get_bytes(bucket, "hello.txt", start=0, end=5))

        meta = await s3.get_metadata(bucket, "hello.txt")
        print(f"{meta['name']}: {meta['size']} bytes, {meta['content_type']}, etag {meta['etag']}")

        async for item in s3.iter_objects(bucket):
            print("listed:", item.name, item.size)

        print("signed URL:", (await s3.sign_url(bucket, "hello.txt", expires=300))[:60] + "...")

        await s3.delete_object(bucket, "hello.txt")
        print("exists after delete:", await s3.object_exists(bucket, "hello.txt"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bucket")
    parser.add_argument("--endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    parser.add_argument("--region", default=None)
    args = parser.parse_args()
    anyio.run(main, args.bucket, args.endpoint_url, args.region)
