"""The direct List Blobs walk (cloud.azure.listing) against the SDK's pagers, on real
Azurite pages with hostile names: the listed ObjectMetadata must be equal, field for field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timezone
from typing import Any
from xml.etree import ElementTree

import pytest

from cloud.azure import AzureBlobClient, listing
from cloud.common.exceptions import NotFoundError
from cloud.common.models import ObjectMetadata

HOSTILE = {
    "plain/a.txt": ("text/plain", {}),
    "unicode/ünïcødé ✓ 日本語.txt": ("text/plain; charset=utf-8", {"Key": "value ~!@#$%^*()"}),
    "xml/a&b<c>d\"e'f.txt": ('application/x-<odd>&"', {"amp": "a&b<c>\"'"}),
    "xml/&amp;literal&lt;.txt": ("application/octet-stream", {}),
    "pct/%41%2F not decoded.txt": ("text/plain", {}),
    "space/ leading and trailing .txt ": ("text/plain", {"empty": ""}),
    "space/tab\there": ("text/plain", {}),
    "space/new\nline": ("text/plain", {}),
    "emoji/\U0001f600/x": ("image/png", {"a": "1", "B": "2"}),
    "deep/a/b/c/d.txt": ("text/plain", {}),
}


@pytest.fixture
async def hostile(client: AzureBlobClient, container: str) -> AsyncIterator[tuple[AzureBlobClient, str]]:
    for i, (name, (content_type, metadata)) in enumerate(HOSTILE.items()):
        await client.put_bytes(container, name, b"x" * i, content_type=content_type, metadata=metadata)
    yield client, container


def _sdk_item(client: AzureBlobClient, bucket: str, item: Any) -> ObjectMetadata:
    """One entry of the SDK's pagers: a common prefix, or a blob through the client's
    per-blob conversion."""
    from azure.storage.blob.aio import BlobPrefix

    if isinstance(item, BlobPrefix):
        return ObjectMetadata(
            name=str(item.name),
            bucket=bucket,
            size=0,
            etag=None,
            content_type=None,
            last_modified=None,
            provider=client.provider,
            is_prefix=True,
        )
    return client._meta(bucket, str(item.name), item)


async def _sdk_listing(client: AzureBlobClient, bucket: str, **kwargs: Any) -> list[ObjectMetadata]:
    """What the SDK's own pagers give, through the client's per-blob conversion."""
    sdk = await client._container(bucket)
    delimiter, page_size, prefix = kwargs.get("delimiter"), kwargs.get("page_size"), kwargs.get("prefix") or None
    if delimiter is None:
        pages = sdk.list_blobs(name_starts_with=prefix, include=["metadata"], results_per_page=page_size).by_page()
    else:
        pages = sdk.walk_blobs(
            name_starts_with=prefix, include=["metadata"], delimiter=delimiter, results_per_page=page_size
        ).by_page()
    out: list[ObjectMetadata] = []
    async for page in pages:
        items = [_sdk_item(client, bucket, item) async for item in page]
        out += sorted(items, key=lambda m: m.name) if delimiter is not None else items
    return out


LISTINGS: list[dict[str, Any]] = [
    {"page_size": 3},
    {"delimiter": "/", "page_size": 2},
    {"prefix": "space/", "page_size": 1},
    {"delimiter": "/", "prefix": "emoji/"},
    {},
]


@pytest.mark.parametrize("kwargs", LISTINGS)
async def test_same_entries_as_the_sdk(
    hostile: tuple[AzureBlobClient, str], kwargs: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, bucket = hostile
    expected = await _sdk_listing(client, bucket, **kwargs)

    def no_fallback(*_: Any) -> Any:
        raise AssertionError("the page went to the SDK's deserializer")

    monkeypatch.setattr(listing, "_sdk_page", no_fallback)
    ours = [m async for m in client.iter_objects(bucket, **kwargs)]
    assert ours == expected
    assert len(ours) > 0
    for m in ours:
        assert (m.last_modified is None) == m.is_prefix
        assert m.last_modified is None or m.last_modified.tzinfo is timezone.utc
    blobs = {m.name: m for m in ours if not m.is_prefix}
    for name, meta in blobs.items():
        content_type, user = HOSTILE[name]
        assert meta.content_type == content_type
        # An empty value lists as None, as the SDK has always read it (kept identical).
        assert dict(meta.metadata) == {k.lower(): v or None for k, v in user.items()}


@pytest.mark.parametrize("kwargs", LISTINGS[:3])
async def test_the_sdk_fallback_gives_the_same_entries(
    hostile: tuple[AzureBlobClient, str], kwargs: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, bucket = hostile
    expected = await _sdk_listing(client, bucket, **kwargs)
    monkeypatch.setattr(listing, "read_page", lambda root, bucket: None)
    assert [m async for m in client.iter_objects(bucket, **kwargs)] == expected


async def test_a_missing_container_raises_not_found(client: AzureBlobClient) -> None:
    with pytest.raises(NotFoundError):
        [m async for m in client.iter_objects("az-no-such-container-here")]


PAGE = (
    "<EnumerationResults><Blobs>"
    "<Blob><Name>n</Name><Properties><Last-Modified>Thu, 26 Nov 2026 08:07:07 GMT</Last-Modified>"
    "<Etag>0x1</Etag><Content-Length>3</Content-Length>%s</Properties>%s</Blob>"
    "</Blobs><NextMarker>%s</NextMarker></EnumerationResults>"
)


def test_the_walk_reads_a_page() -> None:
    root = ElementTree.fromstring(PAGE % ("<Content-Type>t/p</Content-Type>", "<Metadata><K>v</K></Metadata>", "m2"))
    page = listing.read_page(root, "b")
    assert page is not None
    (entry,), marker = page
    assert marker == "m2"
    assert (entry.name, entry.size, entry.etag, entry.content_type, dict(entry.metadata)) == (
        "n",
        3,
        "0x1",
        "t/p",
        {"k": "v"},
    )
    root = ElementTree.fromstring(PAGE.replace("<Name>n</Name>", '<Name Encoded="true">a%%0Ab</Name>') % ("", "", ""))
    page = listing.read_page(root, "b")
    assert page is not None and page[0][0].name == "a\nb" and page[1] is None


@pytest.mark.parametrize(
    ("props", "blob"),
    [
        ("<Content-Type></Content-Type>", ""),  # an empty value: the SDK decides
        ("", "<Metadata><Encrypted>x</Encrypted></Metadata>"),
        ("", "<Metadata><K><Nested/></K></Metadata>"),
        ("<Content-Length>x</Content-Length>", ""),
    ],
)
def test_anything_else_goes_to_the_sdk(props: str, blob: str) -> None:
    assert listing.read_page(ElementTree.fromstring(PAGE % (props, blob, "")), "b") is None
    encoded = PAGE.replace("<Name>n</Name>", '<Name Encoded="True">n</Name>') % ("", "", "")
    assert listing.read_page(ElementTree.fromstring(encoded), "b") is None
    unknown = PAGE.replace("<Blob>", "<Other/><Blob>") % ("", "", "")
    assert listing.read_page(ElementTree.fromstring(unknown), "b") is None


@pytest.mark.parametrize(
    "text",
    [
        "Thu, 26 Nov 2026 08:07:07 GMT",
        "Sun, 01 Feb 2026 00:00:59 GMT",
        "Thu, 26 Nov 2026 08:07:07 +0100",  # not GMT: the SDK's parser
        "26 Nov 2026 08:07:07 GMT",
    ],
)
def test_blob_times_are_the_sdks_instants(text: str) -> None:
    from azure.storage.blob._generated._utils.serialization import Deserializer

    ours, theirs = listing.parse_blob_time(text), Deserializer.deserialize_rfc(text)
    assert ours == theirs and ours.tzinfo is timezone.utc
