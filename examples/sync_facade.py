"""The same API without async: every client has a blocking twin (``SyncX``).

    python examples/sync_facade.py [ROOT]

Plain function calls, plain ``for`` loops, plain ``with``; the async client runs in a
background event loop shared by the process.  Swap in ``SyncS3Client``, ``SyncGCSClient``
or ``SyncAzureBlobClient`` with the same calls.
"""

from __future__ import annotations

import sys
import tempfile

from cloud.local import SyncLocalStorageClient


def main(root: str) -> None:
    with SyncLocalStorageClient(root=root) as store:
        store.ensure_bucket("reports")
        for month in ("2024-01", "2024-02", "2024-03"):
            store.put_bytes("reports", f"{month}.csv", f"month,total\n{month},42\n".encode())

        print(store.list_objects("reports"))
        for meta in store.iter_objects("reports", prefix="2024-0"):
            print(meta.name, meta.size, meta.content_type)

        print(store.get_bytes("reports", "2024-02.csv").decode(), end="")
        store.delete_objects("reports", store.list_objects("reports"))
        print("left:", store.list_objects("reports"))


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(folder)
