"""The one-loop listing conversion (cloud.gcp.listing) against the client's per-resource
conversion, on real emulator pages with hostile names and on edge-case resources: the
ObjectMetadata must be equal, field for field, with the same time instants; through
msgspec's structs and through the generic path (no msgspec, or a page msgspec does not
take) alike."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from cloud.common.exceptions import NotFoundError, ServerError, TransportError
from cloud.gcp import GCSClient, listing
from cloud.gcp.listing import decode_page, read_items, read_page
from cloud.gcp.resources import object_metadata as _object_metadata
from cloud.gcp.resources import parse_time as _parse_time
from cloud.gcp.resources import prefix_entry as _prefix_entry
from tests.emulators import Emulator
from tests.faults.proxy import Fault, FaultProxy, FlipResponse, Reset, Status, Truncate
from tests.gcp.conftest import fast_retry, new_bucket_name

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


@pytest.fixture(params=["msgspec", "generic"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each listing test through msgspec's structs and through the generic path (as
    without msgspec installed)."""
    if request.param == "generic":
        monkeypatch.setattr(listing, "_struct_decoder", lambda: None)
    else:
        assert listing._struct_decoder() is not None, "msgspec is not installed"
    return str(request.param)


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


async def _gcloud_aio_listing(
    gcs: GCSClient, bucket: str, prefix: str, delimiter: str | None, page_size: int | None
) -> list[Any]:
    """The same listing through gcloud-aio's own ``list_objects`` pages (stdlib JSON)."""
    storage = await gcs._open()
    out: list[Any] = []
    token = None
    while True:
        params = {"maxResults": str(page_size or 1000)}
        if prefix:
            params["prefix"] = prefix
        if delimiter:
            params["delimiter"] = delimiter
        if token:
            params["pageToken"] = token
        page = await storage.list_objects(bucket, params=params)
        out += _single(page.get("items") or [], bucket)
        out += [_prefix_entry(p, bucket) for p in page.get("prefixes") or []]
        token = page.get("nextPageToken")
        if not token:
            return sorted(out, key=lambda m: m.name)


@pytest.mark.parametrize(
    ("prefix", "delimiter", "page_size"),
    [
        ("", None, None),
        ("", None, 3),
        ("", "/", 2),
        ("space/", "/", 1),
        ("unicode/ü", None, None),
        ("json/a&b", "/", 1),
    ],
)
async def test_listing_equals_gcloud_aios_list_objects(
    gcs: GCSClient, bucket: str, prefix: str, delimiter: str | None, page_size: int | None, decoder: str
) -> None:
    for i, (name, (content_type, metadata)) in enumerate(HOSTILE.items()):
        await gcs.put_bytes(bucket, name, b"x" * i, content_type=content_type, metadata=metadata)
    ours = [m async for m in gcs.iter_objects(bucket, prefix, delimiter=delimiter, page_size=page_size)]
    theirs = await _gcloud_aio_listing(gcs, bucket, prefix, delimiter, page_size)
    assert ours == theirs
    assert ours, "the case lists nothing"


async def test_listing_a_missing_bucket_is_not_found(gcs: GCSClient) -> None:
    with pytest.raises(NotFoundError):
        [m async for m in gcs.iter_objects(new_bucket_name())]


