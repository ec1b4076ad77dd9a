"""Transfer helpers of the S3 client: checksums, part sources, a worker pool, verification."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zlib
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal, TypeVar

import anyio

from cloud.common.chunks import stream_views
from cloud.common.exceptions import IntegrityError

__all__ = [
    "BytesBody",
    "ChecksumKind",
    "request_body",
    "DownloadVerifier",
    "check_upload_response",
    "checksum_params",
    "digest_params",
    "md5_based_etag",
]

T = TypeVar("T")

ChecksumKind = Literal["crc32", "md5"]
"""How uploads are protected: a CRC32 flexible checksum (AWS) or ``Content-MD5`` (everywhere)."""

_INLINE_DIGEST = 256 * 1024
_PLAIN_MD5_ETAG = re.compile(r"^[0-9a-f]{32}$")


def digest_params(kind: ChecksumKind, data: bytes | memoryview) -> dict[str, str]:
    """The request parameters that make S3 verify ``data``, computed here and now (see
    :func:`checksum_params`)."""
    if kind == "crc32":
        value = zlib.crc32(data).to_bytes(4, "big")
        return {"ChecksumAlgorithm": "CRC32", "ChecksumCRC32": base64.b64encode(value).decode("ascii")}
    return {"ContentMD5": base64.b64encode(hashlib.md5(data).digest()).decode("ascii")}


async def checksum_params(kind: ChecksumKind, data: bytes) -> dict[str, str]:
    """The request parameter that makes S3 verify ``data`` (computed off the event loop for
    large bodies): ``ChecksumCRC32`` or ``ContentMD5``."""
    if len(data) <= _INLINE_DIGEST:
        return digest_params(kind, data)
    return await anyio.to_thread.run_sync(digest_params, kind, data)


def check_upload_response(params: Mapping[str, Any], response: Mapping[str, Any]) -> None:
    """Raise ``IntegrityError`` when S3 says it stored other bytes than were sent: the
    checksum it returns differs from ours, or its ETag (a plain MD5 for a PutObject or an
    UploadPart without KMS or customer keys) differs from the ``Content-MD5`` we sent."""
    sent_crc = params.get("ChecksumCRC32")
    got_crc = response.get("ChecksumCRC32")
    if sent_crc and got_crc and "-" not in str(got_crc) and got_crc != sent_crc:
        raise IntegrityError("S3 stored a body whose CRC32 differs from the one sent", provider="aws")
    sent_md5 = params.get("ContentMD5")
    etag = str(response.get("ETag") or "").strip('"').lower()
    if (
        sent_md5
        and _PLAIN_MD5_ETAG.match(etag)
        and not response.get("SSEKMSKeyId")
        and base64.b64decode(sent_md5).hex() != etag
    ):
        raise IntegrityError("S3 stored a body whose MD5 (its ETag) differs from the one sent", provider="aws")


class BytesBody:
    """A request body over ``bytes`` that is sent in views and never copied whole.

    Handed ``bytes``, botocore wraps them in ``io.BytesIO`` and aiohttp's ``BytesIOPayload``
    copies the buffer (+1 part per request in flight, measured with tracemalloc); handed a
    file object, aiohttp reads it in 64 KiB pieces through a worker thread (a thread hop per
    piece: ~2,000 per 128 MiB).  This object is file-like for botocore (which reads it to
    sign and checksum, then seeks back; seekable, so every retry can start over) and an
    async iterable of views for aiohttp, which then sends it from the current position
    with no copy and no thread.  It is deliberately not an ``io.IOBase``: aiohttp would
    pick its threaded file payload for that.
    """

    def __init__(self, data: bytes | memoryview) -> None:
        self._view = memoryview(data)
        self._pos = 0

    def __len__(self) -> int:
        return len(self._view)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = min(max(0, base + offset), len(self._view))
        return self._pos

    def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size is None or size < 0 else min(len(self._view), self._pos + size)
        data = self._view[self._pos : end].tobytes()
        self._pos = end
        return data

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), len(self._view) - self._pos)
        buffer[:n] = self._view[self._pos : self._pos + n]
        self._pos += n
        return n

    async def __aiter__(self) -> AsyncIterator[memoryview]:
        start = self._pos
        self._pos = len(self._view)
        async for view in stream_views(self._view[start:]):
            yield view


_STREAMED_BODY = 1024 * 1024


def request_body(data: bytes) -> bytes | BytesBody:
    """The body to hand botocore: ``bytes`` for small payloads (aiohttp sends them in one
    write; copying a few KiB costs less than streaming), a :class:`BytesBody` from 1 MiB up
    (no part-sized copy per request in flight)."""
    return BytesBody(data) if len(data) >= _STREAMED_BODY else data


def md5_based_etag(response: Mapping[str, Any], *, aws: bool) -> bool:
    """Whether the object's ETag is derived from MD5s of its content (no KMS, no customer
    key): the MD5 itself for a single PUT, the MD5 of the parts' MD5s for a multipart upload."""
    sse = response.get("ServerSideEncryption")
    return (sse is None or (aws and sse == "AES256")) and not response.get("SSECustomerAlgorithm")


class DownloadVerifier:
    """Checks a whole-object download against what S3 stored.

    When botocore validates a flexible checksum (``x-amz-checksum-*``, asked for with
    ``ChecksumMode``) it is left to do so; otherwise an ETag that is the plain MD5 of the
    content (single-part uploads without KMS or customer keys) is compared with the MD5 of
    the received bytes.  The received length is always checked against ``Content-Length``.
    """

    def __init__(self, response: Mapping[str, Any], *, aws: bool) -> None:
        self.expected_length = response.get("ContentLength")
        etag = str(response.get("ETag") or "").strip('"').lower()
        body = response.get("Body")
        botocore_checks = type(body).__name__.endswith("ChecksumBody")
        self._etag = etag
        self._md5 = (
            hashlib.md5()
            if _PLAIN_MD5_ETAG.match(etag) and not botocore_checks and md5_based_etag(response, aws=aws)
            else None
        )
        self.received = 0

    def update(self, chunk: bytes) -> None:
        """Account for the next chunk of the body."""
        self.received += len(chunk)
        if self._md5 is not None:
            self._md5.update(chunk)

    def finish(self) -> None:
        """Raise ``IntegrityError`` when the body was cut short or does not match."""
        if isinstance(self.expected_length, int) and self.received != self.expected_length:
            raise IntegrityError(
                f"the response ended after {self.received} of {self.expected_length} bytes", provider="aws"
            )
        if self._md5 is not None and self._md5.hexdigest() != self._etag:
            raise IntegrityError(
                "downloaded data does not match the MD5 ETag S3 stored (corrupted in transit)", provider="aws"
            )
