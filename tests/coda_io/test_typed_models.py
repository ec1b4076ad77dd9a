"""Every operation answers with typed models: each property the spec declares is reachable as
a typed attribute, recursively (date-times aware, enums as ``CodaEnum``, unions resolved);
nothing is left only in ``raw``.

Bodies and expectations come from Coda's OpenAPI document read directly (``spec_data``).
"""

from __future__ import annotations

import json
import keyword
import pickle
import subprocess
import sys
from datetime import date, datetime, timezone
from typing import Any

import httpx
import pytest

from cloud.coda_io import CodaClient, CodaRateLimits, models
from cloud.coda_io.models import CodaEnum, CodaModel
from cloud.common.pagination import AsyncPaginator
from cloud.common.retry import RetryPolicy

from . import spec_data
from .test_operation_requests import build_call

BASE = "https://coda.example/apis/v1"
MOMENT = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=timezone.utc)


def attribute(wire: str) -> str:
    name = spec_data.snake(wire.lstrip("@"))
    return name + "_" if keyword.iskeyword(name) else name


def check(obj: Any, schema: dict[str, Any], data: Any, where: str) -> None:
    """``obj`` is ``data`` (valid for ``schema``) parsed into typed values, all of it."""
    node = spec_data.narrow(schema)
    if "enum" in node:
        assert isinstance(obj, CodaEnum) and obj == data and obj.known, f"{where}: {obj!r}"
        return
    options = node.get("oneOf") or node.get("anyOf")
    if options:
        failures = []
        for option in options:
            try:
                check(obj, option, data, where)
                return
            except AssertionError as exc:
                failures.append(str(exc))
        raise AssertionError(f"{where}: no member of the union fits {obj!r}: {failures}")
    props = spec_data.object_properties(node)
    if props == ({}, []) and "$ref" not in schema and "allOf" not in node:
        assert isinstance(obj, dict) and obj == data, f"{where}: {obj!r}"  # a free-form object
        return
    if props is not None:
        assert isinstance(obj, CodaModel), f"{where}: {obj!r} is not a model"
        assert obj.raw == data
        for wire, prop in props[0].items():
            if wire in data:
                name = attribute(wire)
                assert hasattr(obj, name), f"{where}: {type(obj).__name__} has no {name!r} for {wire!r}"
                check(getattr(obj, name), prop, data[wire], f"{where}.{name}")
        return
    kind = node.get("type")
    if kind == "array":
        assert isinstance(obj, list) and len(obj) == len(data), f"{where}: {obj!r}"
        for index, (item, raw) in enumerate(zip(obj, data, strict=True)):
            check(item, node.get("items", {}), raw, f"{where}[{index}]")
    elif kind == "object":
        assert isinstance(obj, dict) and obj.keys() == data.keys(), f"{where}: {obj!r}"
        for key in data:
            check(obj[key], node["additionalProperties"], data[key], f"{where}[{key!r}]")
    elif kind == "string" and node.get("format") == "date-time":
        assert isinstance(obj, datetime) and obj == MOMENT and obj.tzinfo is not None, f"{where}: {obj!r}"
    elif kind == "string" and node.get("format") == "date":
        assert type(obj) is date and obj == date(2024, 5, 6), f"{where}: {obj!r}"
    elif kind == "integer":
        assert type(obj) is int and obj == data, f"{where}: {obj!r}"
    elif kind == "number":
        assert isinstance(obj, (int, float)) and not isinstance(obj, bool) and obj == data, f"{where}: {obj!r}"
    elif kind == "boolean":
        assert obj is data, f"{where}: {obj!r}"
    elif kind == "string":
        assert isinstance(obj, str) and obj == data, f"{where}: {obj!r}"
    else:
        assert obj == data, f"{where}: {obj!r}"


def answer(op: spec_data.SpecOp) -> dict[str, Any]:
    body = spec_data.example(spec_data.response_schema(op))
    assert isinstance(body, dict)
    for key in ("nextPageToken", "nextPageLink", "nextSyncToken"):
        body.pop(key, None)
    return body


@pytest.mark.parametrize("op", spec_data.operations(), ids=lambda op: op.operation_id)
async def test_every_operation_returns_typed_models(op: spec_data.SpecOp) -> None:
    body = answer(op)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(op.success_status, json=body)

    args, kwargs, _, _, _ = build_call(op)
    kwargs.pop("page_token", None)
    async with CodaClient(
        api_token="tok-typed-1",
        base_url=BASE,
        transport=httpx.MockTransport(handler),
        rate_limits=CodaRateLimits.unlimited(),
        retry=RetryPolicy.disabled(),
    ) as client:
        method = getattr(client, spec_data.snake(op.operation_id))
        schema = spec_data.response_schema(op)
        if op.paginated:
            paginator = method(*args, **kwargs)
            assert isinstance(paginator, AsyncPaginator)
            items = await paginator.collect()
            item_schema = spec_data.object_properties(schema)[0]["items"]  # type: ignore[index]
            assert len(items) == len(body["items"]) == 1
            check(items, item_schema, body["items"], op.operation_id)
        else:
            result = await method(*args, **kwargs)
            check(result, schema, body, op.operation_id)


def union_size(name: str) -> int:
    node = spec_data.schemas()[name]
    return len(node.get("oneOf") or node.get("anyOf") or [None])


