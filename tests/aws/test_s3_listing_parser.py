"""The direct ``ListObjectsV2`` walk (cloud.aws.listing) against botocore's own parser, on
real moto pages with hostile keys: the parsed dicts must be equal, member for member."""

from __future__ import annotations

import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import pytest
from botocore.parsers import RestXMLParser

from cloud.aws import S3Client
from cloud.aws.listing import parse_list_objects_v2
from cloud.aws.timestamps import parse_timestamp

from .conftest import CREDENTIALS, new_bucket_name

HOSTILE_KEYS = [
    "plain/a.txt",
    "unicode/ünïcødé ✓ 日本語.txt",
    "xml/a&b<c>d\"e'f.txt",
    "xml/&amp;literal&lt;.txt",
    "space/ leading and trailing .txt ",
    "space/tab\there",
    "space/carriage\rreturn",  # (a newline in a key: moto answers 404 to its PUT)
    "pct/100%25 done+plus=eq?q#h.txt",
    "emoji/\U0001f600/x",
    "deep/a/b/c/d.txt",
]


def _botocore_parse(body: bytes) -> dict[str, Any]:
    import botocore.session

    shape = botocore.session.get_session().get_service_model("s3").operation_model("ListObjectsV2").output_shape
    parser = RestXMLParser(timestamp_parser=parse_timestamp)
    parsed = parser.parse({"body": body, "headers": {}, "status_code": 200}, shape)
    parsed.pop("ResponseMetadata", None)
    return parsed  # type: ignore[no-any-return]


@pytest.fixture
async def hostile_bucket(moto_url: str) -> AsyncIterator[tuple[S3Client, str]]:
    async with S3Client(endpoint_url=moto_url, region="us-east-1", credentials=CREDENTIALS) as s3:
        name = new_bucket_name()
        await s3.ensure_bucket(name)
        for i, key in enumerate(HOSTILE_KEYS):
            await s3.put_bytes(name, key, b"x" * i, content_type="text/plain")
        yield s3, name
        await s3.delete_bucket(name, force=True)


async def _raw_bodies(s3: S3Client, bucket: str, **params: Any) -> list[bytes]:
    """The raw XML bodies of a whole listing, page by page (presigned GETs)."""
    client = await s3._get_client()
    bodies: list[bytes] = []
    token = None
    while True:
        call = {"Bucket": bucket, **params, **({"ContinuationToken": token} if token else {})}
        url = await client.generate_presigned_url("list_objects_v2", Params=call)
        with urllib.request.urlopen(url) as response:
            body = response.read()
        bodies.append(body)
        page = _botocore_parse(body)
        if not page.get("IsTruncated"):
            return bodies
        token = page["NextContinuationToken"]


@pytest.mark.parametrize(
    "params",
    [
        {"EncodingType": "url", "MaxKeys": 3},
        {"EncodingType": "url", "Delimiter": "/", "MaxKeys": 2},
        {"MaxKeys": 1000},
        {"Prefix": "space/", "StartAfter": "space/a", "EncodingType": "url"},
        {"Delimiter": "/", "Prefix": "unicode/"},
    ],
)
async def test_same_dict_as_botocore_on_moto_pages(
    hostile_bucket: tuple[S3Client, str], params: dict[str, Any]
) -> None:
    s3, bucket = hostile_bucket
    bodies = await _raw_bodies(s3, bucket, **params)
    seen = 0
    for body in bodies:
        ours = parse_list_objects_v2(body, parse_timestamp)
        assert ours is not None, body
        assert ours == _botocore_parse(body)
        seen += len(ours.get("Contents", [])) + len(ours.get("CommonPrefixes", []))
    assert seen > 0


async def test_listing_through_the_client_matches_a_plain_botocore_client(
    hostile_bucket: tuple[S3Client, str], moto_url: str
) -> None:
    from aiobotocore.session import get_session

    from cloud.aws.listing import _parser_class

    s3, bucket = hostile_bucket
    ours = await s3._get_client()
    parser = ours._endpoint._response_parser_factory.create_parser("rest-xml")
    assert isinstance(parser, _parser_class())  # the direct walk is the one in use
    async with get_session().create_client(
        "s3",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=CREDENTIALS.access_key_id,
        aws_secret_access_key=CREDENTIALS.secret_access_key,
    ) as plain:
        for params in ({"MaxKeys": 4}, {"Delimiter": "/", "MaxKeys": 2}, {"Prefix": "space/"}):
            token = None
            while True:
                call = {"Bucket": bucket, **params, **({"ContinuationToken": token} if token else {})}
                mine, theirs = await ours.list_objects_v2(**call), await plain.list_objects_v2(**call)
                mine.pop("ResponseMetadata")
                theirs.pop("ResponseMetadata")
                assert mine == theirs
                if not theirs.get("IsTruncated"):
                    break
                token = theirs["NextContinuationToken"]
    listed = [m.name async for m in s3.iter_objects(bucket)]
    assert listed == sorted(HOSTILE_KEYS)


