"""Azure's primitives for the transfer engine's downloads in ranges: ranges pinned to the
first answer's ETag, hashed in order into the blob's Content-MD5 when it has one, otherwise
each of at most 4 MiB checked against the MD5 the service sends for it."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

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

    async def first(self) -> tuple[bytes, int]:
        """The first range (checked against the Content-MD5 when it is the whole blob)."""
        first, self.range_size = await self.client._first_range(
            "download_file", self.blob, 0, self.client.block_size, etag=None, timeout=None, whole=True
        )
        self.etag, self.expected = first.etag, first.md5
        if self.expected is not None:
            self.digest = OrderedDigest(hashlib.md5(usedforsecurity=False))
            await self.digest.add(0, first.data)
        return first.data, max(first.total, 0)

    async def fetch(self, dest: AtomicDestination, offset: int, length: int, progress: SegmentProgress) -> None:
        """One range, written at its offset and hashed in its turn."""
        chunk = await self.client._fetch(
            "download_file",
            self.blob,
            offset,
            length,
            etag=self.etag,
            timeout=None,
            validate=self.expected is None,
        )
        data = chunk.data
        del chunk
        if len(data) != length:
            raise TransportError(f"short read: got {len(data)} of {length} bytes")
        await dest.write_at(data, offset)
        if self.digest is not None:
            await self.digest.add(offset, data)
        progress.advance(length)

    async def finish(self, dest: AtomicDestination, total: int) -> None:
        """The ranges against the blob's Content-MD5 (when it has one)."""
        if self.digest is not None and self.digest.sink.digest() != self.expected:
            raise self.client._fail(md5_mismatch(self.bucket, self.name), "download_file")
