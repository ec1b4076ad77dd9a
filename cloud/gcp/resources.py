"""JSON-API resources as models: an object resource as :class:`ObjectMetadata`, GCS's
RFC 3339 times, a listing's common prefix as its entry."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from cloud.common.enums import CloudProvider
from cloud.common.files import DEFAULT_CONTENT_TYPE
from cloud.common.models import ObjectMetadata

__all__ = ["object_metadata", "parse_time", "prefix_entry"]

_TIME_FRACTION = re.compile(r"\.(\d+)")


_UTC = timezone.utc


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time as GCS writes it (``2024-05-01T12:34:56.789Z``), in UTC."""
    if not isinstance(value, str) or not value:
        return None
    try:
        # The usual form in one C call.  Python 3.10's fromisoformat takes no "Z" and only
        # 3 or 6 fraction digits; anything else goes through the fix-up below.
        parsed = datetime.fromisoformat(value[:-1] + "+00:00" if value[-1] in "Zz" else value)
    except ValueError:
        text = value.replace("Z", "+00:00").replace("z", "+00:00")
        text = _TIME_FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
    tz = parsed.tzinfo
    if tz is _UTC:
        return parsed
    return parsed.replace(tzinfo=_UTC) if tz is None else parsed.astimezone(_UTC)


def object_metadata(resource: Mapping[str, Any], bucket: str) -> ObjectMetadata:
    """One JSON-API object resource as :class:`ObjectMetadata` (called per listed item:
    kept to plain lookups, and positional arguments, ~0.7 µs cheaper than keywords)."""
    get = resource.get
    name = get("name", "")
    size = get("size")
    etag = get("etag") or get("md5Hash")
    user = get("metadata")
    return ObjectMetadata(
        name if type(name) is str else str(name),
        get("bucket") or bucket,
        int(size) if size else 0,
        (etag.strip('"') if type(etag) is str else str(etag).strip('"')) if etag else None,
        get("contentType") or DEFAULT_CONTENT_TYPE,
        parse_time(get("updated") or get("timeCreated")),
        {str(k).lower(): str(v) for k, v in user.items() if v is not None} if user else {},
        CloudProvider.GCP,
    )


def prefix_entry(prefix: str, bucket: str) -> ObjectMetadata:
    """A common prefix of a delimited listing, as the entry that stands for it."""
    return ObjectMetadata(
        name=prefix,
        bucket=bucket,
        size=0,
        etag=None,
        content_type=None,
        last_modified=None,
        provider=CloudProvider.GCP,
        is_prefix=True,
    )