BODY = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<Name>b</Name><Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>"
    b"<Contents><Key>k</Key><LastModified>2026-11-26T08:07:07.000Z</LastModified><ETag>&quot;e&quot;</ETag>"
    b"<ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumAlgorithm>SHA256</ChecksumAlgorithm>"
    b"<Size>3</Size><Owner><ID>o</ID><DisplayName>d</DisplayName></Owner><StorageClass>STANDARD</StorageClass>%s</Contents>"
    b"%s</ListBucketResult>"
)


def test_the_walk_reads_every_known_member() -> None:
    body = BODY % (b"", b"<CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes>")
    ours = parse_list_objects_v2(body, parse_timestamp)
    assert ours == _botocore_parse(body)
    assert ours is not None and ours["Contents"][0]["ChecksumAlgorithm"] == ["CRC32", "SHA256"]
    assert ours["Contents"][0]["ETag"] == '"e"' and ours["CommonPrefixes"] == [{"Prefix": "p/"}]


@pytest.mark.parametrize(
    ("inner", "outer"),
    [
        (b"<RestoreStatus><IsRestoreInProgress>true</IsRestoreInProgress></RestoreStatus>", b""),
        (b"<Size>4</Size>", b""),  # a repeated scalar
        (b"", b"<Unknown>x</Unknown>"),
        (b"", b"<Name>again</Name>"),
        (b"", b"<CommonPrefixes><Other>x</Other></CommonPrefixes>"),
        (b"<Key2>x</Key2>", b""),
    ],
)
def test_anything_else_goes_to_botocore(inner: bytes, outer: bytes) -> None:
    assert parse_list_objects_v2(BODY % (inner, outer), parse_timestamp) is None
    assert parse_list_objects_v2(b"<not xml", parse_timestamp) is None


async def test_the_installed_parser_falls_back_to_botocore_for_unknown_elements() -> None:
    from aiobotocore.session import get_session

    from cloud.aws import timestamps

    session = get_session()
    timestamps.install(session)
    factory = session.get_component("response_parser_factory")
    parser = factory.create_parser("rest-xml")
    shape = (await session.get_service_model("s3")).operation_model("ListObjectsV2").output_shape
    body = BODY % (b"<RestoreStatus><IsRestoreInProgress>true</IsRestoreInProgress></RestoreStatus>", b"")
    parsed = await parser.parse({"body": body, "headers": {}, "status_code": 200}, shape)
    assert parsed["Contents"][0]["RestoreStatus"] == {"IsRestoreInProgress": True}
    parsed.pop("ResponseMetadata")
    assert parsed == _botocore_parse(body)


@pytest.mark.parametrize(
    "owner",
    [b"<Owner/>", b"<Owner>text only</Owner>", b"<Owner><ID></ID></Owner>", b""],
)
def test_owner_spellings_read_as_botocore_reads_them(owner: bytes) -> None:
    body = BODY.replace(b"<Owner><ID>o</ID><DisplayName>d</DisplayName></Owner>", owner) % (b"", b"")
    ours = parse_list_objects_v2(body, parse_timestamp)
    assert ours is not None and ours == _botocore_parse(body)


def _list_operation(name: str = "ListObjectsV2") -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("s3").operation_model(name)


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>m</Message></Error>',
        b"<ListBucketResult><Contents><Key>cut short",
    ],
)
@pytest.mark.parametrize("operation", ["ListObjectsV2", "CopyObject"])
def test_a_200_error_body_still_becomes_a_500(body: bytes, operation: str) -> None:
    from cloud.aws.listing import _check_200_error

    response = {"status_code": 200, "body": body, "headers": {}, "context": {}}
    _check_200_error(_list_operation(operation), response)
    assert response["status_code"] == 500
    assert "cloud_listing_root" not in response


def test_a_listing_body_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from cloud.aws import listing

    calls: list[bytes] = []
    original = listing._parse_xml

    def counting(body: bytes) -> Any:
        calls.append(body)
        return original(body)

    monkeypatch.setattr(listing, "_parse_xml", counting)
    body = BODY % (b"", b"")
    response: dict[str, Any] = {"status_code": 200, "body": body, "headers": {}, "context": {}}
    listing._check_200_error(_list_operation(), response)
    assert response["status_code"] == 200
    parser = listing._parser_class()(timestamp_parser=parse_timestamp)
    final: dict[str, Any] = {}
    parser._parse_payload(response, _list_operation().output_shape, {}, final)
    assert calls == [body]
    assert final == _botocore_parse(body)
    assert "cloud_listing_root" not in response


async def test_the_client_checks_200_errors_with_the_one_parse(hostile_bucket: tuple[S3Client, str]) -> None:
    from botocore.handlers import _handle_200_error

    from cloud.aws.listing import _check_200_error

    s3, _ = hostile_bucket
    client = await s3._get_client()
    for operation in ("ListObjectsV2", "CompleteMultipartUpload"):
        handlers = list(client.meta.events._emitter._lookup_cache.get(f"before-parse.s3.{operation}", ()))
        if not handlers:
            handlers = list(client.meta.events._emitter._handlers.prefix_search(f"before-parse.s3.{operation}"))
        assert _check_200_error in handlers
        assert _handle_200_error not in handlers