@pytest.mark.parametrize("name", sorted(spec_data.schemas()))
def test_every_schema_parses_into_typed_values(name: str) -> None:
    schema = {"$ref": f"#/components/schemas/{name}"}
    node = spec_data.schemas()[name]
    for variant in range(16):
        data = spec_data.example(schema, variant=variant)
        if "enum" in node:
            value = getattr(models, name)(data)
        elif "oneOf" in node or "anyOf" in node:
            value = getattr(models, "parse_" + spec_data.snake(name))(data)
        elif spec_data.object_properties(node) is not None:
            value = getattr(models, name).from_json(data)
        else:
            return  # plain strings and arrays: aliases, no class of their own
        check(value, schema, data, f"{name}[variant {variant}]")


def test_every_schema_has_its_class() -> None:
    for name, node in spec_data.schemas().items():
        if "oneOf" in node or "anyOf" in node:
            assert callable(getattr(models, "parse_" + spec_data.snake(name)))
        elif "enum" in node:
            assert issubclass(getattr(models, name), CodaEnum)
        elif spec_data.object_properties(node) is not None:
            assert issubclass(getattr(models, name), CodaModel)
        elif node.get("type") == "array":
            assert name in models.__all__  # an alias of a list type
        else:
            assert node.get("type") == "string"  # plain strings (page tokens) are ``str``


# -- details ---------------------------------------------------------------------------------------


async def test_list_packs_keeps_a_fractional_id() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [{"id": 1.5, "name": "P"}, {"id": 2, "name": "Q"}]})

    transport = httpx.MockTransport(handler)
    async with CodaClient(api_token="tok-typed-1", base_url=BASE, transport=transport) as client:
        packs = await client.list_packs().collect()
    assert [p.id for p in packs] == [1.5, 2]
    assert isinstance(packs[0], models.Pack) and isinstance(packs[0], models.PackSummary)


def test_unknown_enum_values_are_kept_not_refused() -> None:
    doc = models.Doc.from_json({"id": "d", "type": "brandNewKind"})
    assert doc.type == "brandNewKind" and isinstance(doc.type, models.Type) and not doc.type.known
    assert models.Type("doc") is models.Type.DOC and models.Type.DOC.known
    assert str(models.Type.DOC) == "doc" and f"{models.Type.DOC}" == "doc"
    assert json.dumps({"t": models.Type.DOC}) == '{"t": "doc"}'


def test_unions_follow_the_discriminator_then_try_members() -> None:
    fmt = models.parse_column_format({"type": "currency", "currencyCode": "EUR", "isArray": False})
    assert isinstance(fmt, models.CurrencyColumnFormat) and fmt.currency_code == "EUR"
    # The spec's mapping swaps these two; the member that declares the value wins.
    assert isinstance(models.parse_pack_log({"type": "fetcher"}), models.PackFetcherLog)
    assert isinstance(models.parse_pack_log({"type": "invocation"}), models.PackInvocationLog)
    # No discriminator value: the member whose required fields are present.
    cell = models.parse_cell_value({"@context": "http://schema.org/", "@type": "Person", "name": "Ann", "email": "a@x"})
    assert isinstance(cell, models.PersonValue) and cell.email == "a@x"
    assert models.parse_cell_value([1, "a", [True]]) == [1, "a", [True]]
    # An unknown kind still gives a model (unknown fields in raw).
    odd = models.parse_column_format({"type": "hologram", "isArray": True})
    assert isinstance(odd, CodaModel) and odd.raw["type"] == "hologram"


def test_rich_row_values_are_typed() -> None:
    row = models.Row.from_json(
        {
            "id": "i-1",
            "createdAt": "2024-05-06T07:08:09Z",
            "values": {
                "c-price": {
                    "@context": "http://schema.org/",
                    "@type": "MonetaryAmount",
                    "currency": "USD",
                    "amount": 9,
                },
                "c-name": "Ann",
                "c-tags": ["a", "b"],
            },
        }
    )
    price = row.values["c-price"]
    assert isinstance(price, models.CurrencyValue) and price.amount == 9 and price.type == "MonetaryAmount"
    assert row.values["c-name"] == "Ann" and row.values["c-tags"] == ["a", "b"]
    assert row.created_at == datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    assert row["c-name"] == "Ann" and "c-tags" in row and list(row) == ["c-price", "c-name", "c-tags"]
    assert row.get("c-missing") is None
    with pytest.raises(KeyError):
        row["c-missing"]


def test_models_are_immutable_comparable_and_constructible() -> None:
    doc = models.Doc(id="d-1", name="Plan")
    assert doc == models.Doc.from_json({"id": "d-1", "name": "Plan"}) and doc.raw == {}
    with pytest.raises(AttributeError):
        doc.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        models.Doc(nonsense=1)  # type: ignore[call-arg]
    assert "Plan" in repr(doc)
    odd = models.Doc.from_json({"id": "d-2", "type": "brandNewKind", "workspace": {"id": "ws-1"}, "extra": [1]})
    again = pickle.loads(pickle.dumps(odd))
    assert again == odd and again.raw == odd.raw and again.type == "brandNewKind" and not again.type.known


def test_naive_and_odd_datetimes_become_aware() -> None:
    assert models.parse_datetime("2024-05-06T07:08:09") == datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    assert models.parse_datetime("2024-05-06T07:08:09.1234567+02:00") is not None
    assert models.parse_datetime("yesterday") is None
    assert models.parse_date("2024-05-06") == date(2024, 5, 6) and models.parse_date("x") is None


def test_importing_the_client_loads_no_model_and_no_pandas() -> None:
    code = (
        "import sys, cloud.coda_io as c; print('cloud.coda_io._generated.models' in sys.modules, 'pandas' in sys.modules);"
        " c.Doc; print('cloud.coda_io._generated.models' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False", "True"]
