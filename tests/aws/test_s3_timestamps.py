"""The fast timestamp parser installed on our botocore sessions: same instants as botocore's."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.utils import parse_timestamp as botocore_parse_timestamp

from cloud.aws import S3Client
from cloud.aws.timestamps import parse_timestamp

SAMPLES: list[Any] = [
    "2026-11-26T08:07:07.000Z",  # ListObjectsV2's LastModified
    "2026-11-26T08:07:07Z",
    "2026-11-26T08:07:07.123456Z",
    "2026-11-26T08:07:07.12Z",  # 2 fraction digits: Python 3.10 hands it to botocore
    "Thu, 26 Nov 2026 08:07:07 GMT",  # Last-Modified header
    "Sun, 01 Feb 2026 00:00:59 GMT",
    "2026-11-26T08:07:07+01:00",  # not UTC: botocore's parser
    "Thu, 26 Nov 2026 08:07:07 +0000",
    "1700000000",
    1700000000,
    1700000000.25,
]


@pytest.mark.parametrize("value", SAMPLES)
def test_same_instant_as_botocore(value: Any) -> None:
    ours = parse_timestamp(value)
    theirs = botocore_parse_timestamp(value)
    assert ours == theirs
    assert ours.utcoffset() == theirs.utcoffset()


@pytest.mark.parametrize("value", ["Thu, 26 Xyz 2026 08:07:07 GMT", "not a date", "2026-13-40T99:99:99Z"])
def test_invalid_values_fail_as_botocore_fails(value: str) -> None:
    with pytest.raises(ValueError) as theirs:
        botocore_parse_timestamp(value)
    with pytest.raises(ValueError) as ours:
        parse_timestamp(value)
    assert str(ours.value) == str(theirs.value)


def test_fast_forms_are_utc() -> None:
    assert parse_timestamp("2026-11-26T08:07:07.000Z") == datetime(2026, 11, 26, 8, 7, 7, tzinfo=timezone.utc)
    assert parse_timestamp("Thu, 26 Nov 2026 08:07:07 GMT").tzinfo is timezone.utc


async def test_our_clients_parse_with_it(s3: S3Client, bucket: str) -> None:
    raw = await s3._get_client()
    # Responses are parsed by parsers the endpoint makes from the session's factory.
    parser = raw._endpoint._response_parser_factory.create_parser("rest-xml")
    assert parser._timestamp_parser is parse_timestamp
    await s3.put_bytes(bucket, "t.txt", b"x")
    listed = [m async for m in s3.iter_objects(bucket)]
    stat = await s3.stat(bucket, "t.txt")
    assert listed[0].last_modified is not None and listed[0].last_modified.tzinfo is timezone.utc
    # ListObjectsV2 (ISO 8601 body) and HeadObject (RFC 7231 header) agree to the second.
    assert stat.last_modified == listed[0].last_modified.replace(microsecond=0)
