"""Listings follow ``nextPageToken`` lazily (never ``nextPageLink``); models are tolerant."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import parse_qs

import httpx
import pytest

from cloud.coda_io import (
    CodaClient,
    CodaModel,
    CodaPaginator,
    CodaRateLimits,
    Doc,
    MutationResult,
    Pack,
    Row,
    models,
)
from cloud.common.exceptions import ConfigurationError

BASE = "https://coda.example/apis/v1"


def paged_server(pages: list[list[str]], seen: list[httpx.Request]) -> httpx.MockTransport:
    """Pages of docs; page i+1's token is ``t<i+1>``; the next-page link points elsewhere."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host != "coda.example":
            return httpx.Response(500, json={"message": "followed a foreign link"})
        token = parse_qs(request.url.query.decode()).get("pageToken", ["t0"])[0]
        index = int(token[1:])
        body: dict[str, object] = {"items": [{"id": i, "name": i.upper()} for i in pages[index]]}
        if index + 1 < len(pages):
            body["nextPageToken"] = f"t{index + 1}"
            body["nextPageLink"] = f"https://elsewhere.example/steal?pageToken=t{index + 1}"
        return httpx.Response(200, json=body)

    return httpx.MockTransport(handler)


def client_for(transport: httpx.MockTransport) -> CodaClient:
    return CodaClient(
        api_token="tok-page-123", base_url=BASE, transport=transport, rate_limits=CodaRateLimits.unlimited()
    )


async def test_pagination_across_three_pages_follows_the_token() -> None:
    seen: list[httpx.Request] = []
    async with client_for(paged_server([["a", "b"], ["c", "d"], ["e"]], seen)) as client:
        docs = await client.list_docs(is_owner=True, limit=2).collect()
    assert [d.id for d in docs] == ["a", "b", "c", "d", "e"]
    assert all(isinstance(d, Doc) for d in docs)
    assert len(seen) == 3
    assert {r.url.host for r in seen} == {"coda.example"}
    queries = [parse_qs(r.url.query.decode()) for r in seen]
    assert [q.get("pageToken") for q in queries] == [None, ["t1"], ["t2"]]
    assert all(q["limit"] == ["2"] and q["isOwner"] == ["true"] for q in queries)


async def test_pages_are_fetched_only_when_needed() -> None:
    seen: list[httpx.Request] = []
    async with client_for(paged_server([["a", "b"], ["c", "d"], ["e"]], seen)) as client:
        listing = client.list_docs(limit=2)
        assert seen == []
        first = await listing.collect(limit=2)
        assert [d.id for d in first] == ["a", "b"] and len(seen) == 1
        assert listing.resume_token == "t1"
        pages = [page async for page in client.list_docs(page_token="t1").pages()]
    assert [[d.id for d in p.items] for p in pages] == [["c", "d"], ["e"]]


async def test_list_rows_remembers_the_sync_token() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [{"id": "i-1", "values": {"c1": 1}}], "nextSyncToken": "sync-9"})

    async with client_for(httpx.MockTransport(handler)) as client:
        listing = client.list_rows("d", "t", sync_token="sync-8")
        rows = await listing.collect()
    assert isinstance(listing, CodaPaginator)
    assert listing.next_sync_token == "sync-9"
    assert rows[0].values == {"c1": 1}


def test_bad_limit_and_empty_ids_fail_before_io() -> None:
    client = CodaClient(api_token="tok-page-123")
    with pytest.raises(ConfigurationError):
        client.list_docs(limit=0)
    with pytest.raises(ConfigurationError):
        client.list_pages("")


# -- models -------------------------------------------------------------------------------------


def test_models_ignore_unknown_fields_and_keep_raw() -> None:
    raw = {
        "id": "d-1",
        "type": "doc",
        "name": "Plan",
        "browserLink": "https://coda.io/d/_dd-1",
        "createdAt": "2024-03-04T05:06:07.890Z",
        "brandNewField": {"added": "later"},
    }
    doc = Doc.from_json(raw)
    assert doc.id == "d-1" and doc.name == "Plan" and doc.browser_link == "https://coda.io/d/_dd-1"
    assert doc.created_at == datetime(2024, 3, 4, 5, 6, 7, 890000, tzinfo=timezone.utc)
    assert doc.raw is raw and doc.raw["brandNewField"] == {"added": "later"}
    assert "brandNewField" not in repr(doc)


def test_models_survive_missing_and_wrongly_typed_fields() -> None:
    row = Row.from_json({"id": 5, "index": "x", "values": ["not", "an", "object"], "createdAt": "yesterday"})
    assert row.id == "" and row.index is None and row.values == {} and row.created_at is None
    assert Pack.from_json({"id": 12.0}).id == 12
    assert Doc.from_json(None).id == ""
    result = models.RowsUpsertResult.from_json({"requestId": "r-1", "addedRowIds": ["i-1", 3]})
    assert isinstance(result, MutationResult)
    assert result.request_id == "r-1" and result.added_row_ids == ["i-1"]


def test_every_model_field_has_a_converter() -> None:
    for name in models.__all__:
        cls = getattr(models, name)
        if isinstance(cls, type) and issubclass(cls, CodaModel) and cls is not CodaModel:
            model = cls.from_json({})  # compiles every field's converter; builds with every default
            assert model == cls()
            assert [f[0] for f in cls._fields_] == list(vars(model))[: len(cls._fields_)]
