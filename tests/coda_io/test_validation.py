"""Arguments are checked against the spec before any I/O; Coda's validation errors are typed."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from cloud.coda_io import CodaClient, CodaRateLimits
from cloud.coda_io._generated.rules import RULES
from cloud.coda_io.validation import ParamRule
from cloud.common.exceptions import BadRequestError, ConfigurationError, ValidationIssue

from . import spec_data

TOKEN = "unit-test-token-abc123"
AWARE = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
NAIVE = datetime(2024, 5, 6, 7, 8, 9)


# -- the rules table is the spec's ---------------------------------------------------------


def _rule_of(schema: dict[str, Any]) -> ParamRule | None:
    node = spec_data.resolve(schema)
    if "allOf" in node and len(node["allOf"]) == 1:
        node = spec_data.resolve(node["allOf"][0])
    items = _rule_of(node.get("items", {})) if node.get("type") == "array" else None
    rule = ParamRule(
        enum=tuple(node["enum"]) if "enum" in node else None,
        minimum=node.get("minimum"),
        maximum=node.get("maximum"),
        min_length=node.get("minLength"),
        max_length=node.get("maxLength"),
        min_items=node.get("minItems"),
        max_items=node.get("maxItems"),
        format=node.get("format") if node.get("format") in ("date", "date-time") else None,
        items=items,
    )
    return None if rule == ParamRule() else rule


def _spec_rules() -> Iterator[tuple[str, str, ParamRule]]:
    for op in spec_data.operations():
        fields = [(p.wire, p.schema) for p in op.path_params + op.query_params]
        if op.body_schema is not None:
            fields += list(spec_data.body_properties(op.body_schema)[0].items())
        for wire, schema in fields:
            rule = _rule_of(schema)
            if rule is not None:
                yield op.operation_id, wire, rule


def test_rules_table_equals_the_spec() -> None:
    expected: dict[str, dict[str, ParamRule]] = {}
    for operation_id, wire, rule in _spec_rules():
        assert wire not in expected.get(operation_id, {}), "a name used twice in one operation"
        expected.setdefault(operation_id, {})[wire] = rule
    assert {op: dict(rules) for op, rules in RULES.items()} == expected


def test_rules_load_on_the_first_check() -> None:
    script = (
        "import sys\n"
        "from cloud.coda_io._table import OPERATIONS_BY_ID\n"
        "from cloud.coda_io.validation import check_arguments\n"
        "assert 'cloud.coda_io._generated.rules' not in sys.modules\n"
        "check_arguments(OPERATIONS_BY_ID['getDoc'], ('doc',))\n"
        "assert 'cloud.coda_io._generated.rules' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


# -- nothing invalid reaches the wire -------------------------------------------------------


class Recorder:
    """A MockTransport handler that records requests and answers an empty listing."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json={"items": [], "id": "x"})

    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.requests[-1].url.query.decode()))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(recorder: Recorder) -> CodaClient:
    return CodaClient(
        api_token=TOKEN,
        base_url="https://coda.example/apis/v1",
        rate_limits=CodaRateLimits.unlimited(),
        transport=httpx.MockTransport(recorder),
    )


async def test_naive_datetime_is_refused(client: CodaClient, recorder: Recorder) -> None:
    with pytest.raises(ConfigurationError, match=r"naive datetime.*aware datetime"):
        await client.list_pack_logs(7, "doc", before_timestamp=NAIVE).collect()
    assert recorder.requests == []


async def test_aware_datetime_and_rfc3339_strings_are_sent(client: CodaClient, recorder: Recorder) -> None:
    moment = AWARE.astimezone(timezone(timedelta(hours=2)))
    await client.list_pack_logs(7, "doc", before_timestamp=moment, after_timestamp="2024-05-06T07:08:09.5Z").collect()
    assert recorder.query()["beforeTimestamp"] == "2024-05-06T09:08:09+02:00"
    assert recorder.query()["afterTimestamp"] == "2024-05-06T07:08:09.5Z"


@pytest.mark.parametrize("value", ["2024-05-06", "2024-05-06T07:08:09", "2024-13-06T07:08:09Z", date(2024, 5, 6)])
async def test_date_time_needs_a_zone_and_a_time(client: CodaClient, recorder: Recorder, value: object) -> None:
    with pytest.raises(ConfigurationError, match="after_timestamp"):
        await client.list_pack_logs(7, "doc", after_timestamp=value).collect()  # type: ignore[arg-type]
    assert recorder.requests == []


async def test_datetime_for_a_date_parameter_is_refused(client: CodaClient, recorder: Recorder) -> None:
    with pytest.raises(ConfigurationError, match=r"since_date is a date: pass a datetime\.date"):
        await client.list_doc_analytics(since_date=AWARE).collect()
    with pytest.raises(ConfigurationError, match="until_date"):
        await client.list_doc_analytics_summary(until_date="2024-5-6")
    assert recorder.requests == []
    await client.list_doc_analytics(since_date=date(2024, 5, 6), until_date="2024-05-07").collect()
    assert recorder.query()["sinceDate"] == "2024-05-06"
    assert recorder.query()["untilDate"] == "2024-05-07"


