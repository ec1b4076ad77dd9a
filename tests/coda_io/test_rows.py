"""Rows the way Coda users work with them (issue 15 item 2): cells by column name or id,
column lookup refusing ambiguous names, quoted ``column:value`` queries, records keeping the
row id and index, upserts from dicts keyed by name, the DataFrame export, and ``request()``."""

from __future__ import annotations

import pickle
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timezone
from typing import Any

import httpx
import pytest

from cloud.coda_io import (
    AmbiguousColumnError,
    CodaClient,
    CodaRateLimiter,
    CodaRateLimits,
    Record,
    SyncCodaClient,
    TableColumns,
    TableRow,
    UnknownColumnError,
    models,
    records_to_dataframe,
    row_query,
)
from cloud.coda_io.types import RateClass
from cloud.common.exceptions import (
    ConfigurationError,
    MissingDependencyError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from cloud.common.retry import RetryPolicy

from .conftest import TOKEN, scaled_limits
from .fake_server import ServedFake

SEED_DOC = "doc-seed"
POLL = 0.01
TWIN_COLUMNS = [
    {"id": "c-a1", "name": "Owner", "format": {"type": "text"}},
    {"id": "c-a2", "name": "Owner", "format": {"type": "text"}},
    {"id": "c-q", "name": 'Say "hi": now\\', "format": {"type": "text"}},
    {"id": "c-n", "name": "Count", "format": {"type": "number"}},
]


def make_client(fake: ServedFake) -> CodaClient:
    return CodaClient(api_token=TOKEN, base_url=fake.base_url, rate_limits=scaled_limits())


def column(cid: str, name: str) -> models.Column:
    return models.Column.from_json({"id": cid, "type": "column", "name": name})


async def seed_tasks(client: CodaClient) -> None:
    records = [{"Name": f"task{n}", "Status": "done" if n % 2 else "open", "Points": n} for n in range(5)]
    await client.upsert_records(SEED_DOC, "Tasks", records, wait=True, poll_interval=POLL)


# -- the query builder ------------------------------------------------------------------------------


def test_row_query_quotes_names_and_json_encodes_values() -> None:
    assert row_query("Status", "Done") == '"Status":"Done"'
    assert row_query("c-tuVwxYz", 3) == "c-tuVwxYz:3"
    assert row_query(column("c-1", "Whatever"), True) == "c-1:true"
    assert row_query('Say "hi": now\\', "a:b") == '"Say \\"hi\\": now\\\\":"a:b"'
    assert row_query("Due", date(2024, 5, 6)) == '"Due":"2024-05-06"'
    moment = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
    assert row_query("When", moment) == '"When":"2024-05-06T07:08:09+00:00"'
    assert row_query("Price", 1.5) == '"Price":1.5' and row_query("Empty", None) == '"Empty":null'
    assert row_query("Émoji ✓", "ü") == '"Émoji ✓":"ü"'
    with pytest.raises(ConfigurationError):
        row_query("", 1)
    with pytest.raises(ConfigurationError):
        row_query("X", float("nan"))
    with pytest.raises(ConfigurationError):
        row_query("X", ["a"])


# -- column lookup --------------------------------------------------------------------------------


def test_columns_by_id_or_name_and_ambiguity() -> None:
    columns = TableColumns(models.Column.from_json(c) for c in TWIN_COLUMNS)
    assert columns.get("c-a1").name == "Owner" and columns.get("Count").id == "c-n"
    assert columns.id_of('Say "hi": now\\') == "c-q"
    with pytest.raises(AmbiguousColumnError) as ambiguous:
        columns.get("Owner")
    assert isinstance(ambiguous.value, ConfigurationError) and isinstance(ambiguous.value, LookupError)
    assert ambiguous.value.column_ids == ["c-a1", "c-a2"]  # type: ignore[attr-defined]
    assert pickle.loads(pickle.dumps(ambiguous.value)).column_ids == ["c-a1", "c-a2"]
    with pytest.raises(UnknownColumnError):
        columns.get("Nope")
    assert columns.labels == ["c-a1", "c-a2", 'Say "hi": now\\', "Count"]
    assert columns.query("Count", 2) == "c-n:2"
    assert len(columns) == 4 and columns[0].id == "c-a1" and [c.id for c in columns[1:2]] == ["c-a2"]


# -- rows and records against the fake ------------------------------------------------------------


async def test_iter_rows_gives_cells_by_name_or_id(fake_coda: ServedFake) -> None:
    async with make_client(fake_coda) as client:
        await seed_tasks(client)
        rows = await client.iter_rows(SEED_DOC, "Tasks", limit=2).collect()
        assert [r.index for r in rows] == [1, 2, 3, 4, 5]
        first = rows[0]
        assert isinstance(first, TableRow) and isinstance(first.row, models.Row)
        assert first["Name"] == "task0" and first["c-name"] == "task0" and first["Points"] == 0
        assert first.id.startswith("i-") and first.values == {"c-name": "task0", "c-status": "open", "c-points": 0}
        assert list(first) == first.keys() == ["Name", "Status", "Points"]
        assert first.items() == [("Name", "task0"), ("Status", "open"), ("Points", 0)]
        assert "Status" in first and "Nope" not in first and first.get("Status") == "open"
        assert first.to_record() == {"Name": "task0", "Status": "open", "Points": 0}
        assert first.to_record().row_id == first.id and first.to_record().row_index == 1
        with pytest.raises(UnknownColumnError):
            first["Nope"]

        done = await client.iter_rows(SEED_DOC, "Tasks", where={"Status": "done"}).collect()
        assert [r["Name"] for r in done] == ["task1", "task3"]
        one = await client.get_table_row(SEED_DOC, "Tasks", "task3")
        assert one["Points"] == 3 and one.id == done[1].id


async def test_iter_records_keeps_row_id_and_index(fake_coda: ServedFake) -> None:
    async with make_client(fake_coda) as client:
        await seed_tasks(client)
        records = await client.iter_records(SEED_DOC, "Tasks", limit=3).collect()
        assert all(isinstance(r, Record) for r in records)
        assert records[2] == {"Name": "task2", "Status": "open", "Points": 2}
        assert [r.row_index for r in records] == [1, 2, 3, 4, 5]
        assert len({r.row_id for r in records}) == 5 and all(r.row_id.startswith("i-") for r in records)
        assert records[2].row_name == "task2"
        copy = pickle.loads(pickle.dumps(records[2]))
        assert copy == records[2] and copy.row_id == records[2].row_id and copy.row_index == 3

        wanted = await client.iter_records(SEED_DOC, "Tasks", where={"Points": 4}).collect()
        assert [r["Name"] for r in wanted] == ["task4"] and wanted[0].row_index == 5
        quoted = await client.iter_records(SEED_DOC, "Tasks", query=row_query("Status", "done")).collect()
        assert [r["Name"] for r in quoted] == ["task1", "task3"]


async def test_names_with_quotes_and_twins(fake_coda: ServedFake) -> None:
    fake_coda.fake.add_table(SEED_DOC, "grid-twins", "Twins", [dict(c) for c in TWIN_COLUMNS])
    async with make_client(fake_coda) as client:
        await client.upsert_records(
            SEED_DOC,
            "Twins",
            [{'Say "hi": now\\': "x:1", "c-a1": "ann", "c-a2": "bob", "Count": 1}],
            resolve_columns=True,
            wait=True,
            poll_interval=POLL,
        )
        rows = await client.iter_rows(SEED_DOC, "Twins", where={'Say "hi": now\\': "x:1"}).collect()
        assert len(rows) == 1 and rows[0]["c-a2"] == "bob" and rows[0]['Say "hi": now\\'] == "x:1"
        assert list(rows[0]) == ["c-a1", "c-a2", 'Say "hi": now\\', "Count"]
        records = await client.iter_records(SEED_DOC, "Twins", query=row_query('Say "hi": now\\', "x:1")).collect()
        assert len(records) == 1 and records[0]["Count"] == 1
        with pytest.raises(AmbiguousColumnError):
            rows[0]["Owner"]
        with pytest.raises(AmbiguousColumnError):
            await client.iter_rows(SEED_DOC, "Twins", where={"Owner": "ann"}).collect()
        before = fake_coda.fake.table_values(SEED_DOC, "Twins")
        with pytest.raises(AmbiguousColumnError):
            await client.upsert_records(SEED_DOC, "Twins", [{"Owner": "carl"}], resolve_columns=True)
        with pytest.raises(AmbiguousColumnError):
            await client.upsert_records(SEED_DOC, "Twins", [{"Count": 2}], key_columns=["Owner"], resolve_columns=True)
        with pytest.raises(UnknownColumnError):
            await client.upsert_records(SEED_DOC, "Twins", [{"Nope": 1}], resolve_columns=True)
        with pytest.raises(ConfigurationError, match="two keys"):
            await client.upsert_records(SEED_DOC, "Twins", [{"Count": 1, "c-n": 2}], resolve_columns=True)
        assert fake_coda.fake.table_values(SEED_DOC, "Twins") == before


async def test_upserts_from_dicts_keyed_by_column_name(fake_coda: ServedFake) -> None:
    async with make_client(fake_coda) as client:
        columns = await client.get_columns(SEED_DOC, "Tasks")
        results = await client.upsert_records(
            SEED_DOC,
            "Tasks",
            [{"Name": "alpha", "Status": "open", "Points": 1}, {"Name": "beta", "Points": 2}],
            columns=columns,
            wait=True,
            poll_interval=POLL,
        )
        assert isinstance(results[0], models.RowsUpsertResult) and len(results[0].added_row_ids or []) == 2
        await client.upsert_records(
            SEED_DOC,
            "Tasks",
            [{"Name": "alpha", "Status": "done"}],
            key_columns=["Name"],
            columns=columns,
            wait=True,
            poll_interval=POLL,
        )
    values = fake_coda.fake.table_values(SEED_DOC, "Tasks")
    assert values == [{"Name": "alpha", "Status": "done", "Points": 1}, {"Name": "beta", "Points": 2}]


async def test_argument_mistakes_fail_before_any_request() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    transport = httpx.MockTransport(handler)
    async with CodaClient(api_token=TOKEN, base_url="https://coda.example/apis/v1", transport=transport) as client:
        with pytest.raises(ConfigurationError):
            client.iter_rows("d", "t", where={"A": 1, "B": 2})
        with pytest.raises(ConfigurationError):
            client.iter_records("d", "t", where={"A": 1}, query="x:1")
        with pytest.raises(ConfigurationError):
            client.iter_rows("d", "t", limit=0)


# -- the DataFrame export ---------------------------------------------------------------------------


async def test_table_to_dataframe_keeps_row_ids(fake_coda: ServedFake) -> None:
    import pandas  # noqa: F401  (the [pandas] extra is part of the test install)

    async with make_client(fake_coda) as client:
        await seed_tasks(client)
        frame = await client.table_to_dataframe(SEED_DOC, "Tasks")
        done = await client.table_to_dataframe(SEED_DOC, "Tasks", where={"Status": "done"})
        rows = await client.iter_rows(SEED_DOC, "Tasks").collect()
    assert list(frame.columns) == ["Name", "Status", "Points"]
    assert frame.index.name == "row_id" and list(frame.index) == [r.id for r in rows]
    assert frame.loc[rows[3].id, "Name"] == "task3" and frame.loc[rows[3].id, "Points"] == 3
    assert frame.attrs["row_index"][rows[3].id] == 4
    assert list(done["Name"]) == ["task1", "task3"]
    from_records = records_to_dataframe([r.to_record() for r in rows])
    assert from_records.equals(frame)
    empty = records_to_dataframe([], columns=["A"])
    assert list(empty.columns) == ["A"] and len(empty) == 0


async def test_dataframe_export_names_the_extra_when_pandas_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)

    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    transport = httpx.MockTransport(handler)
    async with CodaClient(api_token=TOKEN, base_url="https://coda.example/apis/v1", transport=transport) as client:
        with pytest.raises(MissingDependencyError) as missing:
            await client.table_to_dataframe("d", "t")
    assert missing.value.extra == "pandas" and "codomyrmex-cloud[pandas]" in str(missing.value)
    with pytest.raises(MissingDependencyError):
        records_to_dataframe([])


