"""S3's primitives for the transfer engine's downloads in ranges: ranged GETs pinned to the
first answer's ETag, each range's MD5 kept, and the whole object checked against its ETag
(the MD5 of the content, or for a multipart upload the MD5 of its parts' MD5s)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from cloud.common.exceptions import BadRequestError, IntegrityError, TransportError
from cloud.common.files import AtomicDestination
from cloud.common.http_ranges import range_header, total_from_content_range
from cloud.common.integrity import MultipartETag
from cloud.common.models import plain_etag
from cloud.common.transfer_engine import SegmentProgress, WholeObjectMismatch

from .transfer import DownloadVerifier, md5_based_etag

if TYPE_CHECKING:
    from .client import S3Client

__all__ = ["READ_CHUNK", "RangedGet", "RangeResult", "get_range", "total_size"]

READ_CHUNK = 1024 * 1024
"""How much of a body is read at a time."""


class RangeResult(NamedTuple):
    """What one ranged GET brought."""

    total: int
    etag: str | None
    received: int
    md5: bytes
    response: Mapping[str, Any]
    data: bytes


def total_size(response: Mapping[str, Any]) -> int | None:
    """The object's size from a GET's ``Content-Range`` (else its ``Content-Length``)."""
    total = total_from_content_range(response.get("ContentRange"))
    if total is not None:
        return total
    length = response.get("ContentLength")
    return length if isinstance(length, int) else None


async def get_range(
    s3: S3Client,
    raw: Any,
    dest: AtomicDestination | None,
    bucket: str,
    key: str,
    offset: int,
    length: int | None,
    etag: str | None,
    tracker: SegmentProgress,
    *,
    first: bool = False,
) -> RangeResult:
    """GET ``length`` bytes at ``offset`` (``None``: the whole object) into ``dest`` at the
    same offset (``None``: into memory, returned as ``data``); return the object's total
    size, its ETag, the bytes received and their MD5.  A first answer that holds the whole
    object is checked against its checksum or MD5 ETag.  One attempt: the runner retries it
    whole (a retry restarts the range and its MD5)."""
    params = s3._get_params(bucket, key, range_header(offset, length))
    if etag is not None:
        params["IfMatch"] = f'"{etag}"'
    response = await raw.get_object(**params)
    body = response["Body"]
    total = total_size(response)
    # The whole object came back: it fit in the range, or the store ignored the range.
    whole = first and (length is None or not response.get("ContentRange") or (total is not None and total <= length))
    verifier = DownloadVerifier(response, aws=s3._aws) if whole else None
    md5 = hashlib.md5(usedforsecurity=False)
    position = 0
    kept: list[bytes] = []
    try:
        while True:
            chunk: bytes = await body.read(READ_CHUNK)
            if not chunk:
                break
            if dest is None:
                kept.append(chunk)
            else:
                await dest.write_at(chunk, offset + position)
            md5.update(chunk)
            position += len(chunk)
            if verifier is not None:
                verifier.update(chunk)
            s3.stats.add_received(len(chunk))
            tracker.advance(position)
    finally:
        body.close()
    if verifier is not None:
        verifier.finish()
    expected = response.get("ContentLength")
    if isinstance(expected, int) and position != expected:
        raise TransportError(f"the response ended after {position} of {expected} bytes")
    if total is None:
        total = position
    data = kept[0] if len(kept) == 1 else b"".join(kept)
    return RangeResult(total, plain_etag(response.get("ETag")), position, md5.digest(), response, data)


class RangedGet:
    """One attempt at downloading an S3 object in ranges of ``part_size`` (the transfer
    engine's :class:`~cloud.common.transfer_engine.RangedDownload`)."""

    def __init__(self, s3: S3Client, raw: Any, bucket: str, key: str) -> None:
        self.s3 = s3
        self.raw = raw
        self.bucket = bucket
        self.key = key
        self.range_size = s3.part_size
        self.etag: str | None = None
        self.response: Mapping[str, Any] = {}
        self.digests: dict[int, bytes] = {}

    async def first(self) -> tuple[bytes, int]:
        """The first ``part_size`` bytes (an empty object, which S3 refuses any range of,
        whole), with the object's size."""
        s3, nothing = self.s3, SegmentProgress(None)  # the engine reports the first range
        try:
            got = await s3._runner.call(
                "download_file",
                lambda: get_range(
                    s3, self.raw, None, self.bucket, self.key, 0, self.range_size, None, nothing, first=True
                ),
            )
        except BadRequestError as exc:
            if exc.status_code != 416:
                raise
            got = await s3._runner.call(
                "download_file",
                lambda: get_range(s3, self.raw, None, self.bucket, self.key, 0, None, None, nothing, first=True),
            )
        self.etag, self.response = got.etag, got.response
        self.digests[0] = got.md5
        return got.data, got.total

    async def fetch(self, dest: AtomicDestination, offset: int, length: int, progress: SegmentProgress) -> None:
        """One ranged GET streamed into ``dest`` at ``offset``."""
        s3 = self.s3
        got = await s3._runner.call(
            "download_file",
            lambda: get_range(s3, self.raw, dest, self.bucket, self.key, offset, length, self.etag, progress),
        )
        self.digests[offset] = got.md5

    async def finish(self, dest: AtomicDestination, total: int) -> None:
        """Check the ranges against the object's ETag.

        With ranges that are the upload's parts (the same part size), the ranges' own MD5s,
        taken as they arrived, decide; otherwise the finished temp file is hashed once (the
        part size from a HEAD of part 1).  ETags that are not MD5-based (KMS or customer
        keys) cannot be checked this way and are left as they are."""
        with self.s3._runner.errors("download_file"):
            await self._check(dest, total)

    async def _check(self, dest: AtomicDestination, total: int) -> None:
        etag = self.etag
        if etag is None or not md5_based_etag(self.response, aws=self.s3._aws):
            return
        parts = etag.rsplit("-", 1)
        if len(parts) == 2 and parts[1].isdigit():
            count = int(parts[1])
            if count == len(self.digests):
                joined = b"".join(self.digests[offset] for offset in sorted(self.digests))
                if hashlib.md5(joined, usedforsecurity=False).hexdigest() == parts[0]:
                    return
            head = await self.s3._request(
                "download_file",
                "head_object",
                # No If-Match: some stores answer a part's HEAD with the part's own ETag.
                {"Bucket": self.bucket, "Key": self.key, "PartNumber": 1},
            )
            part_size = int(head.get("ContentLength") or 0)
            if part_size <= 0 or (part_size == self.range_size and count == len(self.digests)):
                raise self._mismatch()
            multipart = MultipartETag(part_size)
            await dest.hash_into(multipart.update, total)
            got = multipart.hexdigest()
        else:
            md5 = hashlib.md5(usedforsecurity=False)
            await dest.hash_into(md5.update, total)
            got = md5.hexdigest()
        if got != etag:
            raise self._mismatch()

    def _mismatch(self) -> IntegrityError:
        return WholeObjectMismatch(
            f"the content read from {self.bucket}/{self.key} does not match its ETag (corrupted in transit?)"
        )