async def test_enum_values_are_checked(client: CodaClient, recorder: Recorder) -> None:
    with pytest.raises(ConfigurationError, match="value_format must be one of 'simple', 'simpleWithArrays', 'rich'"):
        await client.get_row("doc", "table", "row", value_format="bogus")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="value_format"):
        await client.list_rows("doc", "table", value_format="bogus").collect()  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="log_types item must be one of"):
        await client.list_pack_logs(7, "doc", log_types=["custom", "nope"]).collect()  # type: ignore[list-item]
    with pytest.raises(ConfigurationError, match="access must be one of"):
        await client.add_permission("doc", access="owner", principal={"type": "anyone"})  # type: ignore[arg-type]
    assert recorder.requests == []
    await client.get_row("doc", "table", "row", value_format="rich")
    assert recorder.query()["valueFormat"] == "rich"


async def test_bounds_are_checked(client: CodaClient, recorder: Recorder) -> None:
    with pytest.raises(ConfigurationError, match="limit must be at most 100; got 1000"):
        client.list_columns("doc", "table", limit=1000)
    with pytest.raises(ConfigurationError, match="limit must be at most 5000"):
        client.list_doc_analytics(limit=5001)
    with pytest.raises(ConfigurationError, match="pack_id must be at least 1; got 0"):
        await client.get_pack(0)
    with pytest.raises(ConfigurationError, match="name must be at most 128 characters"):
        await client.update_pack(7, name="n" * 129)
    with pytest.raises(ConfigurationError, match="items takes at most 5 item"):
        await client.update_pack_featured_docs(7, items=[{"url": f"https://coda.io/d/{i}"} for i in range(6)])
    assert recorder.requests == []
    await client.list_columns("doc", "table", limit=100).collect()
    assert recorder.query()["limit"] == "100"


async def test_comma_inside_a_comma_joined_item_is_refused(client: CodaClient, recorder: Recorder) -> None:
    with pytest.raises(ConfigurationError, match="doc_ids items are sent comma-separated"):
        await client.list_doc_analytics(doc_ids=["a,b", "c"]).collect()
    assert recorder.requests == []
    await client.list_doc_analytics(doc_ids=["a", "c"]).collect()
    assert recorder.query()["docIds"] == "a,c"


async def test_naive_datetime_deep_in_a_body_is_refused(client: CodaClient, recorder: Recorder) -> None:
    rows = [{"cells": [{"column": "When", "value": NAIVE}]}]
    with pytest.raises(ConfigurationError, match=r"rows\[0\]\.cells\[0\]\.value is a naive datetime"):
        await client.upsert_rows("doc", "table", rows=rows)
    assert recorder.requests == []
    await client.upsert_rows("doc", "table", rows=[{"cells": [{"column": "When", "value": AWARE}]}])
    sent = json.loads(recorder.requests[-1].content)
    assert sent["rows"][0]["cells"][0]["value"] == "2024-05-06T07:08:09+00:00"


# -- Coda's own validation errors ------------------------------------------------------------


def _bad_request(body: object) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(400, json=body))


async def test_validation_errors_become_typed_records() -> None:
    body = {
        "statusCode": 400,
        "statusMessage": "Bad Request",
        "message": "Invalid request",
        "codaDetail": {
            "validationErrors": [
                {"path": "rows[0].cells[1].value", "message": "Expected a string but got a number"},
                {"path": "keyColumns", "message": "Unknown column"},
                {"path": 3, "message": "malformed entries are left out"},
            ]
        },
    }
    async with CodaClient(api_token=TOKEN, transport=_bad_request(body), retry=None) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.upsert_rows("doc", "table", rows=[{"cells": []}])
    error = caught.value
    assert error.validation_errors == [
        ValidationIssue(path="rows[0].cells[1].value", message="Expected a string but got a number"),
        ValidationIssue(path="keyColumns", message="Unknown column"),
    ]
    assert "rows[0].cells[1].value: Expected a string but got a number; keyColumns: Unknown column" in str(error)
    copy = pickle.loads(pickle.dumps(error))
    assert copy.validation_errors == error.validation_errors and str(copy) == str(error)


async def test_a_400_without_detail_has_no_validation_errors() -> None:
    body = {"statusCode": 400, "statusMessage": "Bad Request", "message": "nope"}
    async with CodaClient(api_token=TOKEN, transport=_bad_request(body), retry=None) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.get_doc("doc")
    assert caught.value.validation_errors == []
    assert BadRequestError("x").validation_errors == []
