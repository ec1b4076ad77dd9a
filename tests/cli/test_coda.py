"""``cloud coda ...`` against the Coda fake server of tests/coda_io."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.coda_helpers import DOC, ROWS, TABLE, TOKEN, seed_rows
from tests.cli.conftest import CliResult, run_in_process
from tests.coda_io.fake_server import FakeCoda, ServedFake


@pytest.fixture
def coda_fake() -> Iterator[ServedFake]:
    """A fresh fake Coda (exports complete at once) with three rows in Tasks."""
    served = ServedFake(FakeCoda(token=TOKEN, export_polls=0)).start()
    seed_rows(served.fake, ROWS)
    try:
        yield served
    finally:
        served.stop()


def coda(served: ServedFake, *args: object, token: str | None = TOKEN) -> CliResult:
    env = {"CODA_API_BASE_URL": served.base_url}
    if token is not None:
        env["CODA_API_TOKEN"] = token
    return run_in_process("coda", *args, env=env)


def test_whoami_docs_tables(coda_fake: ServedFake) -> None:
    me = coda(coda_fake, "whoami")
    assert me.code == 0, me.stderr
    assert "<" in me.stdout and me.stdout.count("\n") == 1
    assert coda(coda_fake, "whoami", "--json").json()["type"] == "user"

    docs = coda(coda_fake, "docs")
    assert docs.code == 0, docs.stderr
    assert docs.lines() == [f"{DOC}\tSeed doc"]
    assert [d["id"] for d in coda(coda_fake, "docs", "--json").json()] == [DOC]

    tables = coda(coda_fake, "tables", DOC)
    assert tables.code == 0, tables.stderr
    assert tables.lines()[0].split("\t")[:2] == [TABLE, "Tasks"]
    assert coda(coda_fake, "tables", DOC, "--json").json()[0]["name"] == "Tasks"


def test_rows_as_csv_and_jsonl(coda_fake: ServedFake, tmp_path: Path) -> None:
    as_csv = coda(coda_fake, "rows", DOC, "Tasks")
    assert as_csv.code == 0, as_csv.stderr
    parsed = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["Name"] for r in parsed] == [r["Name"] for r in ROWS]
    assert parsed[0] == {"Name": "Write the CLI", "Status": "done", "Points": "5"}

    as_jsonl = coda(coda_fake, "rows", DOC, TABLE, "--format", "jsonl")
    assert as_jsonl.code == 0, as_jsonl.stderr
    assert [json.loads(line) for line in as_jsonl.lines()] == ROWS

    target = tmp_path / "rows.csv"
    to_file = coda(coda_fake, "rows", DOC, TABLE, "-o", target, "--limit", "2")
    assert to_file.code == 0 and to_file.stdout == "" and "wrote 2 rows" in to_file.stderr
    assert target.read_text().splitlines()[0] == "Name,Status,Points" and len(target.read_text().splitlines()) == 3


def test_export_page(coda_fake: ServedFake, tmp_path: Path) -> None:
    markdown = tmp_path / "home.md"
    done = coda(coda_fake, "export", DOC, "Home", "--format", "markdown", "-o", markdown)
    assert done.code == 0, done.stderr
    assert markdown.read_text() == "# Home\n"
    page = tmp_path / "home.html"
    as_json = coda(coda_fake, "export", DOC, "canvas-home", "--format", "html", "-o", page, "--json")
    assert as_json.json() == {"path": str(page), "format": "html", "bytes": page.stat().st_size}
    assert page.read_text().startswith("<html>")


def test_coda_errors(coda_fake: ServedFake) -> None:
    no_token = coda(coda_fake, "whoami", token=None)
    assert no_token.code == 2 and no_token.stderr.count("\n") == 1 and "CODA_API_TOKEN" in no_token.stderr
    missing = coda(coda_fake, "tables", "doc-nope")
    assert missing.code == 1 and missing.stderr.startswith("cloud: not found:")
    wrong = coda(coda_fake, "whoami", token="wrong-token")
    assert wrong.code == 1 and wrong.stderr.startswith("cloud: authentication failed:")
    assert TOKEN not in no_token.stderr + missing.stderr + wrong.stderr and "wrong-token" not in wrong.stderr
    bad_format = coda(coda_fake, "rows", DOC, TABLE, "--format", "xml")
    assert bad_format.code == 2
