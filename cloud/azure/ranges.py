"""Azure's primitives for the transfer engine's downloads in ranges (``download_file`` and
``get_bytes``): ranges pinned to the first answer's ETag, hashed in order into the blob's
Content-MD5 when the whole blob is read and it has one, otherwise each of at most 4 MiB
checked against the MD5 the service sends for it."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from cloud.common.bulk import run_all
from cloud.common.exceptions import IntegrityError, TransportError
from cloud.common.integrity import OrderedDigest
from cloud.common.transfer_engine import RangeSink, SegmentProgress, WholeObjectMismatch

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
    """One attempt at reading a blob, or ``length`` bytes of it from ``offset``, in ranges
    (the transfer engine's primitives): ranges pinned to ``etag`` when given, else to the
    first answer's; a whole blob that has a Content-MD5 hashed in order into it, anything
    else read in ranges of at most 4 MiB, each checked against its own MD5."""

    def __init__(
        self,
        client: AzureBlobClient,
        blob: BlobClient,
        bucket: str,
        name: str,
        operation: str,
        *,
        offset: int = 0,
        length: int | None = None,
        etag: str | None = None,
        timeout: float | None = None,
    ) -> None:
        self.client = client
        self.blob = blob
        self.bucket = bucket
        self.name = name
        self.operation = operation
        self.offset = offset
        self.length = length
        self.timeout = timeout
        self.range_size = client.block_size
        self.etag = etag
        self.expected: bytes | None = None
        self.digest: OrderedDigest[Any] | None = None
        self.head: bytes | None = None

    async def first(self) -> tuple[bytes, int]:
        """The first range and the size of the read (the first range of a whole blob is
        checked against its Content-MD5 when it holds all of it)."""
        whole = self.offset == 0 and self.length is None
        size = self.client.block_size if self.length is None else min(self.client.block_size, self.length)
        first, self.range_size = await self.client._first_range(
            self.operation, self.blob, self.offset, size, etag=self.etag, timeout=self.timeout, whole=whole
        )
        if first.total < 0:
            return b"", 0
        stop = first.total if self.length is None else min(self.offset + self.length, first.total)
        self.etag = first.etag
        self.expected = first.md5 if whole else None
        if self.expected is not None:
            self.digest = OrderedDigest(hashlib.md5(usedforsecurity=False))
            # Hashed by the first range fetched after it, while that range is on its way:
            # the ranges start without waiting for the first one's hash.
            self.head = first.data
        return first.data, max(stop - self.offset, 0)

    async def fetch(self, dest: RangeSink, offset: int, length: int, progress: SegmentProgress) -> None:
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
            self.operation,
            self.blob,
            self.offset + offset,
            length,
            etag=self.etag,
            timeout=self.timeout,
            validate=self.expected is None,
        )
        if len(chunk.data) != length:
            error = TransportError(f"short read: got {len(chunk.data)} of {length} bytes")
            raise self.client._fail(error, self.operation)
        return chunk.data

    async def finish(self, dest: RangeSink, total: int) -> None:
        """The ranges against the blob's Content-MD5 (when it has one)."""
        if self.digest is not None and self.digest.sink.digest() != self.expected:
            raise self.client._fail(md5_mismatch(self.bucket, self.name), self.operation)
