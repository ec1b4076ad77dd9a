"""One JSON-API listing page: its body decoded (:func:`decode_page`, with orjson when
installed) and its objects as :class:`ObjectMetadata` in one loop (:func:`read_items`).

A listing page holds up to thousands of object resources (the GCS emulator answers a whole
listing in one page); each becomes an ``ObjectMetadata`` with the same values as
``cloud.gcp.client``'s conversion of a single resource gives, with its usual time
(``...Z``) read in one C call and no function call per item besides the constructor.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from cloud.common.enums import CloudProvider
from cloud.common.files import DEFAULT_CONTENT_TYPE
from cloud.common.jsonfast import loads
from cloud.common.models import ObjectMetadata

__all__ = ["decode_page", "read_items"]

_UTC = timezone.utc
# Python 3.11's fromisoformat reads a trailing "Z" (as UTC) and any fraction length.
_ISO_Z = sys.version_info >= (3, 11)


def decode_page(body: bytes) -> dict[str, Any]:
    """A listing answer's JSON object; ``json.JSONDecodeError`` for a body that is not one
    (cut short, corrupted, empty or another JSON value)."""
    data = loads(body)
    if not isinstance(data, dict):
        raise json.JSONDecodeError("a listing answer is not a JSON object", "", 0)
    return data


def read_items(
    resources: Iterable[Mapping[str, Any]], bucket: str, parse_time: Callable[[Any], datetime | None]
) -> list[ObjectMetadata]:
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
