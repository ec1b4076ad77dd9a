"""One page of a blob listing, read from the List Blobs XML directly.

azure-storage-blob turns each listed blob into a generated model (a generic, attribute-map
driven deserializer: a key extraction per model attribute) and then into a ``BlobProperties``.  A
listing needs five of those fields, so :func:`list_page` sends the SDK's own request
through the container client's pipeline (same policies: auth, retries off, headers) and
reads those fields from the XML tree the pipeline already parsed.  Errors are raised as the
SDK raises them, and a page holding anything this walk does not read as the SDK would is
handed to the SDK's deserializer, from the same response.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote
from xml.etree.ElementTree import Element

from cloud.common.enums import CloudProvider
from cloud.common.models import ObjectMetadata, utc_datetime

__all__ = ["list_page", "parse_blob_time", "read_page"]

Meta = Callable[[str, str, Any], ObjectMetadata]
"""The client's ``_meta(bucket, name, BlobProperties)``, for pages the SDK deserializes."""

_AZURE = CloudProvider.AZURE
_UTC = timezone.utc
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_ERROR_MAP: dict[int, str] = {
    401: "ClientAuthenticationError",
    404: "ResourceNotFoundError",
    409: "ResourceExistsError",
    304: "ResourceNotModifiedError",
}


class _Unexpected(Exception):
    """The page holds something the direct walk does not read as the SDK would."""


def parse_blob_time(text: str) -> datetime:
    """An RFC 1123 time as the SDK's deserializer gives it, in UTC (``Thu, 26 Nov 2026
    08:07:07 GMT`` read in a few C calls; other spellings through the SDK's parser)."""
    if text[-4:] == " GMT":
        try:
            _, day, month, year, clock, _ = text.split(" ")
            hour, minute, second = clock.split(":")
            if len(year) == 4:
                return datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=_UTC)
        except (ValueError, KeyError):
            pass  # an unusual spelling: the SDK's parser decides
    from azure.storage.blob._generated._utils.serialization import Deserializer  # loaded with the client

    deserialize_rfc: Callable[[str], Any] = Deserializer.deserialize_rfc
    parsed = utc_datetime(deserialize_rfc(text))
    if parsed is None:  # pragma: no cover - the SDK returns a datetime or raises
        raise ValueError(text)
    return parsed


def _name(node: Element) -> str:
    text = node.text
    if not text:
        raise _Unexpected  # the SDK's model keeps None for an empty name
    encoded = node.get("Encoded")
    if encoded is None or encoded == "false":
        return text
    if encoded == "true":
        return unquote(text)
    raise _Unexpected  # another spelling of a boolean: the SDK's reading decides


def _blob(node: Element, bucket: str) -> ObjectMetadata:
    name: str | None = None
    modified: datetime | None = None
    etag: str | None = None
    size = 0
    content_type: str | None = None
    user: dict[str, Any] = {}
    for child in node:
        tag = child.tag
        if tag == "Name":
            name = _name(child)
        elif tag == "Properties":
            for prop in child:
                key = prop.tag
                if key == "Last-Modified" or key == "Etag" or key == "Content-Length" or key == "Content-Type":
                    text = prop.text
                    if not text:
                        raise _Unexpected  # the SDK's reading of an empty value decides
                    if key == "Last-Modified":
                        modified = parse_blob_time(text)
                    elif key == "Etag":
                        etag = text.strip('"')
                    elif key == "Content-Length":
                        size = int(text)
                    else:
                        content_type = text
        elif tag == "Metadata":
            for entry in child:
                if entry.tag == "Encrypted" or len(entry):
                    raise _Unexpected
                user[entry.tag.lower()] = entry.text
    if name is None:
        raise _Unexpected
    return ObjectMetadata(name, bucket, size, etag, content_type, modified, user, _AZURE)


def _prefix(name: str, bucket: str) -> ObjectMetadata:
    return ObjectMetadata(name, bucket, 0, None, None, None, {}, _AZURE, True)


