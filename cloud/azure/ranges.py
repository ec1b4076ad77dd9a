"""Azure's primitives for the transfer engine's downloads in ranges: ranges pinned to the
first answer's ETag, hashed in order into the blob's Content-MD5 when it has one, otherwise
each of at most 4 MiB checked against the MD5 the service sends for it."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from cloud.common.bulk import run_all
from cloud.common.exceptions import IntegrityError, TransportError
from cloud.common.files import AtomicDestination
from cloud.common.integrity import OrderedDigest
from cloud.common.transfer_engine import SegmentProgress, WholeObjectMismatch

if TYPE_CHECKING:
    from azure.storage.blob.aio import BlobClient

    from .client import AzureBlobClient

__all__ = ["RangedRead", "md5_mismatch"]


def md5_mismatch(bucket: str, name: str) -> IntegrityError:
    """The error of a blob read in ranges that does not match its Content-MD5."""
    return WholeObjectMismatch(
        f"the content read from {bucket}/{name} does not match its Content-MD5 (corrupted in transit?)"
    )


class RangedRead:
    """One attempt at downloading a blob in ranges (the transfer engine's primitives):
    ranges pinned to the first answer's ETag, hashed in order into the blob's Content-MD5
    when it has one, otherwise each of at most 4 MiB checked against its own MD5."""

    def __init__(self, client: AzureBlobClient, blob: BlobClient, bucket: str, name: str) -> None:
        self.client = client
        self.blob = blob
        self.bucket = bucket
        self.name = name
        self.range_size = client.block_size
        self.etag: str | None = None
        self.expected: bytes | None = None
        self.digest: OrderedDigest[Any] | None = None
        self.head: bytes | None = None

    async def first(self) -> tuple[bytes, int]:
        """The first range (checked against the Content-MD5 when it is the whole blob)."""
        first, self.range_size = await self.client._first_range(
            "download_file", self.blob, 0, self.client.block_size, etag=None, timeout=None, whole=True
        )
        self.etag, self.expected = first.etag, first.md5
        if self.expected is not None:
            self.digest = OrderedDigest(hashlib.md5(usedforsecurity=False))
            # Hashed by the first range fetched after it, while that range is on its way:
            # the ranges start without waiting for the first one's hash.
            self.head = first.data
        return first.data, max(first.total, 0)

    async def fetch(self, dest: AtomicDestination, offset: int, length: int, progress: SegmentProgress) -> None:
        """One range, written at its offset while it waits for its turn in the blob's MD5
        (the first range fetched also hashes the first answer meanwhile)."""
        digest, head = self.digest, self.head
        self.head = None
        if digest is None:
            await dest.write_at(await self._receive(offset, length), offset)
            progress.advance(length)
            return
        if head is None:
            data = await self._receive(offset, length)
        else:
            first_range = head
            got: list[bytes] = []

            async def receive() -> None:
                got.append(await self._receive(offset, length))

            async def hash_first_range() -> None:
                await digest.add(0, first_range)

            await run_all([receive, hash_first_range])
            data = got[0]

        async def write() -> None:
            await dest.write_at(data, offset)

        async def hash_in_turn() -> None:
            await digest.add(offset, data)

        await run_all([write, hash_in_turn])
        progress.advance(length)

    async def _receive(self, offset: int, length: int) -> bytes:
        """One later range, checked by the service's MD5 of it when the blob has none."""
        chunk = await self.client._fetch(
            "download_file",
            self.blob,
            offset,
            length,
            etag=self.etag,
            timeout=None,
            validate=self.expected is None,
        )
        if len(chunk.data) != length:
            raise TransportError(f"short read: got {len(chunk.data)} of {length} bytes")
        return chunk.data

    async def finish(self, dest: AtomicDestination, total: int) -> None:
        """The ranges against the blob's Content-MD5 (when it has one)."""
        if self.digest is not None and self.digest.sink.digest() != self.expected:
            raise self.client._fail(md5_mismatch(self.bucket, self.name), "download_file")