@pytest.mark.parametrize(
    "body", [b"", b"{", b'{"items": [', b"[]", b"null", b'"x"', b'\x84"items": []}', b'{"items": []} x', b"NaN"]
)
def test_a_body_that_is_no_listing_object_is_a_decode_error(body: bytes, decoder: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        decode_page(body)


NOT_LISTINGS = [
    b'{"items": 5}',
    b'{"items": "abc"}',
    b'{"items": [1]}',
    b'{"items": [[]]}',
    b'{"items": [{"name": "n", "size": "abc"}]}',
    b'{"items": [{"name": "n", "size": {"a": 1}}]}',
    b'{"items": [{"name": "n", "metadata": [1]}]}',
    b'{"items": [{"name": "n", "metadata": "k"}]}',
    b'{"prefixes": "p/"}',
    b'{"prefixes": 3}',
]


@pytest.mark.parametrize("body", NOT_LISTINGS)
def test_a_json_object_that_is_no_listing_is_a_decode_error(body: bytes, decoder: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        read_page(decode_page(body), "b", _parse_time)


def _generic(body: bytes) -> tuple[list[Any], list[Any], Any]:
    data = json.loads(body)
    return _single(data.get("items") or [], "b"), data.get("prefixes") or [], data.get("nextPageToken")


# Pages msgspec's structs take: every field of the type GCS sends, or absent, or null.
TYPED: list[dict[str, Any]] = [
    {},
    {"items": None, "prefixes": None, "nextPageToken": None},
    {"items": [], "prefixes": ["a/", "b/"], "nextPageToken": "tok", "kind": "storage#objects"},
    {"items": [{}], "nextPageToken": ""},
    {
        "items": [
            {"name": "n", "size": 12},
            {"name": "n", "size": "12"},
            {"name": "n", "size": 0},
            {"name": "n", "size": 2**53 + 1},
        ]
    },
    {"items": [{"name": "n", "size": "0", "md5Hash": "abc=="}, {"name": "n", "size": "", "etag": '"q"'}]},
    {"items": [{"name": "n", "etag": "", "md5Hash": "m"}, {"name": "n", "etag": None, "md5Hash": None}]},
    {"items": [{"name": "n", "bucket": "other", "contentType": ""}, {"name": "n", "bucket": ""}]},
    {"items": [{"name": "n", "metadata": {"K": "V", "none": None, "n": 4, "f": 1.5, "t": True, "o": {"a": [1]}}}]},
    {"items": [{"name": "n", "metadata": {}}, {"name": "n", "metadata": None}]},
    {"items": [{"name": "n", "updated": t, "timeCreated": "2026-11-26T08:07:07.123Z"} for t in ("", None)]},
    {"items": [{"name": "n", "updated": t} for t in ("2026-11-26T08:07:07.123456789Z", "x", "Z", "2026-11-26")]},
    {"items": [{"name": 'ü ✓ \\ " \u0000', "selfLink": "x", "acl": [{"a": 1}], "owner": {"e": "x"}}]},
]
# Valid pages with a field of another type: the generic path converts them as before.
ODD: list[dict[str, Any]] = [
    {"items": [{"name": 7, "size": 12, "etag": 5}]},
    {"items": [{"name": None}]},
    {"items": [{"name": "n", "size": 1.5}, {"name": "n", "size": True}]},
    {"items": [{"name": "n", "etag": ["x"]}, {"name": "n", "md5Hash": 3}]},
    {"items": [{"name": "n", "contentType": 5, "bucket": 6}]},
    {"items": [{"name": "n", "updated": 12}]},
    {"items": [], "prefixes": [1, "a/"]},
    {"items": [], "nextPageToken": 5},
]


@pytest.mark.parametrize("page", TYPED + ODD, ids=lambda p: json.dumps(p)[:60])
def test_pages_read_as_the_client_converts_each_resource(page: dict[str, Any], decoder: str) -> None:
    body = json.dumps(page).encode()
    decoded = decode_page(body)
    assert isinstance(decoded, dict) == (decoder == "generic" or page in ODD)
    ours = read_page(decoded, "b", _parse_time)
    assert ours == _generic(body)
    for a, b in zip(ours[0], _generic(body)[0], strict=True):
        assert (a.last_modified is None) == (b.last_modified is None)
        if a.last_modified is not None and b.last_modified is not None:
            assert a.last_modified.utcoffset() == b.last_modified.utcoffset()


@pytest.fixture
def faulty(gcs_emulator: Emulator) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the emulator (the listing is answered whole)."""
    proxy = FaultProxy(gcs_emulator.url).start()
    try:
        yield proxy
    finally:
        proxy.stop()


def _answer(body: bytes) -> Status:
    return Status(status=200, body=body, content_type="application/json")


LISTING = {"method": "GET", "path": r"/b/[^/]+/o$"}
NAMES = ["a", "b/ü ✓", "c&d"]
ONE_OFF: list[Fault] = [
    FlipResponse(offset=0),  # no longer JSON
    Truncate(response_bytes=20),  # cut short (Content-Length kept)
    Reset(response_bytes=20),
    Reset(before_response=True),
    Status(status=503, body=b'{"error": {"code": 503, "message": "busy"}}', content_type="application/json"),
]


@pytest.mark.parametrize(
    "fault", [*ONE_OFF, _answer(b'{"items": [{"name": "a", "size": "x"}]}')], ids=lambda f: repr(f)
)
async def test_a_one_off_listing_fault_is_retried(faulty: FaultProxy, fault: Fault, decoder: str) -> None:
    async with GCSClient(api_root=faulty.url, project="gcp-tests", retry=fast_retry()) as client:
        bucket = new_bucket_name()
        await client.ensure_bucket(bucket)
        for name in NAMES:
            await client.put_bytes(bucket, name, b"x")
        rule = faulty.add(fault, **LISTING)
        listed = [m.name async for m in client.iter_objects(bucket)]
        assert (rule.fired, rule.hits) == (1, 2)
        assert listed == NAMES
        assert client.stats.retries == 1
        faulty.clear()
        await client.delete_bucket(bucket, force=True)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (FlipResponse(offset=0), ServerError),
        (Truncate(response_bytes=20), TransportError),
        (_answer(b'{"items": 5}'), ServerError),
        (_answer(b'{"items": [{"name": "a", "size": "abc"}]}'), ServerError),
        (_answer(b'{"items": [{"name": "a", "metadata": [1]}]}'), ServerError),
    ],
    ids=["corrupt", "truncated", "items-not-a-list", "size-not-a-number", "metadata-not-an-object"],
)
async def test_a_persistent_listing_fault_is_a_typed_error(
    faulty: FaultProxy, fault: Fault, error: type[Exception], decoder: str
) -> None:
    async with GCSClient(api_root=faulty.url, project="gcp-tests", retry=fast_retry()) as client:
        bucket = new_bucket_name()
        await client.ensure_bucket(bucket)
        await client.put_bytes(bucket, "a", b"x")
        rule = faulty.add(fault, times=None, **LISTING)
        with pytest.raises(error) as info:
            [m async for m in client.iter_objects(bucket)]
        assert rule.hits == 4  # every attempt of fast_retry()
        assert isinstance(info.value, ServerError | TransportError) and info.value.retryable
        faulty.clear()
        await client.delete_bucket(bucket, force=True)


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
