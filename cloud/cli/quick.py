"""``cloud ls`` of a plain local folder without an event loop.

Listing a folder on this machine is the one command that needs no provider, so it should
start as fast as ``ls`` itself: this module uses only the standard library and prints the
same lines as the full path (:func:`cloud.cli.storage.ls` through a
:class:`~cloud.local.LocalStorageClient`): the same names in the same order (UTF-8 order
of full names, folders as ``name/``, the store's ``.cloud-meta``/``.cloud-tmp`` folders
hidden at the bucket level, empty folders not listed), sizes and times.  Anything it does
not handle exactly (``--json``, a file, a missing path, an unreadable folder) returns
``None`` and the command takes the full path; a test compares both on a tricky tree.

A cloud URL is tried with its provider's quick lister (:data:`cloud.common.registry.QuickLister`,
S3's sends one signed request without aiobotocore) when one exists; when it leaves the
listing to the client, the full path runs as if it had not been tried.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from datetime import datetime, timezone

__all__ = ["try_ls"]

_HIDDEN = (".cloud-meta", ".cloud-tmp")  # cloud.local.stores.META_DIR, TMP_DIR


class _Fallback(Exception):
    """The folder cannot be listed here: use the full path."""


def _entries(folder: str, base: str, bucket_level: bool) -> list[tuple[bytes, str, os.DirEntry[str], bool]]:
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except OSError as exc:
        raise _Fallback from exc
    keyed = []
    for entry in entries:
        if bucket_level and base == "" and entry.name in _HIDDEN:
            continue
        is_dir = entry.is_dir(follow_symlinks=False)
        full = base + entry.name + ("/" if is_dir else "")
        keyed.append((full.encode("utf-8", "surrogateescape"), full, entry, is_dir))
    keyed.sort(key=lambda k: k[0])
    return keyed


def _walk(folder: str, base: str, bucket_level: bool) -> Iterator[tuple[str, os.stat_result]]:
    """Every file below ``folder`` as ``(relative name, stat)`` in the store's order."""
    for _, full, entry, is_dir in _entries(folder, base, bucket_level):
        if is_dir:
            yield from _walk(entry.path, full, bucket_level)
        elif entry.is_file():
            try:
                yield full, entry.stat()
            except OSError as exc:
                raise _Fallback from exc


def _one_level(folder: str, bucket_level: bool) -> Iterator[tuple[str, os.stat_result | None]]:
    """The folder's files and (non-empty) sub-folders, as a ``/``-delimited listing."""
    for _, full, entry, is_dir in _entries(folder, "", bucket_level):
        if is_dir:
            if next(_walk(entry.path, full, bucket_level), None) is not None:
                yield full, None
        elif entry.is_file():
            try:
                yield full, entry.stat()
            except OSError as exc:
                raise _Fallback from exc


def _is_bucket_level(path: str) -> bool:
    """Whether ``path`` is a bucket of the local store the full path would use (the
    nearest ancestor holding ``.cloud-meta`` is the root, else the folder's parent)."""
    current = os.path.dirname(path)
    while True:
        if os.path.isdir(os.path.join(current, _HIDDEN[0])):
            return current == os.path.dirname(path)
        parent = os.path.dirname(current)
        if parent == current:
            return True
        current = parent


def try_ls(args: argparse.Namespace) -> int | None:
    """List a plain local folder as ``cloud ls`` does, or return ``None`` to let the full
    command do it."""
    text: str = args.url
    if args.json or args.filters:
        return None  # JSON output and filters: the full path
    if "://" in text:
        return _try_cloud_ls(args)
    if args.endpoint_url:
        return None  # option checks: the full path
    path = os.path.abspath(os.path.expanduser(text))
    if not os.path.isdir(path) or os.path.dirname(path) == path:
        return None
    try:
        bucket_level = _is_bucket_level(path)
        listing = list(_walk(path, "", bucket_level) if args.recursive else _one_level(path, bucket_level))
    except _Fallback:
        return None
    if args.quiet:
        return 0
    out: list[str] = []
    total = 0
    for name, st in listing:
        if not args.long:
            out.append(name)
        elif st is None:
            out.append(f"{'':19}  {'DIR':>12}  {name}")
        else:
            total += st.st_size
            when = datetime.fromtimestamp(st.st_mtime, tz=timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M:%S")
            out.append(f"{when:19}  {st.st_size:>12}  {name}")
    if args.long and listing:
        from .output import listing_summary

        out.append(listing_summary(len(listing), total))
    if out:
        sys.stdout.write("\n".join(out) + "\n")
    return 0


def _try_cloud_ls(args: argparse.Namespace) -> int | None:
    """``cloud ls`` of a cloud URL through the provider's quick lister, as the full path
    would list it, or ``None``."""
    from urllib.parse import unquote, urlsplit

    from cloud.common import registry
    from cloud.common.exceptions import ConfigurationError, MissingDependencyError

    from .options import ClientOptions
    from .output import listing_line

    parts = urlsplit(args.url)
    scheme = parts.scheme.lower()
    if not parts.netloc or parts.query or parts.fragment or scheme == "file":
        return None  # buckets of a provider, and anything unusual: the full path
    try:
        provider = registry.for_scheme(scheme)
        options = ClientOptions.build(args.endpoint_url, region=args.region, profile=args.profile, project=args.project)
    except ConfigurationError:
        return None  # the full path reports it
    if provider.quick_list is None or provider.local:
        return None
    bucket, key = parts.netloc, unquote(parts.path.lstrip("/"))
    delimiter = None if args.recursive else "/"
    # ``s3://b/name`` is the folder ``name/`` if that holds anything, else the object ``name``
    # (the full path reads its metadata).
    prefix = key + "/" if key and not key.endswith("/") else key
    try:
        listing = provider.quick_listing(args.url, bucket, prefix, delimiter, options.settings(scheme))
    except MissingDependencyError:
        return None  # the full path reports it
    if listing is None or (not listing and prefix != key):
        return None
    if args.quiet:
        return 0
    out = [listing_line(meta, meta.name[len(prefix) :], args.long) for meta in listing]
    if args.long and listing:
        from .output import listing_summary

        out.append(listing_summary(len(listing), sum(meta.size for meta in listing)))
    if out:
        sys.stdout.write("\n".join(out) + "\n")
    return 0
