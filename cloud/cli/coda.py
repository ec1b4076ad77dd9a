"""``cloud coda ...``: read Coda docs from the command line (token from ``CODA_API_TOKEN``)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from .output import Output
from .runner import run_command

if TYPE_CHECKING:
    from cloud.coda_io import CodaClient

__all__ = ["coda_app"]

coda_app = typer.Typer(
    help="Read Coda docs: whoami, docs, tables, rows, export.  The API token comes from CODA_API_TOKEN.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON on stdout, for scripts.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Print the traceback of an error.")]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        envvar="CODA_API_BASE_URL",
        help="API base URL (default https://coda.io/apis/v1; env CODA_API_BASE_URL).",
    ),
]
LimitOpt = Annotated[int | None, typer.Option("--limit", min=1, help="Stop after this many items.")]


class RowFormat(str, Enum):
    """Output formats of ``cloud coda rows``."""

    csv = "csv"
    jsonl = "jsonl"


class ExportFormat(str, Enum):
    """Output formats of ``cloud coda export``."""

    markdown = "markdown"
    html = "html"


@asynccontextmanager
async def _client(base_url: str | None) -> AsyncIterator[CodaClient]:
    from cloud.coda_io import CodaClient

    client = CodaClient(base_url=base_url) if base_url else CodaClient()
    async with client:
        yield client


def _run(debug: bool, json_: bool, body: Callable[[], Awaitable[int]]) -> None:
    run_command(Output(json=json_, debug=debug), body)


def _emit(value: object) -> None:
    sys.stdout.write(json.dumps(value, default=str) + "\n")


@coda_app.command("whoami")
def whoami(base_url: BaseUrlOpt = None, json_: JsonOpt = False, debug: DebugOpt = False) -> None:
    """Show the user the API token belongs to."""

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

    _run(debug, json_, body)


@coda_app.command("docs")
def docs(
    query: Annotated[str | None, typer.Option("--query", help="Only docs whose name matches.")] = None,
    limit: LimitOpt = None,
    base_url: BaseUrlOpt = None,
    json_: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """List the docs the token can see (id and name)."""

    async def body() -> int:
        async with _client(base_url) as coda:
            found = await coda.list_docs(query=query).collect(limit=limit)
        if json_:
            _emit([d.raw for d in found])
        else:
            for d in found:
                sys.stdout.write(f"{d.id}\t{d.name}\n")
        return 0

    _run(debug, json_, body)


@coda_app.command("tables")
def tables(
    doc: Annotated[str, typer.Argument(metavar="DOC", help="Doc id.")],
    limit: LimitOpt = None,
    base_url: BaseUrlOpt = None,
    json_: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """List the tables and views of a doc (id, name, row count)."""

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

    _run(debug, json_, body)


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


@coda_app.command("rows")
def rows(
    doc: Annotated[str, typer.Argument(metavar="DOC", help="Doc id.")],
    table: Annotated[str, typer.Argument(metavar="TABLE", help="Table id or name.")],
    format_: Annotated[RowFormat, typer.Option("--format", "-f", help="csv (with a header) or jsonl.")] = RowFormat.csv,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")] = None,
    query: Annotated[str | None, typer.Option("--query", help='Filter rows: "Column:value".')] = None,
    limit: LimitOpt = None,
    base_url: BaseUrlOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Print a table's rows, keyed by column name, as CSV or JSON lines (streamed page by page)."""

    async def body() -> int:
        async with _client(base_url) as coda:
            sink = _open_sink(output)
            try:
                count = 0
                records = coda.iter_records(doc, table, query=query, value_format="simple")
                if format_ is RowFormat.jsonl:
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

    _run(debug, False, body)


@coda_app.command("export")
def export(
    doc: Annotated[str, typer.Argument(metavar="DOC", help="Doc id.")],
    page: Annotated[str, typer.Argument(metavar="PAGE", help="Page id or name.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    format_: Annotated[ExportFormat, typer.Option("--format", "-f", help="markdown or html.")] = ExportFormat.markdown,
    base_url: BaseUrlOpt = None,
    json_: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Export a page's content as Markdown or HTML into a file."""

    async def body() -> int:
        async with _client(base_url) as coda:
            path = await coda.export_page(doc, page, output_format=format_.value, path=output)
        size = path.stat().st_size
        if json_:
            _emit({"path": str(path), "format": format_.value, "bytes": size})
        else:
            sys.stdout.write(f"exported {page} to {path} ({size} bytes)\n")
        return 0

    _run(debug, json_, body)
