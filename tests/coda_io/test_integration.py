"""CodaClient and SyncCodaClient against the stateful fake Coda on 127.0.0.1 (real HTTP).

The fake enforces the rate limits in a sliding window and answers 429 beyond them; both
sides run with every window ten times shorter.  Assertions count things (requests, rows,
429s); none depends on how fast the machine is.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import pytest

from cloud.coda_io import CodaClient, CreatedDoc, Doc, MutationResult, Row, SyncCodaClient, Table, models
from cloud.common.exceptions import AuthenticationError, NotFoundError, ServerError
from cloud.common.retry import RetryPolicy
from cloud.common.sync import SyncPaginator

from .conftest import TOKEN, scaled_limits
from .fake_server import ServedFake

POLL = 0.01
SEED_DOC = "doc-seed"


def make_client(fake: ServedFake, **options: object) -> CodaClient:
    return CodaClient(api_token=TOKEN, base_url=fake.base_url, rate_limits=scaled_limits(), **options)  # type: ignore[arg-type]


async def test_docs_pages_and_export_flow(fake_coda: ServedFake, tmp_path: Path) -> None:
    fake = fake_coda.fake
    async with make_client(fake_coda) as client:
        user = await client.whoami()
        assert user.login_id == "user@example.com"

        created = await client.create_doc(title="Plan")
        assert isinstance(created, CreatedDoc) and created.request_id
        status = await client.wait_for_mutation(created.request_id, poll_interval=POLL)
        assert status.completed

        doc = await client.get_doc(created.id)
        assert isinstance(doc, Doc) and doc.name == "Plan" and doc.workspace_id == "ws-1"
        assert doc.raw["someFieldCodaAddedLater"] == {"nested": True}

        content = "# Notes\n\nhello *world*\n"
        page = await client.create_page(
            created.id,
            name="Notes",
            page_content={"type": "canvas", "canvasContent": {"format": "markdown", "content": content}},
        )
        assert isinstance(page, MutationResult) and page.id
        await client.wait_for_mutation(page.request_id, poll_interval=POLL)

        pages = await client.list_pages(created.id, limit=1).collect()
        assert [p.name for p in pages] == ["Page 1", "Notes"]
        assert (await client.get_page(created.id, "Notes")).id == page.id

        markdown = await client.export_page(created.id, "Notes", path=tmp_path / "notes.md", poll_interval=POLL)
        assert markdown.read_text() == content
        html = await client.export_page(
            created.id, page.id or "", output_format="html", path=tmp_path / "notes.html", poll_interval=POLL
        )
        assert "hello *world*" in html.read_text()
        assert fake.download_authorization == [None, None]  # the token never went to the download link

        docs = await client.list_docs(query="plan").collect()
        assert [d.id for d in docs] == [created.id]

        with pytest.raises(NotFoundError, match="does not exist"):
            await client.get_doc("no-such-doc")
    assert fake.status_counts[429] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.html", "notes.md"]


async def test_tables_rows_and_upserts(fake_coda: ServedFake) -> None:
    fake = fake_coda.fake
    async with make_client(fake_coda) as client:
        tables = await client.list_tables(SEED_DOC).collect()
        assert [t.name for t in tables] == ["Tasks"]
        table = await client.get_table(SEED_DOC, "Tasks")
        assert isinstance(table, Table) and table.row_count == 0
        columns = await client.list_columns(SEED_DOC, "Tasks", limit=2).collect()
        assert [c.name for c in columns] == ["Name", "Status", "Points"]
        column_format = (await client.get_column(SEED_DOC, "Tasks", "Points")).format
        assert isinstance(column_format, models.NumericColumnFormat) and column_format.type == "number"

        records = [{"Name": f"task{i}", "Status": "open", "Points": i} for i in range(7)]
        results = await client.upsert_records(
            SEED_DOC, "Tasks", records, key_columns=["Name"], wait=True, poll_interval=POLL
        )
        assert len(results) == 1
        await client.upsert_records(
            SEED_DOC,
            "Tasks",
            [{"Name": "task3", "Status": "done"}],
            key_columns=["Name"],
            wait=True,
            poll_interval=POLL,
        )
        got = await client.iter_records(SEED_DOC, "Tasks", limit=3).collect()
        assert len(got) == 7
        assert {r["Name"]: r["Status"] for r in got}["task3"] == "done"
        assert {r["Name"]: r["Points"] for r in got}["task3"] == 3

        rows = await client.list_rows(SEED_DOC, "Tasks", limit=2).collect()
        assert len(rows) == 7 and all(isinstance(r, Row) for r in rows)
        assert set(rows[0].values) == {"c-name", "c-status", "c-points"}

        done = await client.list_rows(SEED_DOC, "Tasks", query='Status:"done"', use_column_names=True).collect()
        assert [r.values["Name"] for r in done] == ["task3"]
        rich = await client.iter_records(SEED_DOC, "Tasks", value_format="rich", limit=50).collect()
        assert rich[0]["Name"] == {"@type": "RichValue", "value": "task0"}

        row = await client.get_row(SEED_DOC, "Tasks", "task1", use_column_names=True)
        assert row.values["Points"] == 1 and isinstance(row.parent, models.TableReference)
        assert row.parent.id == "grid-tasks" and row.parent.type == "table"
        update = await client.update_row(SEED_DOC, "Tasks", row.id, row={"cells": [{"column": "Points", "value": 100}]})
        await client.wait_for_mutation(update.request_id, poll_interval=POLL)
        assert (await client.get_row(SEED_DOC, "Tasks", row.id, use_column_names=True)).values["Points"] == 100

        gone = await client.delete_row(SEED_DOC, "Tasks", "task0")
        await client.wait_for_mutation(gone.request_id, poll_interval=POLL)
        several = await client.delete_rows(SEED_DOC, "Tasks", row_ids=[rows[5].id, rows[6].id])
        assert several.row_ids == [rows[5].id, rows[6].id]
        await client.wait_for_mutation(several.request_id, poll_interval=POLL)
        names = sorted(r["Name"] for r in fake.table_values(SEED_DOC, "Tasks"))
        assert names == ["task1", "task2", "task3", "task4"]
    assert fake.status_counts[429] == 0


async def test_a_burst_stays_within_the_limits_and_loses_no_write(fake_coda: ServedFake) -> None:
    """300 reads, 30 writes and 12 doc listings at once through one client: the limiter
    paces them so that the server never answers 429, and every write lands."""
    fake = fake_coda.fake
    written: list[MutationResult] = []
    async with make_client(fake_coda) as client:

        async def read(number: int) -> None:
            if number % 3 == 0:
                await client.get_table(SEED_DOC, "Tasks")
            elif number % 3 == 1:
                await client.get_column(SEED_DOC, "Tasks", "Name")
            else:
                await client.get_doc(SEED_DOC)

        async def write(number: int) -> None:
            cells = [{"column": "Name", "value": f"burst{number}"}, {"column": "Points", "value": number}]
            written.append(await client.upsert_rows(SEED_DOC, "Tasks", rows=[{"cells": cells}], key_columns=["Name"]))

        async def list_docs() -> None:
            assert await client.list_docs().collect()

        async with anyio.create_task_group() as group:
            for number in range(300):
                group.start_soon(read, number)
            for number in range(30):
                group.start_soon(write, number)
            for _ in range(12):
                group.start_soon(list_docs)

        assert fake.status_counts[429] == 0
        assert client.stats.retries == 0
        assert fake.class_counts["read"] == 300
        assert fake.class_counts["write"] == 30
        assert fake.class_counts["list_docs"] == 12
        for result in written:
            await client.wait_for_mutation(result.request_id, poll_interval=POLL)
    names = {r["Name"] for r in fake.table_values(SEED_DOC, "Tasks")}
    assert names == {f"burst{n}" for n in range(30)}
    assert fake.status_counts[429] == 0


async def test_server_errors_over_real_http(fake_coda: ServedFake) -> None:
    fake = fake_coda.fake
    retry = RetryPolicy(base_delay=0.01)
    async with make_client(fake_coda, retry=retry) as client:
        fake.fail_next.append(("GET", 503))
        assert (await client.get_doc(SEED_DOC)).id == SEED_DOC
        assert client.stats.retries == 1

        fake.fail_next.append(("POST", 500))
        with pytest.raises(ServerError, match="injected failure"):
            await client.upsert_rows(SEED_DOC, "Tasks", rows=[{"cells": [{"column": "Name", "value": "x"}]}])
        assert client.stats.retries == 1  # the POST was not replayed
    assert fake.table_values(SEED_DOC, "Tasks") == []

    async with CodaClient(api_token="wrong-token-000", base_url=fake_coda.base_url) as stranger:
        with pytest.raises(AuthenticationError) as info:
            await stranger.whoami()
    assert "wrong-token-000" not in str(info.value)


def test_sync_client_from_plain_threads(fake_coda: ServedFake, tmp_path: Path) -> None:
    fake = fake_coda.fake
    with SyncCodaClient(api_token=TOKEN, base_url=fake_coda.base_url, rate_limits=scaled_limits()) as client:

        def worker(number: int) -> str:
            for _ in range(5):
                assert client.get_table(SEED_DOC, "Tasks").name == "Tasks"
            cells = [{"column": "Name", "value": f"sync{number}"}]
            result = client.upsert_rows(SEED_DOC, "Tasks", rows=[{"cells": cells}], key_columns=["Name"])
            assert client.wait_for_mutation(result.request_id, poll_interval=POLL).completed
            return result.request_id

        with ThreadPoolExecutor(max_workers=8) as pool:
            request_ids = list(pool.map(worker, range(16)))
        assert len(set(request_ids)) == 16

        listing = client.iter_records(SEED_DOC, "Tasks", limit=5)
        assert isinstance(listing, SyncPaginator)
        records = list(listing)
        assert sorted(r["Name"] for r in records) == sorted(f"sync{n}" for n in range(16))

        page = client.create_page(SEED_DOC, name="Sync page")
        client.wait_for_mutation(page.request_id, poll_interval=POLL)
        path = client.export_page(SEED_DOC, "Home", path=tmp_path / "home.md", poll_interval=POLL)
        assert path.read_text() == "# Home\n"
        assert [d.id for d in client.list_docs().collect()] == [SEED_DOC]
        with pytest.raises(NotFoundError):
            client.get_doc("missing")
        assert client.stats.requests > 16 * 6
    assert fake.status_counts[429] == 0
    assert fake.download_authorization == [None]


async def test_the_fake_enforces_the_limits_when_the_client_does_not_pace(fake_coda: ServedFake) -> None:
    """Control for the burst test: without client-side pacing the fake answers 429; the
    client then retries those POSTs (the server applied nothing) after ``Retry-After``."""
    from cloud.coda_io import CodaRateLimits

    fake = fake_coda.fake
    unpaced = CodaClient(
        api_token=TOKEN,
        base_url=fake_coda.base_url,
        rate_limits=CodaRateLimits.unlimited(),
        retry=RetryPolicy(max_attempts=50, base_delay=0.01),
    )
    results: list[MutationResult] = []
    async with unpaced, anyio.create_task_group() as group:
        for number in range(25):
            cells = [{"column": "Name", "value": f"unpaced{number}"}]

            async def write(cells: list[dict[str, object]] = cells) -> None:
                results.append(await unpaced.upsert_rows(SEED_DOC, "Tasks", rows=[{"cells": cells}]))

            group.start_soon(write)
    assert fake.status_counts[429] > 0
    assert unpaced.stats.retries == fake.status_counts[429]
    assert fake.class_counts["write"] == 25
    async with make_client(fake_coda) as client:
        for result in results:
            await client.wait_for_mutation(result.request_id, poll_interval=POLL)
    assert len(fake.table_values(SEED_DOC, "Tasks")) == 25
