"""The ``cloud`` command: list, inspect, copy and sync objects on any backend, and read Coda.

Every storage command takes URLs (``s3://bucket/key``, ``gs://``, ``az://container/blob``,
``file:///dir``, ``memory://``, or the scheme of a provider registered in
:mod:`cloud.common.registry`) or plain local paths.  Exit codes: 0 success, 1 failure
(including a partial failure of a bulk copy), 2 usage error.

The parser is built with the standard library's :mod:`argparse` and imports nothing else:
each command's module (:mod:`cloud.cli.storage`, :mod:`cloud.cli.transfers`,
:mod:`cloud.cli.coda`) and the provider it touches load only when that command runs, so
``cloud --help`` and ``cloud ls ./folder`` start in a few tens of milliseconds.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["build_parser", "main"]

DEFAULT_TRANSFER_CONCURRENCY = 8  # cloud.transfer.DEFAULT_TRANSFER_CONCURRENCY (not imported: start-up)

_DESCRIPTION = (
    "One command for S3 (s3://), Google Cloud Storage (gs://), Azure Blob (az://), local folders "
    "(paths or file://), memory://, Coda (cloud coda ...) and the instances and functions of AWS, GCP "
    "and Azure (cloud compute ..., cloud functions ...).  Exit codes: 0 success, 1 failure "
    "(or partial failure), 2 usage error."
)


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose usage errors exit with code 2 after one short message."""

    def error(self, message: str) -> Any:  # argparse's signature returns NoReturn
        self.print_usage(sys.stderr)
        sys.stderr.write(f"cloud: usage: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def _bounded_int(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"{value} is not {span}")
        return value

    parse.__name__ = "number"
    return parse


class _FilterAction(argparse.Action):
    """``--include``/``--exclude``: one ordered list of rules (later rules win)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        rules = list(getattr(namespace, "filters", None) or [])
        rules.append((self.const, values))
        namespace.filters = rules


def _parents() -> dict[str, _Parser]:
    """The option groups shared by the storage commands, declared once."""
    output = _Parser(add_help=False)
    group = output.add_argument_group("output")
    group.add_argument("--json", action="store_true", help="print one JSON document on stdout, for scripts")
    group.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")

    connection = _Parser(add_help=False)
    group = connection.add_argument_group("connection (defaults: each provider's environment and credential chain)")
    group.add_argument("--debug", action="store_true", help="print the traceback of an error")
    group.add_argument(
        "--endpoint-url",
        action="append",
        metavar="[SCHEME=]URL",
        help="service endpoint (an emulator, MinIO...): a URL for every cloud URL of the command, or "
        "s3=URL / gs=URL / az=URL for one scheme; repeatable.  Defaults: AWS_ENDPOINT_URL(_S3), "
        "STORAGE_EMULATOR_HOST, AZURE_STORAGE_CONNECTION_STRING / AZURE_STORAGE_ACCOUNT_URL",
    )
    group.add_argument("--region", help="AWS region (default: the boto chain)")
    group.add_argument("--profile", help="AWS profile of ~/.aws/config (default: AWS_PROFILE)")
    group.add_argument("--project", help="Google Cloud project (default: GOOGLE_CLOUD_PROJECT)")

    bulk = _Parser(add_help=False)
    group = bulk.add_argument_group("selection (as aws s3: every name is included, later filters win)")
    group.add_argument(
        "--exclude",
        action=_FilterAction,
        const="exclude",
        metavar="GLOB",
        help="skip relative names matching GLOB (fnmatch: * also matches /); repeatable",
    )
    group.add_argument(
        "--include",
        action=_FilterAction,
        const="include",
        metavar="GLOB",
        help="take relative names matching GLOB again after an --exclude; repeatable",
    )

    transfer = _Parser(add_help=False)
    transfer.add_argument(
        "--concurrency",
        "-j",
        type=_bounded_int(1, 256),
        default=DEFAULT_TRANSFER_CONCURRENCY,
        help=f"how many files to copy at once (1-256, default {DEFAULT_TRANSFER_CONCURRENCY})",
    )
    transfer.add_argument("--dry-run", "-n", action="store_true", help="show what would be done; change nothing")
    transfer.add_argument(
        "--dask",
        metavar="SCHEDULER_ADDRESS",
        default=None,
        help="copy on a Dask cluster (tcp://host:8786): workers copy batches with their own clients; "
        "objects that already match are skipped (needs the [dask] extra)",
    )
    return {"output": output, "connection": connection, "bulk": bulk, "transfer": transfer}


def build_parser() -> argparse.ArgumentParser:
    """The whole command line (no command module is imported)."""
    from cloud import __version__

    parser = _Parser(prog="cloud", description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"cloud {__version__}", help="show the version")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND", parser_class=_Parser)
    shared = _parents()
    storage = [shared["output"], shared["connection"]]

    def command(name: str, handler: str, help: str, parents: list[_Parser]) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, parents=parents)
        sub.set_defaults(handler=handler, filters=[])
        return sub

    ls = command(
        "ls",
        "cloud.cli.storage:ls",
        "List objects (names relative to the listed folder; sub-folders end with /), or the buckets "
        "of a provider (cloud ls s3://).",
        storage,
    )
    ls.add_argument("url", metavar="URL", help="bucket, folder or object URL, a local path, or SCHEME:// for buckets")
    ls.add_argument("--long", "-l", action="store_true", help="show modification time and size")
    ls.add_argument("--recursive", "-r", action="store_true", help="list everything below, not one level")

    stat = command(
        "stat",
        "cloud.cli.storage:stat",
        "Show an object's size, etag, content type, modification time and user metadata.",
        storage,
    )
    stat.add_argument("url", metavar="URL", help="object URL or local file")

    cat = command(
        "cat", "cloud.cli.storage:cat", "Write an object's content to stdout (streamed).", [shared["connection"]]
    )
    cat.add_argument("url", metavar="URL", help="object URL or local file")

    mb = command(
        "mb",
        "cloud.cli.storage:mb",
        "Make a bucket (a folder, for a local path); an existing one is not an error.",
        storage,
    )
    mb.add_argument("url", metavar="URL", help="bucket URL (s3://name) or a local folder")

    rb = command("rb", "cloud.cli.storage:rb", "Remove a bucket; it must be empty unless --force.", storage)
    rb.add_argument("url", metavar="URL", help="bucket URL or a local folder")
    rb.add_argument("--force", action="store_true", help="delete the objects first")

    rm = command(
        "rm",
        "cloud.cli.storage:rm",
        "Delete an object, or with -r every object below a folder (the bucket stays).",
        [*storage, shared["bulk"]],
    )
    rm.add_argument("url", metavar="URL", help="object URL, or with -r a folder or bucket URL")
    rm.add_argument("--recursive", "-r", action="store_true", help="delete everything below the URL")
    rm.add_argument("--dry-run", "-n", action="store_true", help="show what would be deleted; delete nothing")

    sign = command(
        "sign",
        "cloud.cli.storage:sign",
        "Print a pre-signed URL that grants access to one object without credentials.",
        storage,
    )
    sign.add_argument("url", metavar="URL", help="object URL")
    sign.add_argument("--expires", "-e", type=_bounded_int(1), default=3600, help="lifetime of the URL in seconds")
    sign.add_argument("--method", default="GET", help="HTTP method the URL allows (GET or PUT)")

    cp = command(
        "cp",
        "cloud.cli.transfers:cp",
        "Copy between any two places (local, s3, gs, az...), streaming: no temporary copy.  With -r the "
        "contents of SRC go below DST (created if it is a local folder); a file that fails is reported "
        "and the others are still copied.",
        [*storage, shared["bulk"], shared["transfer"]],
    )
    cp.add_argument("src", metavar="SRC", help="source object, or with -r a folder/bucket")
    cp.add_argument("dst", metavar="DST", help="destination object or folder")
    cp.add_argument("--recursive", "-r", action="store_true", help="copy a whole folder")

    sync = command(
        "sync",
        "cloud.cli.transfers:sync",
        "Copy only what is missing or differs (size, then MD5 etags where both sides have one, else "
        "modification time as aws s3 sync does); with --delete also remove extras.",
        [*storage, shared["bulk"], shared["transfer"]],
    )
    sync.add_argument("src", metavar="SRC", help="source folder or bucket")
    sync.add_argument("dst", metavar="DST", help="destination folder or bucket (a local folder is created)")
    sync.add_argument("--delete", action="store_true", help="delete destination objects that the source does not have")
    sync.add_argument(
        "--checksum", "-c", action="store_true", help="hash local files to compare with MD5 etags instead of times"
    )

    coda = commands.add_parser(
        "coda",
        help="Read Coda docs: whoami, docs, tables, rows, export (token from CODA_API_TOKEN).",
        description="Read Coda docs: whoami, docs, tables, rows, export.  The API token comes from CODA_API_TOKEN.",
    )
    _coda_commands(coda)
    from .compute import add_commands as _compute_commands  # argparse only

    _compute_commands(commands, _Parser)
    return parser


def _coda_commands(coda: argparse.ArgumentParser) -> None:
    common = _Parser(add_help=False)
    common.add_argument(
        "--base-url", help="API base URL (default https://coda.io/apis/v1; env CODA_API_BASE_URL)", default=None
    )
    common.add_argument("--debug", action="store_true", help="print the traceback of an error")
    as_json = _Parser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON on stdout, for scripts")
    limit = _Parser(add_help=False)
    limit.add_argument("--limit", type=_bounded_int(1), help="stop after this many items")

    commands = coda.add_subparsers(title="commands", dest="coda_command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help: str, parents: list[_Parser]) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, parents=[common, *parents])
        sub.set_defaults(handler=f"cloud.cli.coda:{name}")
        return sub

    command("whoami", "Show the user the API token belongs to.", [as_json])
    docs = command("docs", "List the docs the token can see (id and name).", [as_json, limit])
    docs.add_argument("--query", help="only docs whose name matches")
    tables = command("tables", "List the tables and views of a doc (id, name, row count).", [as_json, limit])
    tables.add_argument("doc", metavar="DOC", help="doc id")
    rows = command(
        "rows",
        "Print a table's rows, keyed by column name, as CSV or JSON lines (streamed page by page).",
        [limit],
    )
    rows.add_argument("doc", metavar="DOC", help="doc id")
    rows.add_argument("table", metavar="TABLE", help="table id or name")
    rows.add_argument("--format", "-f", choices=("csv", "jsonl"), default="csv", help="csv (with a header) or jsonl")
    rows.add_argument("--output", "-o", help="write to this file instead of stdout")
    rows.add_argument("--query", help='filter rows: "Column:value"')
    export = command("export", "Export a page's content as Markdown or HTML into a file.", [as_json])
    export.add_argument("doc", metavar="DOC", help="doc id")
    export.add_argument("page", metavar="PAGE", help="page id or name")
    export.add_argument("--output", "-o", required=True, help="file to write")
    export.add_argument("--format", "-f", choices=("markdown", "html"), default="markdown", help="markdown or html")
    coda.set_defaults(handler=None, coda_parser=coda)


def _skip_cli_only_imports() -> None:
    """httpx (which aiobotocore imports when it is installed) loads its own command line,
    click, rich and pygments (~50 ms) in ``import httpx``; this process never runs it."""
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``) and return its exit code."""
    _skip_cli_only_imports()
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments:
        parser.print_help(sys.stderr)
        return 2
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    handler: str | None = getattr(args, "handler", None)
    if handler is None:
        sub: argparse.ArgumentParser = (
            getattr(args, "group_parser", None) or getattr(args, "coda_parser", None) or parser
        )
        sub.print_help(sys.stderr)
        return 2
    if handler == "cloud.cli.storage:ls":
        from .quick import try_ls

        quick = try_ls(args)  # a plain local folder: no event loop, no provider
        if quick is not None:
            return quick
    module, _, name = handler.partition(":")
    function: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module), name)
    return function(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cloud`` console script (and ``python -m cloud.cli``)."""
    code = run(argv)
    if argv is None:
        raise SystemExit(code)
    return code
