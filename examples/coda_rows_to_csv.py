"""Write the rows of a Coda table to a CSV file, one page of rows at a time.

    CODA_API_TOKEN=... python examples/coda_rows_to_csv.py DOC_ID TABLE [-o rows.csv] [--base-url URL]

The header is the table's columns in order; values come in Coda's "simple" format (lists
and objects are written as JSON).  ``--base-url`` (or ``CODA_API_BASE_URL``) points the
client at another server, such as a test fake.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from typing import TextIO

import anyio

from cloud.coda_io import CodaClient


def cell(value: object) -> str:
    """A CSV cell: text as is, anything else as JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


async def export_rows(coda: CodaClient, doc_id: str, table: str, out: TextIO) -> int:
    columns = [column.name async for column in coda.list_columns(doc_id, table)]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    async for record in coda.iter_records(doc_id, table, value_format="simple"):  # dicts keyed by column name
        writer.writerow([cell(record.get(name)) for name in columns])
        count += 1
    return count


async def main(doc_id: str, table: str, out: TextIO, base_url: str | None) -> None:
    client = CodaClient(base_url=base_url) if base_url else CodaClient()  # token: $CODA_API_TOKEN
    async with client as coda:
        count = await export_rows(coda, doc_id, table, out)
    print(f"{count} rows", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("doc_id")
    parser.add_argument("table", help="table id or name")
    parser.add_argument("-o", "--output", help="CSV file to write (default: stdout)")
    parser.add_argument("--base-url", default=os.environ.get("CODA_API_BASE_URL"))
    args = parser.parse_args()
    if args.output is None:
        anyio.run(main, args.doc_id, args.table, sys.stdout, args.base_url)
    else:
        with open(args.output, "w", encoding="utf-8", newline="") as output:
            anyio.run(main, args.doc_id, args.table, output, args.base_url)
