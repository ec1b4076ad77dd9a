"""One JSON-API listing page: its body decoded (:func:`decode_page`) and its objects as
:class:`ObjectMetadata` in one loop (:func:`read_page`).

A listing page holds up to thousands of object resources (the GCS emulator answers a whole
listing in one page); each becomes an ``ObjectMetadata`` with the same values as
``cloud.gcp.client``'s conversion of a single resource gives, with its usual time
(``...Z``) read in one C call and no function call per item besides the constructor.

With msgspec installed (the ``gcp`` extra) the page is decoded into structs holding only
the fields read here, so the many unused fields of each resource are never built; a page
msgspec does not take (a field of another type, or malformed JSON) goes through the
generic path, :func:`cloud.common.jsonbody.loads` and :func:`read_items`, which decides
what it is worth exactly as before.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from cloud.common.enums import CloudProvider
from cloud.common.files import DEFAULT_CONTENT_TYPE
from cloud.common.jsonbody import loads
from cloud.common.models import ObjectMetadata

__all__ = ["decode_page", "read_items", "read_page"]

_UTC = timezone.utc
# Python 3.11's fromisoformat reads a trailing "Z" (as UTC) and any fraction length.
_ISO_Z = sys.version_info >= (3, 11)

TimeParser = Callable[[Any], "datetime | None"]


@functools.cache
def _struct_decoder() -> Callable[[bytes], Any] | None:
    """msgspec's decoder of a listing page into structs, made on first use (``import
    cloud.gcp`` stays light); ``None`` without msgspec."""
    try:
        import msgspec
    except ImportError:
        return None

    # Built with defstruct: this module's annotations are strings, which msgspec could not
    # resolve for classes local to a function.
    optional = str | None
    item = msgspec.defstruct(
        "ListedObject",
        [
            ("name", str, ""),
            ("bucket", optional, None),
            ("size", int | str | None, None),
            ("etag", optional, None),
            ("md5_hash", optional, None),
            ("content_type", optional, None),
            ("updated", optional, None),
            ("time_created", optional, None),
            ("metadata", dict[str, Any] | None, None),
        ],
        rename="camel",
        gc=False,
    )
    listing = msgspec.defstruct(
        "ListingPage",
        [
            ("items", list[item] | None, None),  # type: ignore[valid-type]
            ("prefixes", list[str] | None, None),
            ("next_page_token", optional, None),
        ],
        rename="camel",
        gc=False,
    )
    decode: Callable[[bytes], Any] = msgspec.json.Decoder(listing).decode
    return decode


def decode_page(body: bytes) -> Any:
    """A listing answer, for :func:`read_page`: its structs, or its JSON object when msgspec
    is missing or does not take the page; ``json.JSONDecodeError`` for a body that is not a
    JSON object (cut short, corrupted, empty or another JSON value)."""
    decode = _struct_decoder()
    if decode is not None:
        try:
            return decode(body)
        except ValueError:  # msgspec.DecodeError and ValidationError: judged below
            pass
    data = loads(body)
    if not isinstance(data, dict):
        raise json.JSONDecodeError("a listing answer is not a JSON object", "", 0)
    return data


def read_page(page: Any, bucket: str, parse_time: TimeParser) -> tuple[list[ObjectMetadata], list[Any], Any]:
    """A page from :func:`decode_page` as its objects, its common prefixes and its
    ``nextPageToken``; ``json.JSONDecodeError`` for a page that is no listing (``items``
    not a list of object resources, ``prefixes`` not a list, a size that is no number)."""
    try:
        if isinstance(page, dict):
            prefixes = page.get("prefixes") or []
            if not isinstance(prefixes, list):
                raise TypeError("prefixes is not a list")
            return read_items(page.get("items") or [], bucket, parse_time), prefixes, page.get("nextPageToken")
        return _read_structs(page.items or [], bucket, parse_time), page.prefixes or [], page.next_page_token
    except (TypeError, ValueError, AttributeError) as exc:
        raise json.JSONDecodeError(f"a listing answer is not a listing ({type(exc).__name__})", "", 0) from exc


def _read_structs(items: list[Any], bucket: str, parse_time: TimeParser) -> list[ObjectMetadata]:
    """:func:`read_items` for the decoded structs (the same values, field by field)."""
    fromiso = datetime.fromisoformat
    gcp = CloudProvider.GCP
    default_type = DEFAULT_CONTENT_TYPE
    out: list[ObjectMetadata] = []
    append = out.append
    for item in items:
        size = item.size
        etag = item.etag or item.md5_hash
        user = item.metadata
        stamp = item.updated or item.time_created
        modified: datetime | None = None
        if _ISO_Z and stamp and stamp[-1] == "Z":
            try:
                modified = fromiso(stamp)
            except ValueError:
                pass
            if modified is not None and modified.tzinfo is not _UTC:
                modified = None
        if modified is None:
            modified = parse_time(stamp)
        append(
            ObjectMetadata(
                item.name,
                item.bucket or bucket,
                int(size) if size else 0,
                etag.strip('"') if etag else None,
                item.content_type or default_type,
                modified,
                {k.lower(): str(v) for k, v in user.items() if v is not None} if user else {},
                gcp,
            )
        )
    return out


def read_items(resources: Iterable[Mapping[str, Any]], bucket: str, parse_time: TimeParser) -> list[ObjectMetadata]:
    """Each object resource as the client's single-resource conversion gives it;
    ``parse_time`` reads every time the fast path does not."""
    fromiso = datetime.fromisoformat
    gcp = CloudProvider.GCP
    default_type = DEFAULT_CONTENT_TYPE
    out: list[ObjectMetadata] = []
    append = out.append
    for resource in resources:
        get = resource.get
        name = get("name", "")
        size = get("size")
        etag = get("etag") or get("md5Hash")
        user = get("metadata")
        stamp = get("updated") or get("timeCreated")
        modified: datetime | None = None
        if _ISO_Z and type(stamp) is str and stamp[-1:] == "Z":
            try:
                modified = fromiso(stamp)
            except ValueError:
                pass
            if modified is not None and modified.tzinfo is not _UTC:
                modified = None
        if modified is None:
            modified = parse_time(stamp)
        append(
            ObjectMetadata(
                name if type(name) is str else str(name),
                get("bucket") or bucket,
                int(size) if size else 0,
                (etag.strip('"') if type(etag) is str else str(etag).strip('"')) if etag else None,
                get("contentType") or default_type,
                modified,
                {str(k).lower(): str(v) for k, v in user.items() if v is not None} if user else {},
                gcp,
            )
        )
    return out
