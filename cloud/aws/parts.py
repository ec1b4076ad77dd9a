"""S3's primitives for the transfer engine's uploads in parts: a multipart upload whose
parts are bytes (UploadPart) or ranges of another object (UploadPartCopy)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cloud.common.models import ObjectMetadata
from cloud.common.types import ProgressCallback

from .transfer import checksum_params, request_body

if TYPE_CHECKING:
    from .client import S3Client

__all__ = ["MultipartCopy", "MultipartUpload"]


class MultipartUpload:
    """One S3 multipart upload, as the transfer engine drives it."""

    def __init__(
        self,
        client: S3Client,
        operation: str,
        bucket: str,
        key: str,
        upload_id: str,
        conditions: Mapping[str, str],
        progress: ProgressCallback | None,
    ) -> None:
        self.client = client
        self.operation = operation
        self.bucket = bucket
        self.key = key
        self.upload_id = upload_id
        self.conditions = conditions
        self.progress = progress

    async def send_part(self, number: int, data: bytes) -> dict[str, Any]:
        """UploadPart with the part's checksum; S3's answer is checked against it."""
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self.key,
            "UploadId": self.upload_id,
            "PartNumber": number,
            "Body": request_body(data),
            "ContentLength": len(data),
            **(await checksum_params(self.client._checksum, data)),
        }
        response = await self.client._request(self.operation, "upload_part", params)
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


class MultipartCopy(MultipartUpload):
    """A multipart upload whose parts are ranges of another object (UploadPartCopy)."""

    def __init__(
        self, client: S3Client, operation: str, bucket: str, key: str, upload_id: str, source: ObjectMetadata
    ) -> None:
        super().__init__(client, operation, bucket, key, upload_id, {}, None)
        self.source = source

    async def send_part(self, number: int, span: tuple[int, int]) -> dict[str, Any]:  # type: ignore[override]
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
