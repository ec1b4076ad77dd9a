"""The transfer commands of ``cloud``: cp and sync (progress bars, filters, dry runs)."""

from __future__ import annotations

import argparse
import time

from cloud.common.exceptions import CloudError, ConflictError, NotFoundError
from cloud.common.models import TransferResult
from cloud.transfer import (
    LocalDir,
    Place,
    Remote,
    TransferItem,
    delete_names,
    glob_filter,
    iter_tree,
    plan_sync,
    transfer,
)

from .output import Output, TransferDisplay, human_size, shown
from .places import (
    Clients,
    Target,
    UsageError,
    has_objects,
    local_bucket,
    missing_bucket,
    missing_local,
    parse_target,
    source_place,
)
from .runner import Context, command, describe_error

__all__ = ["cp", "sync"]


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


async def _check_dest_bucket(dest: Place, verb: str, target: Target) -> None:
    """A missing destination bucket fails once, before any file, naming the command's
    operation (not the listing call used to find out)."""
    if isinstance(dest, Remote):
        await has_objects(dest.client, dest.bucket, dest.prefix, doing=f"{verb} to {target.text}")


_WRITES = frozenset({"upload_file", "upload_stream", "put_bytes", "copy_object"})
"""Operations whose 404 means the destination bucket is missing (the source was found)."""


def _prepare_local(dest: Place) -> None:
    if isinstance(dest, LocalDir):
        try:
            dest.path.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise ConflictError(f"{dest.path} exists and is not a folder", code="NotAFolder") from None


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


async def _copy_on_dask(
    out: Output, source: Place, dest: Place, items: list[TransferItem], concurrency: int, verb: str, scheduler: str
) -> list[TransferResult]:
    """``--dask``: the copies run on the cluster; each result is printed as it comes back."""
    from cloud.fsspec.dask import copy_on_dask

    def done(result: TransferResult) -> None:
        if result.ok:
            out.line(f"{verb}: {shown(result.source)} -> {shown(result.destination)}")

    return await copy_on_dask(source, dest, items, scheduler, concurrency=concurrency, on_result=done)


async def _copy_items(
    out: Output,
    source: Place,
    dest: Place,
    items: list[TransferItem],
    concurrency: int,
    verb: str,
    *,
    single: bool = False,
    dask: str | None = None,
) -> list[TransferResult]:
    if dask is not None:
        return await _copy_on_dask(out, source, dest, items, concurrency, verb, dask)
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
        error = results[0].error  # one object: its error is the command's error
        if isinstance(error, NotFoundError) and isinstance(dest, Remote) and error.operation in _WRITES:
            raise missing_bucket(error, f"{verb} to {shown(results[0].destination)}", dest.bucket) from error
        raise error
    for result in results:
        if not result.ok:
            assert result.error is not None
            out.error(f"failed: {shown(result.source)} -> {shown(result.destination)}: {_reason(result.error)}")
    return results


def _counts(results: list[TransferResult]) -> tuple[int, int, int]:
    ok = [r for r in results if r.ok]
    return len(ok), len(results) - len(ok), sum(r.bytes for r in ok)


def _plural(n: int, word: str = "file") -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


@command
async def cp(ctx: Context, clients: Clients, args: argparse.Namespace) -> int:
    """Copy one object, or with -r a folder."""
    out = ctx.out
    started = time.monotonic()
    keep = glob_filter(args.filters)
    if keep is not None and not args.recursive:
        raise UsageError("--include/--exclude select files of a folder: use them with -r")
    source_target, dest_target = parse_target(args.src), parse_target(args.dst)
    source, single = await source_place(clients, source_target, recursive=args.recursive)
    dest: Place
    if single is not None:
        dest, name = _dest_single(clients, dest_target, single.name)
        items = [TransferItem.from_metadata(single, single.name, name)]
    else:
        dest = _dest_folder(clients, dest_target)
        await _check_dest_bucket(dest, "copy", dest_target)
        items = [
            TransferItem.from_metadata(meta, meta.name)
            async for meta in iter_tree(source)
            if meta.name
            and not (isinstance(dest, LocalDir) and meta.name.endswith("/"))
            and (keep is None or keep(meta.name))
        ]
    if args.dry_run:
        size = sum(item.size or 0 for item in items)
        if out.json:
            out.data(
                {
                    "ok": True,
                    "dry_run": True,
                    "copy": [
                        {
                            "source": source.describe(i.source),
                            "destination": dest.describe(i.destination),
                            "name": i.source,
                            "size": i.size,
                        }
                        for i in items
                    ],
                    "bytes": size,
                }
            )
        else:
            for item in items:
                out.line(
                    f"would copy: {shown(source.describe(item.source))} -> {shown(dest.describe(item.destination))}"
                )
            out.line(f"dry run: {_plural(len(items))} to copy ({human_size(size)})")
        return 0
    if single is None:
        _prepare_local(dest)
    results = await _copy_items(
        out, source, dest, items, args.concurrency, "copy", single=single is not None, dask=args.dask
    )
    copied, failed, size = _counts(results)
    seconds = time.monotonic() - started
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
        out.line(f"copied {_plural(copied)} ({human_size(size)}) in {seconds:.1f}s{tail}")
    return 1 if failed else 0


async def _source_folder(clients: Clients, target: Target) -> Remote:
    if target.is_local:
        assert target.path is not None
        root, bucket, key = local_bucket(target.path)
        return Remote(clients.local(root), bucket, key)
    client = clients.for_target(target)
    # Fails early with NotFoundError when the bucket does not exist.
    await has_objects(client, target.bucket, target.key, doing=f"sync from {target.text}")
    return Remote(client, target.bucket, target.key)


@command
async def sync(ctx: Context, clients: Clients, args: argparse.Namespace) -> int:
    """Copy what is missing or differs; with --delete remove extras."""
    out = ctx.out
    started = time.monotonic()
    src, dst = args.src, args.dst
    source_target, dest_target = parse_target(src), parse_target(dst)
    if source_target.is_local:
        assert source_target.path is not None
        if source_target.path.is_file():
            raise UsageError(f"sync copies folders; {src} is a file (use cp)")
        if not source_target.path.exists():
            raise missing_local(source_target)
    source = await _source_folder(clients, source_target)
    dest = _dest_folder(clients, dest_target)
    await _check_dest_bucket(dest, "sync", dest_target)
    plan = await plan_sync(source, dest, delete=args.delete, checksum=args.checksum, filter=glob_filter(args.filters))
    if args.delete and plan.delete and not plan.copy and plan.unchanged == 0:
        raise CloudError(
            f"the source {src} is empty: refusing to delete all {len(plan.delete)} objects of {dst} "
            "(use rm -r to empty it)"
        )
    if args.dry_run:
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
    results = await _copy_items(out, source, dest, plan.copy, args.concurrency, "copy", dask=args.dask)
    copied, failed, size = _counts(results)
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
    seconds = time.monotonic() - started  # the whole command: listings and comparison included
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
