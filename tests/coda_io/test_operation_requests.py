"""Each of the 124 operations sends the right method, path, query and body.

Expectations come from Coda's OpenAPI document read directly (``spec_data``), not from the
generated table, and every parameter and body field is given a value.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from cloud.coda_io import (
    CodaClient,
    CodaModel,
    CodaRateLimits,
    Column,
    Control,
    CreatedDoc,
    Doc,
    Folder,
    Formula,
    MutationResult,
    MutationStatus,
    Pack,
    Page,
    PageContentExport,
    Permission,
    Row,
    Table,
    User,
    models,
)
from cloud.common.pagination import AsyncPaginator
from cloud.common.retry import RetryPolicy

from . import spec_data

TOKEN = "unit-test-token-abc123"
BASE = "https://coda.example/apis/v1"

# What a few well-known operations return (an instance of; the rest: some model).
RETURNS: dict[str, type] = {
    "getDoc": Doc,
    "createDoc": CreatedDoc,
    "getPage": Page,
    "createPage": models.PageCreateResult,
    "updatePage": models.PageUpdateResult,
    "getTable": Table,
    "getColumn": Column,
    "getRow": models.RowDetail,
    "upsertRows": models.RowsUpsertResult,
    "deleteRows": models.RowsDeleteResult,
    "updateRow": models.RowUpdateResult,
    "deleteRow": models.RowDeleteResult,
    "pushButton": models.PushButtonResult,
    "publishDoc": models.PublishResult,
    "triggerWebhookAutomation": models.WebhookTriggerResult,
    "getFormula": Formula,
    "getControl": Control,
    "getFolder": Folder,
    "createFolder": Folder,
    "getPack": Pack,
    "whoami": User,
    "getMutationStatus": MutationStatus,
    "beginPageContentExport": PageContentExport,
    "getPageContentExportStatus": PageContentExport,
    "updateDoc": models.DocUpdateResult,
    "deleteDoc": models.DocDelete,
}
ITEMS: dict[str, type] = {
    "listDocs": Doc,
    "listPages": Page,
    "listTables": Table,
    "listColumns": Column,
    "listRows": Row,
    "listFormulas": Formula,
    "listControls": Control,
    "getPermissions": Permission,
    "listFolders": Folder,
    "listPacks": Pack,
    "listDocAnalytics": models.DocAnalyticsItem,
}


def build_call(op: spec_data.SpecOp) -> tuple[list[Any], dict[str, Any], str, list[tuple[str, str]], Any]:
    """Arguments for the method, and the path, query and JSON body it must send."""
    args: list[Any] = []
    path = op.path
    for param in op.path_params:
        value, encoded = spec_data.path_sample(param)
        args.append(value)
        path = path.replace("{" + param.wire + "}", encoded)
    kwargs: dict[str, Any] = {}
    query: list[tuple[str, str]] = []
    for param in op.query_params:
        if param.wire == "pageToken":
            kwargs["page_token"] = "tok-1"
            query.append(("pageToken", "tok-1"))
            continue
        py, _, text = spec_data.sample(param.schema, param.wire)
        kwargs[spec_data.snake(param.wire)] = py
        query.append((param.wire, text))
    body: Any = None
    if op.body_schema is not None:
        if op.operation_id in spec_data.PAYLOAD_KWARG:
            payload = {"event": "ping", "nested": {"list": [1, "two"]}}
            kwargs[spec_data.PAYLOAD_KWARG[op.operation_id]] = payload
            body = payload
        else:
            body = {}
            props, _ = spec_data.body_properties(op.body_schema)
            for name, schema in props.items():
                py, as_json, _ = spec_data.sample(schema, name)
                kwargs[spec_data.snake(name)] = py
                body[name] = as_json
    return args, kwargs, path, query, body


def response_for(op: spec_data.SpecOp) -> httpx.Response:
    if op.paginated:
        payload: dict[str, Any] = {"items": [{"id": "item-1", "name": "One"}], "nextPageToken": None}
    else:
        payload = {"requestId": "req-1", "id": "obj-1", "completed": True, "name": "One"}
    return httpx.Response(op.success_status, json=payload)


@pytest.mark.parametrize("op", spec_data.operations(), ids=lambda op: op.operation_id)
async def test_operation_sends_the_request_the_spec_describes(op: spec_data.SpecOp) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return response_for(op)

    args, kwargs, path, query, body = build_call(op)
    async with CodaClient(
        api_token=TOKEN,
        base_url=BASE,
        transport=httpx.MockTransport(handler),
        rate_limits=CodaRateLimits.unlimited(),
        retry=RetryPolicy.disabled(),
    ) as client:
        method = getattr(client, spec_data.snake(op.operation_id))
        if op.paginated:
            paginator = method(*args, **kwargs)
            assert isinstance(paginator, AsyncPaginator)
            assert seen == []  # lazy: nothing sent before iterating
            items = await paginator.collect()
            assert len(items) == 1
            expected_item = ITEMS.get(op.operation_id)
            assert isinstance(items[0], expected_item or CodaModel)
        else:
            result = await method(*args, **kwargs)
            assert isinstance(result, RETURNS.get(op.operation_id, CodaModel))
            if op.operation_id in ("createPage", "upsertRows", "pushButton"):
                assert isinstance(result, MutationResult) and result.request_id == "req-1"

    assert len(seen) == 1
    request = seen[0]
    assert request.method == op.method
    assert request.url.scheme == "https" and request.url.host == "coda.example"
    assert request.url.raw_path.decode().split("?")[0] == "/apis/v1" + path
    assert sorted(parse_qsl(request.url.query.decode(), keep_blank_values=True)) == sorted(query)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    if body is None:
        assert request.content == b""
        assert "content-type" not in request.headers
    else:
        assert request.headers["content-type"] == "application/json"
        assert json.loads(request.content) == body


def test_every_operation_is_covered_here() -> None:
    assert len(spec_data.operations()) == 124


async def test_options_left_out_are_not_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json={"requestId": "r"})

    async with CodaClient(api_token=TOKEN, base_url=BASE, transport=httpx.MockTransport(handler)) as client:
        await client.update_page("d", "p", name="New")
        await client.delete_page_content("d", "p")
        await client.trigger_webhook_automation("d", "rule-1")
        await client.update_custom_doc_domain("d", "docs.example.com")
    assert json.loads(seen[0].content) == {"name": "New"}
    assert json.loads(seen[1].content) == {}
    assert json.loads(seen[2].content) == {}
    assert json.loads(seen[3].content) == {}
    assert all(r.url.query == b"" for r in seen)


async def test_caller_dicts_are_not_mutated() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(202, json={"requestId": "r"})

    rows = [{"cells": [{"column": "c1", "value": "x"}]}]
    before = json.dumps(rows)
    async with CodaClient(api_token=TOKEN, base_url=BASE, transport=httpx.MockTransport(handler)) as client:
        await client.upsert_rows("d", "t", rows=rows, key_columns=("c1",))
    assert json.dumps(rows) == before