def test_sync_facade_rows_and_dataframe(fake_coda: ServedFake) -> None:
    import pandas  # noqa: F401  (the [pandas] extra is part of the test install)

    with SyncCodaClient(api_token=TOKEN, base_url=fake_coda.base_url, rate_limits=scaled_limits()) as client:
        client.upsert_records(SEED_DOC, "Tasks", [{"Name": "solo", "Points": 9}], wait=True, poll_interval=POLL)
        rows = list(client.iter_rows(SEED_DOC, "Tasks"))
        assert [r["Points"] for r in rows] == [9]
        frame = client.table_to_dataframe(SEED_DOC, "Tasks")
        assert frame.loc[rows[0].id, "Name"] == "solo"
        assert client.request("GET", f"/docs/{SEED_DOC}/tables/grid-tasks")["name"] == "Tasks"


# -- request(): the escape hatch ----------------------------------------------------------------------


async def test_request_reaches_any_endpoint_through_the_client(fake_coda: ServedFake) -> None:
    async with make_client(fake_coda) as client:
        table = await client.request("GET", f"/docs/{SEED_DOC}/tables/grid-tasks")
        assert table["name"] == "Tasks" and table["rowCount"] == 0
        rows = await client.request("GET", f"/docs/{SEED_DOC}/tables/Tasks/rows", query={"useColumnNames": True})
        assert rows["items"] == []
        answer = await client.request(
            "POST",
            f"/docs/{SEED_DOC}/tables/Tasks/rows",
            body={"rows": [{"cells": [{"column": "Name", "value": "via request"}]}]},
        )
        await client.wait_for_mutation(str(answer["requestId"]), poll_interval=POLL)
        with pytest.raises(NotFoundError) as missing:
            await client.request("GET", "/docs/nope")
        assert missing.value.operation == "request"
    assert fake_coda.fake.table_values(SEED_DOC, "Tasks") == [{"Name": "via request"}]


