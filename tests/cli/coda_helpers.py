"""Rows and helpers shared by the Coda CLI tests and the Coda example's test."""

from __future__ import annotations

from tests.coda_io.fake_server import FakeCoda

TOKEN = "cli-test-token-7d2e"
DOC = "doc-seed"
TABLE = "grid-tasks"
ROWS = [
    {"Name": "Write the CLI", "Status": "done", "Points": 5},
    {"Name": 'Quote "this", please', "Status": "open", "Points": 3},
    {"Name": "Ship it", "Status": "open", "Points": 8},
]


def seed_rows(fake: FakeCoda, rows: list[dict[str, object]]) -> None:
    """Put rows in the fake's seeded Tasks table directly."""
    with fake.lock:
        table = fake.docs[DOC].tables[TABLE]
        ids = {c["name"]: c["id"] for c in table.columns}
        for index, row in enumerate(rows, start=1):
            row_id = f"i-cli-{index}"
            table.rows[row_id] = {
                "id": row_id,
                "index": index,
                "values": {ids[k]: v for k, v in row.items()},
                "createdAt": "2024-01-01T00:00:00.000Z",
                "updatedAt": "2024-01-01T00:00:00.000Z",
            }
