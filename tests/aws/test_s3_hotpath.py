"""Per-request work taken off the S3 client's hot path gives what botocore gives: the
header-driven response parser (every output member of every S3 operation, same values,
same key order) and the cached User-Agent string (the string botocore builds for the same
request features)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import botocore.session
import pytest
from aiobotocore.parsers import AioRestXMLParser
from botocore.awsrequest import HeadersDict
from botocore.context import ClientContext, start_as_current_context
from botocore.useragent import UserAgentString
from botocore.validate import ParamValidationDecorator

from cloud.aws import S3Client
from cloud.aws.headers import _HeaderWalk, _parser_class
from cloud.aws.timestamps import parse_timestamp
from cloud.aws.useragent import cache_user_agent
from cloud.common.models import CloudCredentials

_DATE = "Fri, 04 Dec 2026 21:00:00 GMT"
_MODEL = botocore.session.get_session().get_service_model("s3")


def _sample(shape: Any) -> str:
    kind = shape.type_name
    if kind in ("integer", "long"):
        return "7"
    if kind == "boolean":
        return "true"
    if kind == "timestamp":
        return _DATE
    if kind == "list":
        return "a, b"
    return "value-x"


def _odd_case(name: str, rng: random.Random) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in name)


def _response(shape: Any, rng: random.Random, *, every: bool) -> dict[str, Any]:
    """An answer carrying (every, or a random half of) the header-bound members of
    ``shape``, names in random case, plus headers no member reads."""
    headers: dict[str, str] = {"Date": _DATE, "Server": "test", "X-Amz-Request-Id": "rid", "X-Amz-Id-2": "hid"}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        if not every and rng.random() < 0.5:
            continue
        if location == "header":
            headers[_odd_case(member.serialization.get("name", name), rng)] = _sample(member)
        elif location == "headers":
            prefix = member.serialization.get("name", "")
            headers[_odd_case(prefix, rng) + "Owner"] = "me"
            headers[prefix + "colour"] = "blue"
    rng_items = list(headers.items())
    rng.shuffle(rng_items)
    return {"headers": HeadersDict(rng_items), "status_code": 206, "body": b""}


def _parse(parser: Any, response: dict[str, Any], shape: Any) -> dict[str, Any]:
    copy = {**response, "headers": HeadersDict(response["headers"].items())}
    return asyncio.run(parser.parse(copy, shape))  # type: ignore[no-any-return]


def _event_stream(shape: Any) -> bool:
    payload = shape.serialization.get("payload")
    return bool(payload) and bool(shape.members[payload].serialization.get("eventstream"))


_OUTPUTS = sorted(
    (
        (name, _MODEL.operation_model(name).output_shape)
        for name in _MODEL.operation_names
        if _MODEL.operation_model(name).output_shape is not None
        and not _event_stream(_MODEL.operation_model(name).output_shape)  # needs a live stream
    ),
    key=lambda item: item[0],
)


@pytest.mark.parametrize(("operation", "shape"), _OUTPUTS, ids=[name for name, _ in _OUTPUTS])
def test_header_walk_parses_every_s3_output_as_botocore(operation: str, shape: Any) -> None:
    botocore_parser = AioRestXMLParser(timestamp_parser=parse_timestamp)
    ours = _parser_class(AioRestXMLParser)(timestamp_parser=parse_timestamp)
    rng = random.Random(operation)
    for every in (True, False, False, False):
        response = _response(shape, rng, every=every)
        theirs = _parse(botocore_parser, response, shape)
        got = _parse(ours, response, shape)
        assert got == theirs
        assert list(got) == list(theirs)
        for name in got:
            assert type(got[name]) is type(theirs[name])


def test_header_walk_reads_a_body_as_botocore() -> None:
    shape = _MODEL.operation_model("CopyObject").output_shape
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?><CopyObjectResult><ETag>"abc"</ETag>'
        b"<LastModified>2026-11-26T08:07:07.000Z</LastModified></CopyObjectResult>"
    )
    response = {"headers": HeadersDict({"x-amz-version-id": "v1", "ETag": "x"}), "status_code": 200, "body": body}
    theirs = _parse(AioRestXMLParser(timestamp_parser=parse_timestamp), response, shape)
    got = _parse(_parser_class(AioRestXMLParser)(timestamp_parser=parse_timestamp), response, shape)
    assert got == theirs
    assert got["CopyObjectResult"]["ETag"] == '"abc"'


def test_header_walk_leaves_plain_dict_headers_to_botocore() -> None:
    shape = _MODEL.operation_model("HeadObject").output_shape
    # a plain dict is looked up case-sensitively by botocore: the model says "Content-Length"
    response = {"headers": {"ETag": '"abc"', "content-length": "3"}, "status_code": 200, "body": b""}
    theirs = asyncio.run(AioRestXMLParser(timestamp_parser=parse_timestamp).parse(dict(response), shape))
    got = asyncio.run(_parser_class(AioRestXMLParser)(timestamp_parser=parse_timestamp).parse(dict(response), shape))
    assert got == theirs
    assert got["ETag"] == '"abc"' and "ContentLength" not in got


async def test_clients_parse_with_the_header_walk() -> None:
    client = S3Client(endpoint_url="http://127.0.0.1:9", region="us-east-1")
    try:
        raw = await client._get_client()
        parser = raw._endpoint._response_parser_factory.create_parser("rest-xml")
        assert isinstance(parser, _HeaderWalk)
        assert not isinstance(raw._serializer, ParamValidationDecorator)  # we check arguments
    finally:
        await client.aclose()


def _same_features_any_order(user_agent: str) -> str:
    # botocore writes the feature set (the ``m/`` component) in the set's iteration order,
    # which for the same features can differ with insertion order (a hash collision).
    return " ".join(
        "m/" + ",".join(sorted(part[2:].split(","))) if part.startswith("m/") else part
        for part in user_agent.split(" ")
    )


async def test_user_agent_is_botocore_s_string_for_each_feature_set() -> None:
    client = S3Client(endpoint_url="http://127.0.0.1:9", region="us-east-1")
    try:
        raw = await client._get_client()
        creator = raw._user_agent_creator
        assert "to_string" in vars(creator), "the client's User-Agent is not cached"
        seen = set()
        for features in ((), ("Z",), ("Z", "b"), ("b", "Z"), ()):
            context = ClientContext()
            context.features.update(features)
            with start_as_current_context(context):
                expected = _same_features_any_order(UserAgentString.to_string(creator))
                assert _same_features_any_order(creator.to_string()) == expected
                assert _same_features_any_order(creator.to_string()) == expected
                seen.add(expected)
        assert len(seen) == 3
        assert "codomyrmex-cloud" in next(iter(seen))
    finally:
        await client.aclose()


def test_user_agent_cache_leaves_other_creators_alone() -> None:
    class Fake:
        _user_agent_creator = object()

    fake = Fake()
    cache_user_agent(fake)
    assert not hasattr(fake._user_agent_creator, "to_string")


_CALL_ARGS: list[dict[str, Any]] = [
    {"Bucket": "my-bucket", "Key": "a/b.txt"},
    {"Bucket": "Not_DNS.compatible", "Key": "k"},
    {"Bucket": "dotted.bucket.name", "Key": "k", "Prefix": "p/"},
    {"Bucket": "arn:aws:s3:us-west-2:123456789012:accesspoint/ap", "Key": "k"},
    {"Bucket": "dir-bucket--usw2-az1--x-s3", "Key": "k"},
    {"Bucket": "b", "CopySource": "src/key", "Key": "k", "Delete": {"Objects": [{"Key": "x"}]}},
    {},
]


@pytest.mark.parametrize(
    "options",
    [
        {"endpoint_url": "http://127.0.0.1:9", "region": "us-east-1"},
        {"region": "eu-west-1"},
        {"region": "us-east-1"},
    ],
    ids=["custom-endpoint", "aws-eu-west-1", "aws-us-east-1"],
)
async def test_endpoint_params_are_botocore_s_for_every_operation(options: dict[str, Any]) -> None:
    from aiobotocore.regions import AioEndpointRulesetResolver

    client = S3Client(credentials=CloudCredentials(access_key_id="AKIATEST", secret_access_key="s"), **options)
    try:
        raw = await client._get_client()
        resolver = raw._ruleset_resolver
        assert "_get_provider_params" in vars(resolver), "the fast parameter table is not installed"
        for name in raw._service_model.operation_names:
            model = raw._service_model.operation_model(name)
            for call_args in _CALL_ARGS:
                context: dict[str, Any] = {"client_region": raw.meta.region_name, "client_config": raw.meta.config}
                theirs = await AioEndpointRulesetResolver._get_provider_params(
                    resolver, model, dict(call_args), dict(context)
                )
                ours = await resolver._get_provider_params(model, dict(call_args), dict(context))
                assert ours == theirs, name
                assert list(ours) == list(theirs), name
    finally:
        await client.aclose()


def test_header_plans_outlive_the_parser_of_one_response() -> None:
    from cloud.aws import headers

    shape = _MODEL.operation_model("HeadObject").output_shape
    response = {"headers": HeadersDict({"etag": '"abc"'}), "status_code": 200, "body": b""}
    _parse(_parser_class(AioRestXMLParser)(timestamp_parser=parse_timestamp), response, shape)
    plan = headers._plan(shape.members)
    _parse(_parser_class(AioRestXMLParser)(timestamp_parser=parse_timestamp), response, shape)
    assert headers._plan(shape.members) is plan
