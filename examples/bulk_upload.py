"""Upload a whole folder with bounded concurrency, a progress callback and per-file results.

    python examples/bulk_upload.py FOLDER DEST_URL [--concurrency N]

DEST_URL is ``s3://bucket/prefix``, ``gs://...``, ``az://...`` or a local folder; the
bucket must exist.  Endpoints and credentials come from the environment as for each client
(``AWS_ENDPOINT_URL``, ``STORAGE_EMULATOR_HOST``, ``AZURE_STORAGE_CONNECTION_STRING``...).
One failed file does not stop the others; the exit code says whether all went through.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import anyio

import cloud
from cloud.common.models import TransferResult
from cloud.transfer import LocalDir, Place, Remote, copy_tree, iter_tree


async def main(folder: Path, dest_url: str, concurrency: int) -> int:
    source = LocalDir(folder)
    sizes = [meta.size async for meta in iter_tree(source)]
    total, moved, finished_files = sum(sizes), 0, 0

    def progress(n: int) -> None:  # byte increments, from every file in flight
        nonlocal moved
        moved += n

    def finished(result: TransferResult) -> None:  # each file, as soon as it is done
        nonlocal finished_files
        finished_files += 1
        status = "ok" if result.ok else "FAILED"
        print(f"[{finished_files}/{len(sizes)}] {moved}/{total} bytes  {status}  {result.destination}")

    url = cloud.parse_storage_url(dest_url)
    dest: Place
    if url.scheme == "file":
        dest = LocalDir(dest_url)
        results = await copy_tree(source, dest, concurrency=concurrency, progress=progress, on_result=finished)
    else:
        async with cloud.open_storage(dest_url) as client:
            dest = Remote(client, url.bucket, url.key)
            results = await copy_tree(source, dest, concurrency=concurrency, progress=progress, on_result=finished)
    failed = [r for r in results if not r.ok]
    print(f"uploaded {len(results) - len(failed)} files, {sum(r.bytes for r in results)} bytes; {len(failed)} failed")
    for result in failed:
        print(f"  {result.source}: {result.error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("dest_url")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    sys.exit(anyio.run(main, args.folder, args.dest_url, args.concurrency))
