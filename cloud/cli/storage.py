"""The storage commands of ``cloud``: ls, stat, cat, mb, rb, rm, sign."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import AsyncIterator, Callable

import anyio
import anyio.to_thread

from cloud.common import registry
from cloud.common.base import StorageClient
from cloud.common.exceptions import ConflictError
from cloud.common.models import ObjectMetadata

from .output import Output, human_size, listing_line, listing_summary, metadata_json, shown
from .places import (
    Clients,
    Target,
    UsageError,
    local_bucket,
    missing_local,
    one_object,
    parse_target,
    source_place,
)
from .runner import Context, command

__all__ = ["cat", "ls", "mb", "rb", "rm", "sign"]


def _bare_scheme(text: str) -> str | None:
    """``s3://`` (no bucket, no key) -> ``"s3"``; anything else -> ``None``."""
    scheme, sep, rest = text.partition("://")
    if sep and scheme and not rest.strip("/") and scheme.lower() != "file":
        return scheme.lower()
    return None


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


@command
async def ls(ctx: Context, clients: Clients, args: argparse.Namespace) -> int:
    """List objects, or the buckets of a provider (``cloud ls s3://``)."""
    out = ctx.out
    scheme = _bare_scheme(args.url)
    if scheme is not None:
        return await _list_buckets(out, clients, scheme)
    target = parse_target(args.url)
    single: ObjectMetadata | None = None
    listing: AsyncIterator[ObjectMetadata] | None = None
    delimiter = None if args.recursive else "/"
    if target.is_local:
        path = target.path
        assert path is not None
        if not path.exists():
            raise missing_local(target)
        root, bucket, key = local_bucket(path)
        client = clients.local(root)
        url_of = _local_url_of(root, bucket)
        prefix = key
        if path.is_dir():
            listing = aiter(client.iter_objects(bucket, prefix, delimiter=delimiter))
        else:
            single = await client.stat(bucket, key)
    else:
        client = clients.for_target(target)
        bucket = target.bucket
        url_of = _cloud_url_of(target)
        prefix = target.key
        if prefix and not prefix.endswith("/"):
            first, rest = await _first_and_rest(aiter(client.iter_objects(bucket, prefix + "/", delimiter=delimiter)))
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
    await _print_listing(out, listing, prefix, args.long, url_of)
    return 0


async def _list_buckets(out: Output, clients: Clients, scheme: str) -> int:
    try:
        provider = registry.for_scheme(scheme)
    except Exception as exc:
        raise UsageError(str(exc)) from None
    client = clients.get(scheme)
    names = provider.iter_buckets(client)
    if out.json:
        with out.json_array() as array:
            async for name in names:
                array.add({"bucket": name, "url": f"{scheme}://{name}"})
        return 0
    async for name in names:
        out.line(f"{name}/")
    return 0


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
    lines: list[str] = []
    async for meta in listing:
        count += 1
        total += meta.size
        lines.append(listing_line(meta, meta.name[len(prefix) :], long))
        if len(lines) >= 1000:
            out.line("\n".join(lines))
            lines = []
    if lines:
        out.line("\n".join(lines))
    if long and count:
        out.line(listing_summary(count, total))


@command
async def stat(ctx: Context, clients: Clients, args: argparse.Namespace) -> int:
    """Show an object's metadata."""
    out = ctx.out
    target = parse_target(args.url)
    client, bucket, key = await one_object(clients, target)
    meta = await client.stat(bucket, key)
    url = target.url() if target.is_local else target.url(key)
    if out.json:
        out.data(metadata_json(meta, url))
        return 0
    out.line(f"url:           {url}")
    out.line(f"size:          {meta.size} ({human_size(meta.size)})")
    out.line(f"etag:          {meta.etag or '-'}")
    out.line(f"content_type:  {meta.content_type or '-'}")
    out.line(f"last_modified: {meta.last_modified.isoformat() if meta.last_modified else '-'}")
    user = ", ".join(f"{k}={v}" for k, v in sorted(meta.metadata.items()))
    out.line(f"metadata:      {user or '-'}")
    out.line(f"provider:      {meta.provider.value}")
    return 0


