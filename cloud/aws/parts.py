"""S3's primitives for the transfer engine's uploads in parts: a multipart upload whose
parts are bytes (UploadPart) or ranges of another object (UploadPartCopy)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from cloud.common.models import ObjectMetadata
from cloud.common.types import ProgressCallback

from .transfer import BytesBody, checksum_params, request_body

if TYPE_CHECKING:
    from .client import S3Client

__all__ = ["Loaded", "MultipartCopy", "MultipartUpload", "load_bytes"]

X = TypeVar("X")
Loaded = tuple[bytes | memoryview, dict[str, str]]
"""A part's content and the checksum parameters that make S3 verify it."""


async def load_bytes(kind: Any, data: bytes) -> Loaded:
    """A part already in memory, with its checksum parameters."""
    return data, await checksum_params(kind, data)


class MultipartUpload(Generic[X]):
    """One S3 multipart upload, as the transfer engine drives it.  Each item becomes a part
    through ``load`` (its content and checksum parameters: a part in memory, or a block of
    a file read and digested in one worker-thread call); ``release`` gets the content back
    once the part's request has ended (sent, or failed for good)."""

    def __init__(
        self,
        client: S3Client,
        operation: str,
        bucket: str,
        key: str,
        upload_id: str,
        conditions: Mapping[str, str],
        progress: ProgressCallback | None,
        load: Callable[[X], Awaitable[Loaded]] | None = None,
        release: Callable[[memoryview], None] | None = None,
    ) -> None:
        self.client = client
        self.operation = operation
        self.bucket = bucket
        self.key = key
        self.upload_id = upload_id
        self.conditions = conditions
        self.progress = progress
        self.load = load
        self.release = release

    async def send_part(self, number: int, item: X) -> dict[str, Any]:
        """UploadPart with the part's checksum; S3's answer is checked against it."""
        if self.load is not None:
            data, checksum = await self.load(item)
        else:
            assert isinstance(item, bytes)
            data, checksum = await load_bytes(self.client._checksum, item)
        try:
            params: dict[str, Any] = {
                "Bucket": self.bucket,
                "Key": self.key,
                "UploadId": self.upload_id,
                "PartNumber": number,
                "Body": request_body(data) if isinstance(data, bytes) else BytesBody(data),
                "ContentLength": len(data),
                **checksum,
            }
            response = await self.client._request(self.operation, "upload_part", params)
        finally:
            if self.release is not None and isinstance(data, memoryview):
                self.release(data)
        part: dict[str, Any] = {"PartNumber": number, "ETag": response["ETag"]}
        if "ChecksumCRC32" in params:
            part["ChecksumCRC32"] = response.get("ChecksumCRC32") or params["ChecksumCRC32"]
        self.client.stats.add_sent(len(data))
        if self.progress is not None:
            self.progress(len(data))
        return part

    async def commit(self, parts: list[dict[str, Any]]) -> dict[str, Any]:
        """CompleteMultipartUpload (not retried when it carries a condition)."""
        complete: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self.key,
            "UploadId": self.upload_id,
            "MultipartUpload": {"Parts": parts},
            **self.conditions,
        }
        return await self.client._request(
            self.operation, "complete_multipart_upload", complete, idempotent=not self.conditions
        )

    async def abort(self) -> None:
        """AbortMultipartUpload, best effort."""
        await self.client._abort_upload(self.bucket, self.key, self.upload_id)


class MultipartCopy(MultipartUpload[tuple[int, int]]):
    """A multipart upload whose parts are ranges of another object (UploadPartCopy)."""

    def __init__(
        self, client: S3Client, operation: str, bucket: str, key: str, upload_id: str, source: ObjectMetadata
    ) -> None:
        super().__init__(client, operation, bucket, key, upload_id, {}, None)
        self.source = source

    async def send_part(self, number: int, span: tuple[int, int]) -> dict[str, Any]:
        """UploadPartCopy of ``span`` (offset, length), pinned to the source's ETag."""
        offset, length = span
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self.key,
            "UploadId": self.upload_id,
            "PartNumber": number,
            "CopySource": {"Bucket": self.source.bucket, "Key": self.source.name},
            "CopySourceRange": f"bytes={offset}-{offset + length - 1}",
        }
        if self.source.etag:
            params["CopySourceIfMatch"] = f'"{self.source.etag}"'
        response = await self.client._request(self.operation, "upload_part_copy", params)
        return {"PartNumber": number, "ETag": response["CopyPartResult"]["ETag"]}
