"""wait_for_mutation, export_page, iter_records and upsert_records on MockTransport."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from cloud.coda_io import CodaClient, CodaRateLimits
from cloud.common.exceptions import APIError, ConfigurationError, RequestTimeoutError, ServerError
from cloud.common.retry import RetryPolicy

TOKEN = "tok-convenience-42"
BASE = "https://coda.example/apis/v1"


def client_for(handler: httpx.MockTransport, **options: object) -> CodaClient:
    return CodaClient(
        api_token=TOKEN,
        base_url=BASE,
        transport=handler,
        rate_limits=CodaRateLimits.unlimited(),
        **options,  # type: ignore[arg-type]
    )


# -- wait_for_mutation ------------------------------------------------------------------------


async def test_wait_for_mutation_polls_until_completed() -> None:
    polls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        polls.append(request.url.path)
        return httpx.Response(200, json={"completed": len(polls) >= 3, "warning": "w" if len(polls) >= 3 else None})

    async with client_for(httpx.MockTransport(handler)) as client:
        status = await client.wait_for_mutation("req-1", poll_interval=0.001, max_poll_interval=0.002)
    assert status.completed and status.warning == "w"
    assert polls == ["/apis/v1/mutationStatus/req-1"] * 3


async def test_wait_for_mutation_times_out_with_a_typed_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"completed": False})

    async with client_for(httpx.MockTransport(handler)) as client:
        with pytest.raises(RequestTimeoutError, match="req-2"):
            await client.wait_for_mutation("req-2", timeout=0.05, poll_interval=0.005)
        with pytest.raises(ConfigurationError):
            await client.wait_for_mutation("")


# -- export_page -------------------------------------------------------------------------------


def export_server(
    state: dict[str, list[httpx.Request]], *, outcome: str = "complete", download: httpx.Response | None = None
) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "files.example":
            state.setdefault("downloads", []).append(request)
            return download or httpx.Response(200, content=b"# Title\n\nBody text\n")
        state.setdefault("api", []).append(request)
        path = request.url.path
        if request.method == "POST" and path.endswith("/export"):
            assert json.loads(request.content) == {"outputFormat": "markdown"}
            return httpx.Response(202, json={"id": "exp-1", "status": "inProgress", "href": "h"})
        if path.endswith("/export/exp-1"):
            polls = len([r for r in state["api"] if r.url.path.endswith("/export/exp-1")])
            if polls < 2:
                return httpx.Response(200, json={"id": "exp-1", "status": "inProgress", "href": "h"})
            if outcome == "failed":
                return httpx.Response(200, json={"id": "exp-1", "status": "failed", "href": "h", "error": "too big"})
            link = "https://files.example/export/exp-1.md?X-Amz-Signature=abc"
            return httpx.Response(200, json={"id": "exp-1", "status": "complete", "href": "h", "downloadLink": link})
        return httpx.Response(404, json={"message": "unexpected"})

    return httpx.MockTransport(handler)


async def test_export_page_downloads_without_the_token(tmp_path: Path) -> None:
    state: dict[str, list[httpx.Request]] = {}
    target = tmp_path / "page.md"
    async with client_for(export_server(state)) as client:
        written = await client.export_page("doc 1", "Home/Page", path=target, poll_interval=0.001)
    assert written == target
    assert target.read_bytes() == b"# Title\n\nBody text\n"
    assert state["api"][0].url.raw_path.decode() == "/apis/v1/docs/doc%201/pages/Home%2FPage/export"
    (download,) = state["downloads"]
    assert "authorization" not in download.headers
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in state["api"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.md"]


async def test_failed_export_raises_and_writes_nothing(tmp_path: Path) -> None:
    async with client_for(export_server({}, outcome="failed")) as client:
        with pytest.raises(APIError, match="too big"):
            await client.export_page("d", "p", path=tmp_path / "out.md", poll_interval=0.001)
    assert list(tmp_path.iterdir()) == []


async def test_failed_download_leaves_no_partial_file(tmp_path: Path) -> None:
    retry = RetryPolicy(max_attempts=2, sleep=_no_sleep)
    server = export_server({}, download=httpx.Response(503, text="<Error>SlowDown</Error>"))
    async with client_for(server, retry=retry) as client:
        with pytest.raises(ServerError):
            await client.export_page("d", "p", path=tmp_path / "out.md", poll_interval=0.001)
    assert list(tmp_path.iterdir()) == []


async def _no_sleep(delay: float) -> None:
    return None


async def test_export_checks_its_arguments_before_any_io(tmp_path: Path) -> None:
    state: dict[str, list[httpx.Request]] = {}
    async with client_for(export_server(state)) as client:
        with pytest.raises(ConfigurationError):
            await client.export_page("d", "p", path=tmp_path / "missing" / "out.md")
        with pytest.raises(ConfigurationError):
            await client.export_page("d", "p", path=tmp_path, output_format="markdown")
        with pytest.raises(ConfigurationError):
            await client.export_page("d", "p", path=tmp_path / "x", output_format="pdf")  # type: ignore[arg-type]
    assert state == {}


# -- rows as dicts -----------------------------------------------------------------------------


async def test_iter_records_yields_dicts_keyed_by_column_name() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        query = parse_qs(request.url.query.decode())
        if "pageToken" not in query:
            items = [{"id": "i-1", "values": {"Name": "a", "Tags": ["x", "y"]}}]
            return httpx.Response(200, json={"items": items, "nextPageToken": "p2"})
        return httpx.Response(200, json={"items": [{"id": "i-2", "values": {"Name": "b", "Tags": []}}]})

    async with client_for(httpx.MockTransport(handler)) as client:
        records = await client.iter_records("d", "Tasks", value_format="simpleWithArrays", limit=1).collect()
    assert records == [{"Name": "a", "Tags": ["x", "y"]}, {"Name": "b", "Tags": []}]
    first = parse_qs(seen[0].url.query.decode())
    assert first == {"useColumnNames": ["true"], "valueFormat": ["simpleWithArrays"], "limit": ["1"]}


async def test_upsert_records_batches_and_keeps_order() -> None:
    bodies: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/apis/v1/mutationStatus/"):
            return httpx.Response(200, json={"completed": True})
        bodies.append(json.loads(request.content))
        return httpx.Response(202, json={"requestId": f"req-{len(bodies)}"})

    records = [{"Name": f"n{i}", "Points": i} for i in range(1200)]
    snapshot = json.dumps(records)
    async with client_for(httpx.MockTransport(handler)) as client:
        results = await client.upsert_records("d", "Tasks", records, key_columns=["Name"], wait=True)
    assert [r.request_id for r in results] == ["req-1", "req-2", "req-3"]
    assert [len(b["rows"]) for b in bodies] == [500, 500, 200]  # type: ignore[arg-type]
    assert all(b["keyColumns"] == ["Name"] for b in bodies)
    sent = [row for b in bodies for row in b["rows"]]  # type: ignore[attr-defined]
    assert sent[0] == {"cells": [{"column": "Name", "value": "n0"}, {"column": "Points", "value": 0}]}
    assert [row["cells"][0]["value"] for row in sent] == [f"n{i}" for i in range(1200)]
    assert json.dumps(records) == snapshot


async def test_upsert_records_splits_by_size_too() -> None:
    counts: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        counts.append(len(json.loads(request.content)["rows"]))
        return httpx.Response(202, json={"requestId": "r"})

    records = [{"Text": "x" * 1000} for _ in range(10)]
    async with client_for(httpx.MockTransport(handler)) as client:
        await client.upsert_records("d", "t", records, max_batch_bytes=3500)
    assert counts == [3, 3, 3, 1]


async def test_upsert_records_checks_every_record_before_sending() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(202, json={"requestId": "r"})

    async with client_for(httpx.MockTransport(handler)) as client:
        with pytest.raises(ConfigurationError, match="record 2"):
            await client.upsert_records("d", "t", [{"Name": "a"}, {"Name": "b"}, {"Other": 1}], key_columns=["Name"])
        with pytest.raises(ConfigurationError):
            await client.upsert_records("d", "t", [{"Name": "a"}], key_columns="Name")
        with pytest.raises(ConfigurationError):
            await client.upsert_records("d", "t", [{"Name": {1, 2}}])
        assert await client.upsert_records("d", "t", []) == []
    assert sent == []
