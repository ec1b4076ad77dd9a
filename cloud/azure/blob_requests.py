"""The client's four hot blob operations on the direct path (:mod:`cloud.azure.direct`):
Put Blob, Get Blob, Get Blob Properties and Delete Blob, each sent as the SDK sends it and
answered as the SDK answers (the same results, the same exceptions)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from cloud.common.enums import CloudProvider
from cloud.common.models import ObjectMetadata, plain_etag, utc_datetime

from .direct import DirectBlobs, DirectStream, metadata_of, raise_answer, read_loaded

if TYPE_CHECKING:
    from azure.storage.blob.aio import BlobClient

__all__ = [
    "UNSATISFIABLE",
    "answer_metadata",
    "blob_names",
    "delete_blob",
    "get_blob",
    "head_blob",
    "put_blob",
    "rfc1123",
]


def rfc1123(value: str | None) -> datetime | None:
    """An HTTP date as the SDK's deserializer reads it (its error when it is not one)."""
    if value is None:
        return None
    from email.utils import parsedate_tz

    parsed = parsedate_tz(value)
    if parsed is None:
        from azure.core.exceptions import DeserializationError

        raise DeserializationError(f"Cannot deserialize datetime object: {value[:40]!r}")
    return datetime(*parsed[:6], tzinfo=timezone(timedelta(seconds=parsed[9] or 0)))


def blob_names(blob: BlobClient) -> tuple[str, str]:
    """A blob client's (container, blob) names."""
    return blob.container_name, blob.blob_name


async def put_blob(
    direct: DirectBlobs,
    bucket: str,
    name: str,
    data: bytes,
    md5: bytes,
    content_type: str,
    metadata: dict[str, str],
) -> dict[str, Any] | None:
    """One Put Blob with the headers the SDK's ``upload_blob`` sends for it; the answer's
    headers as the SDK returns them (the keys the client reads), or ``None`` for a bearer
    challenge, which the SDK path answers instead."""
    digest = base64.b64encode(md5).decode("ascii")
    # The SDK's add_metadata_headers: keys and values stripped.
    headers = {f"x-ms-meta-{k.strip()}": v.strip() if v else v for k, v in metadata.items()}
    headers["x-ms-blob-type"] = "BlockBlob"
    headers["Content-Length"] = str(len(data))
    headers["Content-MD5"] = digest
    if content_type is not None:
        headers["x-ms-blob-content-type"] = content_type
    headers["x-ms-blob-content-md5"] = digest
    headers["Content-Type"] = "application/octet-stream"
    url = direct.url(bucket, name)
    answer = await direct.send("PUT", url, headers, data)
    got = answer.headers
    if answer.status != 201:
        if direct.needs_sdk(answer.response):
            return None
        await raise_answer("PUT", url, headers, answer.response, storage_error=True)
    sent_md5 = got.get("Content-MD5")
    return {
        "etag": got.get("ETag"),
        "last_modified": rfc1123(got.get("Last-Modified")),
        "content_md5": bytearray(base64.b64decode(sent_md5)) if sent_md5 else None,
        "client_request_id": got.get("x-ms-client-request-id"),
        "request_id": got.get("x-ms-request-id"),
        "version": got.get("x-ms-version"),
        "version_id": got.get("x-ms-version-id"),
    }


async def get_blob(
    direct: DirectBlobs,
    blob: BlobClient,
    byte_range: str | None,
    validate: bool,
    etag: str | None,
    *,
    whole: bool = False,
) -> Any:
    """One Get Blob as ``_fetch`` sends it through the SDK: a :class:`DirectStream` whose
    body is still to be read, ``UNSATISFIABLE`` for a 416 to a ranged read (the caller
    decides), or ``None`` for a redirect or a bearer challenge, which the SDK path follows
    instead."""
    headers: dict[str, str] = {}
    if byte_range is not None:
        headers["x-ms-range"] = byte_range
    if validate:
        headers["x-ms-range-get-content-md5"] = "true"
    if etag is not None:
        headers["If-Match"] = etag
    url = direct.url(*blob_names(blob))
    response = await direct.open("GET", url, headers)
    status = response.status
    if status == 200 or status == 206:
        return DirectStream(response)
    await read_loaded(response)
    if 300 <= status < 400 or direct.needs_sdk(response):
        return None
    if status == 416 and not whole:
        return UNSATISFIABLE
    # The generated operation ``_fetch`` calls raises without process_storage_error.
    await raise_answer("GET", url, headers, response, storage_error=False)


UNSATISFIABLE = object()
"""What :func:`get_blob` returns for a 416 to a ranged read (the caller decides)."""


async def head_blob(direct: DirectBlobs, bucket: str, name: str) -> ObjectMetadata | None:
    """Get Blob Properties, read into the metadata ``_meta`` makes of the SDK's
    ``BlobProperties`` (``None`` for a redirect or a bearer challenge: the SDK path
    follows it)."""
    url = direct.url(bucket, name)
    sent: dict[str, str] = {}
    answer = await direct.send("HEAD", url, sent)
    status, headers = answer.status, answer.headers
    if 300 <= status < 400 or direct.needs_sdk(answer.response):
        return None
    if status != 200:
        await raise_answer("HEAD", url, sent, answer.response, storage_error=True)
    length = headers.get("Content-Length")
    try:
        size = int(length) if length is not None else 0
    except ValueError as exc:
        from azure.core.exceptions import DeserializationError

        raise DeserializationError(f"Content-Length is not a number: {str(length)[:40]!r}") from exc
    return answer_metadata(bucket, name, headers, size)


def answer_metadata(bucket: str, name: str, headers: Mapping[str, str], size: int) -> ObjectMetadata:
    """The metadata ``_meta`` makes of the ``BlobProperties`` the SDK reads from a Get Blob
    or Get Blob Properties answer's headers (``size`` the caller's)."""
    user = metadata_of(headers)
    return ObjectMetadata(
        name,
        bucket,
        size,
        plain_etag(headers.get("ETag")),
        headers.get("Content-Type"),
        utc_datetime(rfc1123(headers.get("Last-Modified"))),
        {k.lower(): v for k, v in user.items()} if user else {},
        CloudProvider.AZURE,
    )


async def delete_blob(direct: DirectBlobs, bucket: str, name: str) -> bool:
    """Delete Blob with its snapshots, raising what the SDK's ``delete_blob`` raises (the
    caller decides about a missing blob, on both paths alike); ``False`` for a bearer
    challenge, which the SDK path answers instead."""
    url = direct.url(bucket, name)
    sent = {"x-ms-delete-snapshots": "include"}
    answer = await direct.send("DELETE", url, sent)
    if answer.status == 202:
        return True
    if direct.needs_sdk(answer.response):
        return False
    await raise_answer("DELETE", url, sent, answer.response, storage_error=True)
