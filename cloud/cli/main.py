"""The ``cloud`` command: list, inspect, copy and sync objects on any backend, and read Coda.

Every storage command takes URLs (``s3://bucket/key``, ``gs://``, ``az://container/blob``,
``file:///dir``, ``memory://``) or plain local paths.  Exit codes: 0 success, 1 failure
(including a partial failure of a bulk copy), 2 usage error.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

import anyio
import typer

from cloud.common.base import StorageClient
from cloud.common.exceptions import (
    CloudError,
    ConflictError,
    NotFoundError,
)
from cloud.common.models import ObjectMetadata, TransferResult
from cloud.transfer import (
    DEFAULT_TRANSFER_CONCURRENCY,
    LocalDir,
    Place,
    Remote,
    TransferItem,
    delete_names,
    iter_tree,
    plan_sync,
    transfer,
)

from .output import Output, TransferDisplay, human_size, metadata_json, shown
from .places import ClientOptions, Clients, Target, UsageError, local_bucket, parse_target, stat_or_none
from .runner import describe_error, run_command

__all__ = ["app", "main"]

app = typer.Typer(
    name="cloud",
    help="One command for S3, Google Cloud Storage, Azure Blob, local folders and Coda.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# -- options shared by the storage commands -------------------------------------------------

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout, for scripts.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Print the traceback of an error.")]
EndpointOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--endpoint-url",
        metavar="[SCHEME=]URL",
        help="Service endpoint (an emulator, MinIO...): a URL for every cloud URL of the command, "
        "or s3=URL / gs=URL / az=URL for one scheme.  Repeatable.  Defaults: AWS_ENDPOINT_URL(_S3), "
        "STORAGE_EMULATOR_HOST, AZURE_STORAGE_CONNECTION_STRING / AZURE_STORAGE_ACCOUNT_URL.",
    ),
]
RegionOpt = Annotated[str | None, typer.Option("--region", help="AWS region (default: the boto chain).")]
ProfileOpt = Annotated[str | None, typer.Option("--profile", help="AWS profile (default: AWS_PROFILE).")]
ProjectOpt = Annotated[
    str | None, typer.Option("--project", help="Google Cloud project (default: GOOGLE_CLOUD_PROJECT).")
]
ConcurrencyOpt = Annotated[
    int, typer.Option("--concurrency", "-j", min=1, max=256, help="How many files to copy at once.")
]


def _version(value: bool) -> None:
    if value:
        from cloud import __version__

        typer.echo(f"cloud {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """One command for S3 (s3://), Google Cloud Storage (gs://), Azure Blob (az://), local
    folders (paths or file://) and Coda (cloud coda ...).

    Exit codes: 0 success, 1 failure (or partial failure), 2 usage error.
    """


# -- running a command -------------------------------------------------------------------------


def run(out: Output, options: ClientOptions, body: Callable[[Clients], Awaitable[int]]) -> None:
    """Run ``body`` with its clients (closed afterwards), turning errors into one line and an
    exit code."""

    async def main() -> int:
        clients = Clients(options)
        try:
            return await body(clients)
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await clients.aclose()
                except Exception:  # closing must not hide the real outcome
                    if out.debug:
                        traceback.print_exc()

    run_command(out, main)


def _setup(
    json_: bool,
    quiet: bool,
    debug: bool,
    endpoint_url: list[str] | None = None,
    region: str | None = None,
    profile: str | None = None,
    project: str | None = None,
) -> tuple[Output, ClientOptions]:
    out = Output(json=json_, quiet=quiet, debug=debug)
    try:
        options = ClientOptions.build(endpoint_url, region=region, profile=profile, project=project)
    except UsageError as exc:
        out.error(describe_error(exc))
        raise typer.Exit(2) from None
    return out, options


# -- resolving what a URL names ----------------------------------------------------------------


def _target(text: str) -> Target:
    return parse_target(text)


def _missing_local(target: Target) -> NotFoundError:
    return NotFoundError(f"no such file or folder: {target.path}", code="NotFound", provider="local")


async def _object(clients: Clients, target: Target) -> tuple[StorageClient, str, str]:
    """The client, bucket and key of a URL that must name one object."""
    if target.is_local:
        assert target.path is not None
        if target.path.is_dir():
            raise UsageError(f"{target.text} is a folder, not a file")
        if not target.path.exists():
            raise _missing_local(target)
        root, bucket, key = local_bucket(target.path)
        return clients.local(root), bucket, key
    if not target.key or target.key.endswith("/"):
        raise UsageError(f"{target.text} names a bucket or folder, not an object")
    return clients.for_target(target), target.bucket, target.key


async def _first_and_rest(
    iterator: AsyncIterator[ObjectMetadata],
) -> tuple[ObjectMetadata | None, AsyncIterator[ObjectMetadata]]:
    try:
        first = await iterator.__anext__()
    except StopAsyncIteration:
        return None, iterator
    return first, iterator


async def _chain(first: ObjectMetadata, rest: AsyncIterator[ObjectMetadata]) -> AsyncIterator[ObjectMetadata]:
    yield first
    async for item in rest:
        yield item


async def _source(clients: Clients, target: Target, *, recursive: bool) -> tuple[Remote, ObjectMetadata | None]:
    """What a copy source names: ``(place, metadata)`` for one object (the place's prefix is
    empty and the object's name is its key), or ``(folder place, None)`` for a folder."""
    if target.is_local:
        path = target.path
        assert path is not None
        if path.is_dir():
            if not recursive:
                raise UsageError(f"{target.text} is a folder: use -r to copy it")
            root, bucket, key = local_bucket(path)
            return Remote(clients.local(root), bucket, key), None
        if not path.exists():
            raise _missing_local(target)
        root, bucket, key = local_bucket(path)
        client = clients.local(root)
        return Remote(client, bucket), await client.stat(bucket, key)
    client = clients.for_target(target)
    key = target.key
    if not key or key.endswith("/"):
        if not recursive:
            raise UsageError(f"{target.text} is a bucket or folder: use -r to copy it")
        return Remote(client, target.bucket, key), None
    if recursive and await _has_objects(client, target.bucket, key + "/"):
        return Remote(client, target.bucket, key), None
    meta = await stat_or_none(client, target.bucket, key)
    if meta is not None:
        return Remote(client, target.bucket), meta
    if not recursive and await _has_objects(client, target.bucket, key + "/"):
        raise UsageError(f"{target.text} is a folder: use -r to copy it")
    raise NotFoundError(f"no object or folder at {target.text}", code="NoSuchKey", provider=target.scheme)


async def _has_objects(client: StorageClient, bucket: str, prefix: str) -> bool:
    async for _ in client.iter_objects(bucket, prefix, page_size=1):
        return True
    return False


def _dest_single(clients: Clients, target: Target, source_name: str) -> tuple[Place, str]:
    """Where one object goes: ``(place, name)``.  A folder (trailing ``/``, a bucket, an
    existing local folder) receives the source's base name."""
    base = source_name.rsplit("/", 1)[-1]
    if target.is_local:
        path = target.path
        assert path is not None
        if target.text.endswith("/") or path.is_dir():
            path = path / base
        return LocalDir(path.parent), path.name
    key = target.key
    if not key or key.endswith("/"):
        key += base
    return Remote(clients.for_target(target), target.bucket), key


def _dest_folder(clients: Clients, target: Target) -> Place:
    """Where a folder goes."""
    if target.is_local:
        path = target.path
        assert path is not None
        if path.exists() and not path.is_dir():
            raise ConflictError(f"{target.text} exists and is not a folder", code="NotAFolder", provider="local")
        return LocalDir(path)
    return Remote(clients.for_target(target), target.bucket, target.key)


async def _check_dest_bucket(dest: Place) -> None:
    if isinstance(dest, Remote):
        # A missing bucket raises NotFoundError here, once, instead of failing every file.
        await _has_objects(dest.client, dest.bucket, dest.prefix)


def _prepare_local(dest: Place) -> None:
    if isinstance(dest, LocalDir):
        try:
            dest.path.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise ConflictError(f"{dest.path} exists and is not a folder", code="NotAFolder") from None


# -- bulk copies with progress -----------------------------------------------------------------


def _reason(exc: BaseException) -> str:
    return describe_error(exc).removeprefix("error: ")


def _result_json(result: TransferResult) -> dict[str, object]:
    out: dict[str, object] = {
        "source": result.source,
        "destination": result.destination,
        "ok": result.ok,
        "bytes": result.bytes,
    }
    if result.error is not None:
        out["error"] = _reason(result.error)
    return out


async def _copy_items(
    out: Output,
    source: Place,
    dest: Place,
    items: list[TransferItem],
    concurrency: int,
    verb: str,
    *,
    single: bool = False,
) -> tuple[list[TransferResult], float]:
    started = time.monotonic()
    total = sum(item.size or 0 for item in items)
    display = TransferDisplay(out.progress_enabled, total, len(items), verb)

    def done(item: TransferItem, result: TransferResult) -> None:
        display.item_done(item, result)
        if result.ok and not display.enabled:
            out.line(f"{verb}: {shown(result.source)} -> {shown(result.destination)}")

    with display:
        results = await transfer(
            source,
            dest,
            items,
            concurrency=concurrency,
            on_item_start=display.item_start,
            on_item_progress=display.item_progress,
            on_item_done=done,
        )
    if len(items) == 1 and not results[0].ok and results[0].error is not None and single:
        raise results[0].error  # one object: its error is the command's error
    for result in results:
        if not result.ok:
            assert result.error is not None
            out.error(f"failed: {shown(result.source)} -> {shown(result.destination)}: {_reason(result.error)}")
    return results, time.monotonic() - started


def _summary(results: list[TransferResult], seconds: float) -> tuple[int, int, int]:
    ok = [r for r in results if r.ok]
    return len(ok), len(results) - len(ok), sum(r.bytes for r in ok)


# -- commands ----------------------------------------------------------------------------------


@app.command("ls")
def ls(
    url: Annotated[str, typer.Argument(metavar="URL", help="Bucket, folder or object URL, or a local path.")],
    long: Annotated[bool, typer.Option("--long", "-l", help="Show modification time and size.")] = False,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="List everything below, not one level.")] = False,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    project: ProjectOpt = None,
) -> None:
    """List objects (names relative to the listed folder; sub-folders end with /)."""
    out, options = _setup(json_, quiet, debug, endpoint_url, region, profile, project)

    async def body(clients: Clients) -> int:
        target = _target(url)
        single: ObjectMetadata | None = None
        listing: AsyncIterator[ObjectMetadata] | None = None
        delimiter = None if recursive else "/"
        if target.is_local:
            path = target.path
            assert path is not None
            if not path.exists():
                raise _missing_local(target)
            root, bucket, key = local_bucket(path)
            client = clients.local(root)
            url_of = _local_url_of(root, bucket)
            if path.is_dir():
                prefix = key
                listing = aiter(client.iter_objects(bucket, prefix, delimiter=delimiter))
            else:
                single = await client.stat(bucket, key)
        else:
            client = clients.for_target(target)
            bucket = target.bucket
            url_of = _cloud_url_of(target)
            prefix = target.key
            if prefix and not prefix.endswith("/"):
                first, rest = await _first_and_rest(
                    aiter(client.iter_objects(bucket, prefix + "/", delimiter=delimiter))
                )
                if first is not None:
                    prefix += "/"
                    listing = _chain(first, rest)
                else:
                    single = await client.stat(bucket, prefix)
            else:
                listing = aiter(client.iter_objects(bucket, prefix, delimiter=delimiter))
        if single is not None:
            prefix = single.name.rpartition("/")[0] + "/" if "/" in single.name else ""

            async def one() -> AsyncIterator[ObjectMetadata]:
                assert single is not None
                yield single

            listing = one()
        assert listing is not None
        await _print_listing(out, listing, prefix, long, url_of)
        return 0

    run(out, options, body)


def _local_url_of(root: os.PathLike[str] | str, bucket: str) -> Callable[[str], str]:
    return lambda key: os.path.join(os.fspath(root), bucket, key)


def _cloud_url_of(target: Target) -> Callable[[str], str]:
    return lambda key: f"{target.scheme}://{target.bucket}/{key}"


async def _print_listing(
    out: Output, listing: AsyncIterator[ObjectMetadata], prefix: str, long: bool, url_of: Callable[[str], str]
) -> None:
    if out.json:
        with out.json_array() as array:
            async for meta in listing:
                entry = metadata_json(meta, url_of(meta.name))
                entry["relative_name"] = meta.name[len(prefix) :]
                array.add(entry)
        return
    count = 0
    total = 0
    async for meta in listing:
        name = meta.name[len(prefix) :]
        count += 1
        total += meta.size
        if not long:
            out.line(name)
        elif meta.is_prefix:
            out.line(f"{'':19}  {'DIR':>12}  {name}")
        else:
            when = meta.last_modified.astimezone().strftime("%Y-%m-%d %H:%M:%S") if meta.last_modified else "-"
            out.line(f"{when:19}  {meta.size:>12}  {name}")
    if long and count:
        out.line(f"{count} entries, {human_size(total)}")


@app.command("stat")
def stat(
    url: Annotated[str, typer.Argument(metavar="URL", help="Object URL or local file.")],
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    project: ProjectOpt = None,
) -> None:
    """Show an object's size, etag, content type, modification time and user metadata."""
    out, options = _setup(json_, quiet, debug, endpoint_url, region, profile, project)

    async def body(clients: Clients) -> int:
        target = _target(url)
        client, bucket, key = await _object(clients, target)
        meta = await client.stat(bucket, key)
        if out.json:
            out.data(metadata_json(meta, target.url() if target.is_local else target.url(key)))
            return 0
        out.line(f"url:           {target.url() if target.is_local else target.url(key)}")
        out.line(f"size:          {meta.size} ({human_size(meta.size)})")
        out.line(f"etag:          {meta.etag or '-'}")
        out.line(f"content_type:  {meta.content_type or '-'}")
        out.line(f"last_modified: {meta.last_modified.isoformat() if meta.last_modified else '-'}")
        user = ", ".join(f"{k}={v}" for k, v in sorted(meta.metadata.items()))
        out.line(f"metadata:      {user or '-'}")
        out.line(f"provider:      {meta.provider.value}")
        return 0

    run(out, options, body)


@app.command("cat")
def cat(
    url: Annotated[str, typer.Argument(metavar="URL", help="Object URL or local file.")],
    debug: DebugOpt = False,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    project: ProjectOpt = None,
) -> None:
    """Write an object's content to stdout (streamed)."""
    out, options = _setup(False, False, debug, endpoint_url, region, profile, project)

    async def body(clients: Clients) -> int:
        client, bucket, key = await _object(clients, _target(url))
        sink = sys.stdout.buffer
        async for chunk in client.open_read(bucket, key):
            await anyio.to_thread.run_sync(sink.write, chunk)
        sink.flush()
        return 0

    run(out, options, body)


@app.command("mb")
def mb(
    url: Annotated[str, typer.Argument(metavar="URL", help="Bucket URL (s3://name) or a local folder.")],
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    project: ProjectOpt = None,
) -> None:
    """Make a bucket (a folder, for a local path); an existing one is not an error."""
    out, options = _setup(json_, quiet, debug, endpoint_url, region, profile, project)

    async def body(clients: Clients) -> int:
        target = _target(url)
        if target.is_local:
            assert target.path is not None
            if target.path.exists() and not target.path.is_dir():
                raise ConflictError(f"{target.text} exists and is not a folder", code="NotAFolder", provider="local")
            created = not target.path.exists()
            target.path.mkdir(parents=True, exist_ok=True)
            where = os.fspath(target.path)
        else:
            if target.key.strip("/"):
                raise UsageError(f"mb takes a bucket URL ({target.scheme}://{target.bucket}), not an object")
            created = await clients.for_target(target).ensure_bucket(target.bucket)
            where = f"{target.scheme}://{target.bucket}"
        if out.json:
            out.data({"bucket": where, "created": created})
        else:
            out.line(f"created {shown(where)}" if created else f"{shown(where)} already exists")
        return 0

    run(out, options, body)


@app.command("rb")
def rb(
    url: Annotated[str, typer.Argument(metavar="URL", help="Bucket URL or a local folder.")],
    force: Annotated[bool, typer.Option("--force", help="Delete the objects first.")] = False,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    project: ProjectOpt = None,
) -> None:
    """Remove a bucket; it must be empty unless --force."""
    out, options = _setup(json_, quiet, debug, endpoint_url, region, profile, project)

    async def body(clients: Clients) -> int:
        target = _target(url)
        if target.is_local:
            assert target.path is not None
            if not target.path.is_dir():
                raise _missing_local(target)
            root, bucket, key = local_bucket(target.path)
            if key:
                raise UsageError(f"{target.text} is a folder inside the bucket {bucket!r}: use rm -r")
            client = clients.local(root)
            where = os.fspath(target.path)
        else:
            if target.key.strip("/"):
                raise UsageError(f"rb takes a bucket URL ({target.scheme}://{target.bucket})")
            client, bucket, where = clients.for_target(target), target.bucket, f"{target.scheme}://{target.bucket}"
        await client.delete_bucket(bucket, force=force)
        if out.json:
            out.data({"bucket": where, "deleted": True})
        else:
            out.line(f"removed {shown(where)}")
        return 0

    run(out, options, body)


@app.command("rm")
def rm(
    url: Annotated[str, typer.Argument(metavar="URL", help="Object URL, or with -r a folder or bucket URL.")],
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Delete everything below the URL.")] = False,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    project: ProjectOpt = None,
) -> None:
    """Delete an object, or with -r every object below a folder (the bucket stays)."""
    out, options = _setup(json_, quiet, debug, endpoint_url, region, profile, project)

    async def body(clients: Clients) -> int:
        target = _target(url)
        if not recursive:
            client, bucket, key = await _object(clients, target)
            await client.stat(bucket, key)  # a missing object is an error here
            await client.delete_object(bucket, key)
            deleted = [target.url() if target.is_local else target.url(key)]
        else:
            deleted = await _remove_tree(clients, target)
        if out.json:
            out.data({"deleted": deleted, "count": len(deleted)})
        else:
            for name in deleted:
                out.line(f"deleted: {shown(name)}")
        return 0

    run(out, options, body)


async def _remove_tree(clients: Clients, target: Target) -> list[str]:
    if target.is_local and target.path is not None and target.path.is_file():
        client, bucket, key = await _object(clients, target)
        await client.delete_object(bucket, key)
        return [target.url()]
    place, single = await _source(clients, target, recursive=True)
    if single is not None:
        await place.client.delete_object(place.bucket, single.name)
        return [place.describe(single.name)]
    deleted: list[str] = []
    batch: list[str] = []
    async for meta in iter_tree(place):
        batch.append(meta.name)
        if len(batch) >= 1000:
            await delete_names(place, batch)
            deleted += [place.describe(n) for n in batch]
            batch = []
    if batch:
        await delete_names(place, batch)
        deleted += [place.describe(n) for n in batch]
    return deleted


@app.command("sign")
def sign(
    url: Annotated[str, typer.Argument(metavar="URL", help="Object URL.")],
    expires: Annotated[int, typer.Option("--expires", "-e", min=1, help="Lifetime of the URL in seconds.")] = 3600,
    method: Annotated[str, typer.Option("--method", help="HTTP method the URL allows (GET or PUT).")] = "GET",
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    project: ProjectOpt = None,
) -> None:
    """Print a pre-signed URL that grants access to one object without credentials."""
    out, options = _setup(json_, quiet, debug, endpoint_url, region, profile, project)

    async def body(clients: Clients) -> int:
        client, bucket, key = await _object(clients, _target(url))
        signed = await client.sign_url(bucket, key, method=method.upper(), expires=expires)
        if out.json:
            out.data({"url": signed, "expires": expires, "method": method.upper()})
        else:
            sys.stdout.write(signed + "\n")
        return 0

    run(out, options, body)


@app.command("cp")
def cp(
    src: Annotated[str, typer.Argument(metavar="SRC", help="Source object, or with -r a folder/bucket.")],
    dst: Annotated[str, typer.Argument(metavar="DST", help="Destination object or folder.")],
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Copy a whole folder.")] = False,
    concurrency: ConcurrencyOpt = DEFAULT_TRANSFER_CONCURRENCY,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    project: ProjectOpt = None,
) -> None:
    """Copy between any two places (local, s3, gs, az), streaming: no temporary copy.

    With -r the contents of SRC go below DST (created if it is a local folder); a file that
    fails is reported and the others are still copied.
    """
    out, options = _setup(json_, quiet, debug, endpoint_url, region, profile, project)

    async def body(clients: Clients) -> int:
        source_target, dest_target = _target(src), _target(dst)
        source, single = await _source(clients, source_target, recursive=recursive)
        dest: Place
        if single is not None:
            dest, name = _dest_single(clients, dest_target, single.name)
            items = [TransferItem.from_metadata(single, single.name, name)]
        else:
            dest = _dest_folder(clients, dest_target)
            await _check_dest_bucket(dest)
            items = [
                TransferItem.from_metadata(meta, meta.name)
                async for meta in iter_tree(source)
                if meta.name and not (isinstance(dest, LocalDir) and meta.name.endswith("/"))
            ]
            _prepare_local(dest)
        results, seconds = await _copy_items(out, source, dest, items, concurrency, "copy", single=single is not None)
        copied, failed, size = _summary(results, seconds)
        if out.json:
            out.data(
                {
                    "ok": failed == 0,
                    "copied": copied,
                    "failed": failed,
                    "bytes": size,
                    "seconds": round(seconds, 3),
                    "items": [_result_json(r) for r in results],
                }
            )
        else:
            tail = f", {failed} failed" if failed else ""
            out.line(f"copied {copied} file{'s' if copied != 1 else ''} ({human_size(size)}) in {seconds:.1f}s{tail}")
        return 1 if failed else 0

    run(out, options, body)


@app.command("sync")
def sync(
    src: Annotated[str, typer.Argument(metavar="SRC", help="Source folder or bucket.")],
    dst: Annotated[
        str, typer.Argument(metavar="DST", help="Destination folder or bucket (a local folder is created).")
    ],
    delete: Annotated[
        bool, typer.Option("--delete", help="Delete destination objects that the source does not have.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", "-n", help="Show what would be done; change nothing.")] = False,
    checksum: Annotated[
        bool,
        typer.Option("--checksum", "-c", help="Hash local files to compare with MD5 etags instead of using times."),
    ] = False,
    concurrency: ConcurrencyOpt = DEFAULT_TRANSFER_CONCURRENCY,
    json_: JsonOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    project: ProjectOpt = None,
) -> None:
    """Copy only what is missing or differs (size, then MD5 etags where both sides have
    one, else modification time as aws s3 sync does); with --delete also remove extras."""
    out, options = _setup(json_, quiet, debug, endpoint_url, region, profile, project)

    async def body(clients: Clients) -> int:
        source_target, dest_target = _target(src), _target(dst)
        if source_target.is_local:
            assert source_target.path is not None
            if source_target.path.is_file():
                raise UsageError(f"sync copies folders; {src} is a file (use cp)")
            if not source_target.path.exists():
                raise _missing_local(source_target)
        source, _ = await _source_folder(clients, source_target)
        dest = _dest_folder(clients, dest_target)
        plan = await plan_sync(source, dest, delete=delete, checksum=checksum)
        if delete and plan.delete and not plan.copy and plan.unchanged == 0:
            raise CloudError(
                f"the source {src} is empty: refusing to delete all {len(plan.delete)} objects of {dst} "
                "(use rm -r to empty it)"
            )
        if dry_run:
            if out.json:
                out.data(
                    {
                        "ok": True,
                        "dry_run": True,
                        "copy": [{"name": i.source, "reason": i.reason, "size": i.size} for i in plan.copy],
                        "delete": plan.delete,
                        "unchanged": plan.unchanged,
                        "bytes": plan.bytes,
                    }
                )
            else:
                for item in plan.copy:
                    out.line(
                        f"would copy: {shown(source.describe(item.source))} -> {shown(dest.describe(item.destination))} ({item.reason})"
                    )
                for name in plan.delete:
                    out.line(f"would delete: {shown(dest.describe(name))}")
                out.line(
                    f"dry run: {len(plan.copy)} to copy ({human_size(plan.bytes)}), "
                    f"{len(plan.delete)} to delete, {plan.unchanged} unchanged"
                )
            return 0
        _prepare_local(dest)
        results, seconds = await _copy_items(out, source, dest, plan.copy, concurrency, "copy")
        copied, failed, size = _summary(results, seconds)
        deleted: list[str] = []
        delete_error: str | None = None
        if plan.delete:
            if failed:
                delete_error = "deletions skipped because some copies failed"
                out.error(delete_error)
            else:
                try:
                    await delete_names(dest, plan.delete)
                    deleted = [dest.describe(n) for n in plan.delete]
                except CloudError as exc:
                    delete_error = describe_error(exc)
                    out.error(f"failed to delete: {delete_error}")
            for name in deleted:
                out.line(f"delete: {shown(name)}")
        ok = failed == 0 and delete_error is None
        if out.json:
            out.data(
                {
                    "ok": ok,
                    "dry_run": False,
                    "copied": copied,
                    "failed": failed,
                    "unchanged": plan.unchanged,
                    "deleted": deleted,
                    "delete_error": delete_error,
                    "bytes": size,
                    "seconds": round(seconds, 3),
                    "items": [_result_json(r) for r in results],
                }
            )
        else:
            tail = f", {failed} failed" if failed else ""
            out.line(
                f"synced: {copied} copied ({human_size(size)}), {plan.unchanged} unchanged, "
                f"{len(deleted)} deleted in {seconds:.1f}s{tail}"
            )
        return 0 if ok else 1

    run(out, options, body)


async def _source_folder(clients: Clients, target: Target) -> tuple[Remote, None]:
    if target.is_local:
        assert target.path is not None
        root, bucket, key = local_bucket(target.path)
        return Remote(clients.local(root), bucket, key), None
    client = clients.for_target(target)
    # Fails early with NotFoundError when the bucket does not exist.
    await _has_objects(client, target.bucket, target.key)
    return Remote(client, target.bucket, target.key), None


def _register_coda() -> None:
    from .coda import coda_app

    app.add_typer(coda_app, name="coda")


_register_coda()


def main() -> None:
    """Entry point of the ``cloud`` console script."""
    app()
