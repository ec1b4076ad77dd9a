"""``cloud coda ...``: read Coda docs from the command line (token from ``CODA_API_TOKEN``)."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .output import Output
from .runner import run_command

if TYPE_CHECKING:
    from cloud.coda_io import CodaClient

__all__ = ["docs", "export", "rows", "tables", "whoami"]


@asynccontextmanager
async def _client(base_url: str | None) -> AsyncIterator[CodaClient]:
    from cloud.coda_io import CodaClient

    base_url = base_url or os.environ.get("CODA_API_BASE_URL") or None
    client = CodaClient(base_url=base_url) if base_url else CodaClient()
    async with client:
        yield client


def _run(debug: bool, json_: bool, body: Callable[[], Awaitable[int]]) -> int:
    return run_command(Output(json=json_, debug=debug), body)


def _emit(value: object) -> None:
    sys.stdout.write(json.dumps(value, default=str) + "\n")


def whoami(args: argparse.Namespace) -> int:
    """Show the user the API token belongs to."""
    base_url, json_ = args.base_url, args.json

    async def body() -> int:
        async with _client(base_url) as coda:
            user = await coda.whoami()
        if json_:
            _emit(user.raw)
        else:
            sys.stdout.write(
                f"{user.name} <{user.login_id}>" + (f" (token {user.token_name})" if user.token_name else "") + "\n"
            )
        return 0

    return _run(args.debug, json_, body)


def docs(args: argparse.Namespace) -> int:
    """List the docs the token can see (id and name)."""
    query, limit, base_url, json_ = args.query, args.limit, args.base_url, args.json

    async def body() -> int:
        async with _client(base_url) as coda:
            found = await coda.list_docs(query=query).collect(limit=limit)
        if json_:
            _emit([d.raw for d in found])
        else:
            for d in found:
                sys.stdout.write(f"{d.id}\t{d.name}\n")
        return 0

    return _run(args.debug, json_, body)


def tables(args: argparse.Namespace) -> int:
    """List the tables and views of a doc (id, name, row count)."""
    doc, limit, base_url, json_ = args.doc, args.limit, args.base_url, args.json

    async def body() -> int:
        async with _client(base_url) as coda:
            found = await coda.list_tables(doc).collect(limit=limit)
        if json_:
            _emit([t.raw for t in found])
        else:
            for t in found:
                rows = "" if t.row_count is None else str(t.row_count)
                sys.stdout.write(f"{t.id}\t{t.name}\t{rows}\n")
        return 0

    return _run(args.debug, json_, body)


def _open_sink(path: Path | None) -> TextIO:
    return open(path, "w", encoding="utf-8", newline="") if path else sys.stdout


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def rows(args: argparse.Namespace) -> int:
    """Print a table's rows, keyed by column name, as CSV or JSON lines (streamed page by page)."""
    doc, table, format_, query, limit, base_url = (
        args.doc,
        args.table,
        args.format,
        args.query,
        args.limit,
        args.base_url,
    )
    output = Path(args.output) if args.output else None

    async def body() -> int:
        async with _client(base_url) as coda:
            sink = _open_sink(output)
            try:
                count = 0
                records = coda.iter_records(doc, table, query=query, value_format="simple")
                if format_ == "jsonl":
                    async for record in records:
                        sink.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
                        count += 1
                        if limit is not None and count >= limit:
                            break
                else:
                    columns = [c.name async for c in coda.list_columns(doc, table)]
                    writer = csv.writer(sink, lineterminator="\n")
                    if columns:
                        writer.writerow(columns)
                    async for record in records:
                        if not columns:  # no column list: the first row's keys make the header
                            columns = list(record)
                            writer.writerow(columns)
                        writer.writerow([_cell(record.get(name)) for name in columns])
                        count += 1
                        if limit is not None and count >= limit:
                            break
            finally:
                if output:
                    sink.close()
                else:
                    sink.flush()
        if output:
            sys.stderr.write(f"wrote {count} rows to {output}\n")
        return 0

    return _run(args.debug, False, body)


def export(args: argparse.Namespace) -> int:
    """Export a page's content as Markdown or HTML into a file."""
    doc, page, format_, base_url, json_ = args.doc, args.page, args.format, args.base_url, args.json
    output = Path(args.output)

    async def body() -> int:
        async with _client(base_url) as coda:
            path = await coda.export_page(doc, page, output_format=format_, path=output)
        size = path.stat().st_size
        if json_:
            _emit({"path": str(path), "format": format_, "bytes": size})
        else:
            sys.stdout.write(f"exported {page} to {path} ({size} bytes)\n")
        return 0

    return _run(args.debug, json_, body)