def read_page(root: Element, bucket: str) -> tuple[list[ObjectMetadata], str | None] | None:
    """The entries (blobs and common prefixes, in the service's order) and the next marker
    of a List Blobs response body, or ``None`` when it holds anything this walk does not
    read as the SDK would (the caller then uses the SDK's deserializer)."""
    items: list[ObjectMetadata] = []
    next_marker: str | None = None
    try:
        for child in root:
            tag = child.tag
            if tag == "Blobs":
                for entry in child:
                    if entry.tag == "Blob":
                        items.append(_blob(entry, bucket))
                    elif entry.tag == "BlobPrefix":
                        names = [_name(sub) for sub in entry if sub.tag == "Name"]
                        if len(names) != 1:
                            raise _Unexpected
                        items.append(_prefix(names[0], bucket))
                    else:
                        raise _Unexpected
            elif tag == "NextMarker":
                next_marker = child.text or None
    except (_Unexpected, ValueError):
        return None
    return items, next_marker


def _sdk_page(
    ops: Any, pipeline_response: Any, bucket: str, hierarchy: bool, meta: Meta
) -> tuple[list[ObjectMetadata], str | None]:
    """The page as the SDK's pagers read it (its deserializer, its name decoding)."""
    from azure.storage.blob._deserialize import get_blob_properties_from_generated_code

    model = "ListBlobsHierarchySegmentResponse" if hierarchy else "ListBlobsFlatSegmentResponse"
    response = ops._deserialize(model, pipeline_response.http_response)
    items: list[ObjectMetadata] = []
    segment = response.segment
    for prefix in getattr(segment, "blob_prefixes", None) or []:
        content = prefix.name.content
        items.append(_prefix(str(unquote(content) if prefix.name.encoded else content), bucket))
    for generated in segment.blob_items:
        blob = get_blob_properties_from_generated_code(generated)
        items.append(meta(bucket, str(blob.name) if hierarchy else blob.name, blob))
    return items, response.next_marker or None


def _raise_sdk_error(ops: Any, pipeline_response: Any) -> None:
    """Raise what the SDK's listing raises for an error response."""
    import azure.core.exceptions as core_errors
    from azure.core.exceptions import HttpResponseError, map_error
    from azure.storage.blob._generated import models
    from azure.storage.blob._shared.response_handlers import process_storage_error

    response = pipeline_response.http_response
    error_map = {status: getattr(core_errors, name) for status, name in _ERROR_MAP.items()}
    try:
        map_error(status_code=response.status_code, response=response, error_map=error_map)
        error = ops._deserialize.failsafe_deserialize(models.StorageError, pipeline_response)
        raise HttpResponseError(response=response, model=error)
    except HttpResponseError as exc:
        process_storage_error(exc)


async def list_page(
    container: Any,
    bucket: str,
    *,
    prefix: str | None,
    delimiter: str | None,
    page_size: int | None,
    marker: str | None,
    meta: Meta,
) -> tuple[list[ObjectMetadata], str | None]:
    """One page of ``container.list_blobs`` (``walk_blobs`` when ``delimiter``) with user
    metadata, from ``marker``: its entries in the service's order and the next marker."""
    from azure.core.pipeline.policies import ContentDecodePolicy
    from azure.storage.blob._generated.operations import _container_operations as built

    ops = container._client.container
    common: dict[str, Any] = {
        "version": ops._config.version,
        "prefix": prefix,
        "marker": marker,
        "maxresults": page_size,
        "include": ["metadata"],
    }
    if delimiter is None:
        request = built.build_list_blob_flat_segment_request(url=ops._config.url, **common)
    else:
        request = built.build_list_blob_hierarchy_segment_request(url=ops._config.url, delimiter=delimiter, **common)
    request.url = ops._client.format_url(request.url)
    pipeline_response = await ops._client._pipeline.run(request, stream=False, use_location=None)
    if pipeline_response.http_response.status_code != 200:
        _raise_sdk_error(ops, pipeline_response)
    root = pipeline_response.context.get(ContentDecodePolicy.CONTEXT_NAME)
    page = read_page(root, bucket) if isinstance(root, Element) else None
    if page is not None:
        return page
    return _sdk_page(ops, pipeline_response, bucket, delimiter is not None, meta)