class RecordingLimiter(CodaRateLimiter):
    """Records the rate class of every slot taken."""

    def __init__(self) -> None:
        super().__init__(CodaRateLimits.unlimited())
        self.classes: list[str] = []

    @asynccontextmanager
    async def slot(self, rate_class: RateClass) -> AsyncIterator[None]:
        self.classes.append(rate_class)
        async with super().slot(rate_class):
            yield


async def test_request_uses_the_limiter_retries_and_errors() -> None:
    seen: list[httpx.Request] = []
    answers = [
        httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "slow down"}),
        httpx.Response(200, json={"items": [], "ok": True}),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/forbidden"):
            return httpx.Response(403, json={"statusMessage": "Forbidden", "message": "no"})
        return answers.pop(0) if answers else httpx.Response(200, json={"ok": True})

    limiter = RecordingLimiter()
    retry = RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0)
    async with CodaClient(
        api_token=TOKEN,
        base_url="https://coda.example/apis/v1",
        transport=httpx.MockTransport(handler),
        rate_limits=limiter,
        retry=retry,
    ) as client:
        got: dict[str, Any] = await client.request(
            "get", "/docs/d%2F1/newThings", query={"flag": True, "when": date(2024, 5, 6), "skip": None}
        )
        assert got == {"items": [], "ok": True}
        await client.request("GET", "/docs")
        await client.request("POST", "/docs/d/newThings", body={"a": 1})
        await client.request("GET", "/analytics/newReport")
        await client.request("DELETE", "/docs/d/pages/p/content", rate_class="write_doc_content")
        with pytest.raises(PermissionDeniedError):
            await client.request("GET", "/forbidden")
    assert [r.url.raw_path.decode() for r in seen[:2]] == [
        "/apis/v1/docs/d%2F1/newThings?flag=true&when=2024-05-06"
    ] * 2
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert seen[2].url.path == "/apis/v1/docs" and seen[3].content == b'{"a":1}'
    assert limiter.classes == ["read", "read", "list_docs", "write", "analytics", "write_doc_content", "read"]


async def test_request_refuses_unsafe_paths_before_io() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    transport = httpx.MockTransport(handler)
    async with CodaClient(api_token=TOKEN, base_url="https://coda.example/apis/v1", transport=transport) as client:
        for path in ("docs", "//evil.example/x", "https://evil.example/", "/docs/../x", "/a?b=1", "/a b", "/{docId}"):
            with pytest.raises(ConfigurationError):
                await client.request("GET", path)
        with pytest.raises(ConfigurationError):
            await client.request("TRACE", "/docs")
        with pytest.raises(ConfigurationError):
            await client.request("GET", "/docs", rate_class="fast")  # type: ignore[arg-type]


async def test_request_retries_429_for_posts_too() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "later"})

    retry = RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0)
    async with CodaClient(
        api_token=TOKEN,
        base_url="https://coda.example/apis/v1",
        transport=httpx.MockTransport(handler),
        rate_limits=CodaRateLimits.unlimited(),
        retry=retry,
    ) as client:
        with pytest.raises(RateLimitError):
            await client.request("POST", "/docs/d/things", body={})
    assert calls == 2
