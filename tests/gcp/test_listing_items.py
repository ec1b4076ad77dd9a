"""The one-loop listing conversion (cloud.gcp.listing) against the client's per-resource
conversion, on real emulator pages with hostile names and on edge-case resources: the
ObjectMetadata must be equal, field for field, with the same time instants."""

from __future__ import annotations

from typing import Any

import pytest

from cloud.gcp import GCSClient
from cloud.gcp.client import _object_metadata, _parse_time
from cloud.gcp.listing import read_items

HOSTILE = {
    "plain/a.txt": ("text/plain", {}),
    "unicode/ünïcødé ✓ 日本語.txt": ("text/plain; charset=utf-8", {"Key": "value"}),
    "json/a&b<c>d\"e'f.txt": ('application/x-<odd>&"', {"amp": "a&b<c>\"'"}),
    "pct/%41%2F not decoded+plus.txt": ("text/plain", {}),
    "space/ leading and trailing .txt ": ("text/plain", {"empty": ""}),
    "space/tab\there": ("text/plain", {}),
    "emoji/\U0001f600/x": ("image/png", {"a": "1", "B": "2"}),
    "deep/a/b/c/d.txt": ("application/octet-stream", {}),
}


def _single(resources: list[dict[str, Any]], bucket: str) -> list[Any]:
    return [_object_metadata(r, bucket) for r in resources]


async def test_real_pages_convert_as_the_client_converts_one_resource(gcs: GCSClient, bucket: str) -> None:
    for i, (name, (content_type, metadata)) in enumerate(HOSTILE.items()):
        await gcs.put_bytes(bucket, name, b"x" * i, content_type=content_type, metadata=metadata)
    storage = await gcs._open()
    resources: list[dict[str, Any]] = []
    token = None
    while True:
        params = {"maxResults": "3", **({"pageToken": token} if token else {})}
        page = await storage.list_objects(bucket, params=params)
        resources += page.get("items") or []
        token = page.get("nextPageToken")
        if not token:
            break
    assert len(resources) == len(HOSTILE)
    ours = read_items(resources, bucket, _parse_time)
    assert ours == _single(resources, bucket)
    for meta in ours:
        assert meta.last_modified is not None and meta.last_modified.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
        assert meta.content_type == HOSTILE[meta.name][0]
    listed = [m async for m in gcs.iter_objects(bucket, page_size=2)]
    assert listed == sorted(ours, key=lambda m: m.name)
    walked = [m async for m in gcs.iter_objects(bucket, delimiter="/", prefix="space/")]
    assert [m.name for m in walked] == sorted(n for n in HOSTILE if n.startswith("space/"))
    assert walked == [m for m in listed if m.name.startswith("space/")]


TIMES = [
    "2026-11-26T08:07:07.123Z",
    "2026-11-26T08:07:07Z",
    "2026-11-26T08:07:07.123456Z",
    "2026-11-26T08:07:07.123456789Z",  # nanoseconds: the client's fix-up
    "2026-11-26T08:07:07.1Z",
    "2026-11-26T08:07:07.123z",
    "2026-11-26T09:07:07.123+01:00",
    "2026-11-26T08:07:07",
    "2026-11-26",
    "not a time",
    "Z",
    "",
    None,
    12,
]


@pytest.mark.parametrize("stamp", TIMES)
def test_times_are_the_clients_instants(stamp: Any) -> None:
    resources = [{"name": "n", "updated": stamp}, {"name": "n", "timeCreated": stamp}]
    ours, theirs = read_items(resources, "b", _parse_time), _single(resources, "b")
    assert ours == theirs
    for a, b in zip(ours, theirs, strict=True):
        assert (a.last_modified is None) == (b.last_modified is None)
        if a.last_modified is not None and b.last_modified is not None:
            assert a.last_modified.utcoffset() == b.last_modified.utcoffset()


EDGES: list[dict[str, Any]] = [
    {},
    {"name": 7, "size": 12, "etag": 5},
    {"name": "n", "size": "0", "md5Hash": "abc=="},
    {"name": "n", "size": "", "etag": '"quoted"', "md5Hash": "ignored"},
    {"name": "n", "etag": "", "md5Hash": "m"},
    {"name": "n", "bucket": "other", "contentType": ""},
    {"name": "n", "metadata": {"K": "V", "none": None, 3: 4}},
    {"name": "n", "metadata": {}},
    {"name": "n", "updated": "", "timeCreated": "2026-11-26T08:07:07.123Z"},
]


def test_edge_resources_convert_as_the_client_converts_them() -> None:
    assert read_items(EDGES, "b", _parse_time) == _single(EDGES, "b")