@command
async def cat(ctx: Context, clients: Clients, args: argparse.Namespace) -> int:
    """Write an object's content to stdout."""
    client, bucket, key = await one_object(clients, parse_target(args.url))
    sink = sys.stdout.buffer
    async for chunk in client.open_read(bucket, key):
        await anyio.to_thread.run_sync(sink.write, chunk)
    sink.flush()
    return 0


@command
async def mb(ctx: Context, clients: Clients, args: argparse.Namespace) -> int:
    """Make a bucket (a local folder)."""
    out = ctx.out
    target = parse_target(args.url)
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


@command
async def rb(ctx: Context, clients: Clients, args: argparse.Namespace) -> int:
    """Remove a bucket."""
    out = ctx.out
    target = parse_target(args.url)
    client: StorageClient
    if target.is_local:
        assert target.path is not None
        if not target.path.is_dir():
            raise missing_local(target)
        root, bucket, key = local_bucket(target.path)
        if key:
            raise UsageError(f"{target.text} is a folder inside the bucket {bucket!r}: use rm -r")
        client = clients.local(root)
        where = os.fspath(target.path)
    else:
        if target.key.strip("/"):
            raise UsageError(f"rb takes a bucket URL ({target.scheme}://{target.bucket})")
        client, bucket, where = clients.for_target(target), target.bucket, f"{target.scheme}://{target.bucket}"
    await client.delete_bucket(bucket, force=args.force)
    if out.json:
        out.data({"bucket": where, "deleted": True})
    else:
        out.line(f"removed {shown(where)}")
    return 0


@command
async def rm(ctx: Context, clients: Clients, args: argparse.Namespace) -> int:
    """Delete an object, or with -r every object below a folder."""
    out = ctx.out
    target = parse_target(args.url)
    if args.filters and not args.recursive:
        raise UsageError("--include/--exclude select files of a folder: use them with -r")
    if not args.recursive:
        client, bucket, key = await one_object(clients, target)
        await client.stat(bucket, key)  # a missing object is an error here
        if not args.dry_run:
            await client.delete_object(bucket, key)
        deleted = [target.url() if target.is_local else target.url(key)]
    else:
        deleted = await _remove_tree(clients, target, args)
    if out.json:
        out.data({"deleted": deleted, "count": len(deleted), "dry_run": args.dry_run})
    else:
        verb = "would delete" if args.dry_run else "deleted"
        for name in deleted:
            out.line(f"{verb}: {shown(name)}")
    return 0


async def _remove_tree(clients: Clients, target: Target, args: argparse.Namespace) -> list[str]:
    from cloud.transfer import delete_names, glob_filter, iter_tree

    keep = glob_filter(args.filters)
    dry_run: bool = args.dry_run
    if target.is_local and target.path is not None and target.path.is_file():
        client, bucket, key = await one_object(clients, target)
        if keep is None or keep(key.rpartition("/")[2]):
            if not dry_run:
                await client.delete_object(bucket, key)
            return [target.url()]
        return []
    place, single = await source_place(clients, target, recursive=True)
    if single is not None:
        if keep is not None and not keep(single.name.rpartition("/")[2]):
            return []
        if not dry_run:
            await place.client.delete_object(place.bucket, single.name)
        return [place.describe(single.name)]
    deleted: list[str] = []
    batch: list[str] = []
    async for meta in iter_tree(place):
        if keep is not None and not keep(meta.name):
            continue
        batch.append(meta.name)
        if len(batch) >= 1000:
            if not dry_run:
                await delete_names(place, batch)
            deleted += [place.describe(n) for n in batch]
            batch = []
    if batch:
        if not dry_run:
            await delete_names(place, batch)
        deleted += [place.describe(n) for n in batch]
    return deleted


@command
async def sign(ctx: Context, clients: Clients, args: argparse.Namespace) -> int:
    """Print a pre-signed URL."""
    out = ctx.out
    method = args.method.upper()
    client, bucket, key = await one_object(clients, parse_target(args.url))
    signed = await client.sign_url(bucket, key, method=method, expires=args.expires)
    if out.json:
        out.data({"url": signed, "expires": args.expires, "method": method})
    else:
        sys.stdout.write(signed + "\n")
    return 0
