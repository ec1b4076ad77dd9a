"""Output of the ``cloud`` command: plain lines, JSON for scripts, rich progress bars on a
terminal, and one-line errors."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cloud.common.models import ObjectMetadata, TransferResult
    from cloud.transfer import TransferItem

__all__ = ["Output", "TransferDisplay", "human_size", "listing_line", "metadata_json", "shown"]


def shown(location: str) -> str:
    """A location for humans: local paths below the current folder are made relative."""
    if not location.startswith("/"):
        return location
    try:
        cwd = os.getcwd()
    except OSError:
        return location
    if location == cwd or not location.startswith(cwd.rstrip("/") + "/"):
        return location
    return os.path.relpath(location, cwd)


def human_size(n: float) -> str:
    """``1536`` -> ``1.5 KiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def listing_summary(count: int, total: int) -> str:
    """The last line of a long listing: how many entries and their total size."""
    return f"{count} entries, {human_size(total)}"


def listing_line(meta: ObjectMetadata, name: str, long: bool) -> str:
    """One line of ``cloud ls``: the name (relative to the listed folder), or with ``long``
    the local time, the size (``DIR`` for a common prefix) and the name."""
    if not long:
        return name
    if meta.is_prefix:
        return f"{'':19}  {'DIR':>12}  {name}"
    when = meta.last_modified.astimezone().strftime("%Y-%m-%d %H:%M:%S") if meta.last_modified else "-"
    return f"{when:19}  {meta.size:>12}  {name}"


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, BaseException):
        return str(value)
    return str(value)


def metadata_json(meta: ObjectMetadata, url: str | None = None) -> dict[str, Any]:
    """An object's metadata as a JSON-ready dict."""
    out = meta.to_dict()
    out["last_modified"] = meta.last_modified.isoformat() if meta.last_modified else None
    if meta.is_prefix:
        out["is_prefix"] = True
    if url is not None:
        out["url"] = url
    return out


@dataclass
class Output:
    """Where and how the command writes: ``json`` for scripts, ``quiet`` for nothing but
    errors; progress bars only when standard error is a terminal."""

    json: bool = False
    quiet: bool = False
    debug: bool = False

    def line(self, text: str) -> None:
        """A human-readable line on stdout (not in ``--json`` or ``--quiet`` mode)."""
        if not self.json and not self.quiet:
            sys.stdout.write(text + "\n")

    def data(self, value: object) -> None:
        """A JSON document on stdout (``--json`` mode)."""
        sys.stdout.write(json.dumps(value, default=_json_default, indent=None) + "\n")

    def error(self, text: str) -> None:
        """One line on stderr, always."""
        sys.stderr.write(f"cloud: {text}\n")
        sys.stderr.flush()

    def warn(self, text: str) -> None:
        """A warning on stderr unless ``--quiet``."""
        if not self.quiet:
            sys.stderr.write(f"cloud: {text}\n")

    @property
    def progress_enabled(self) -> bool:
        """Whether progress bars are drawn: stderr is a terminal, not ``--quiet``, and rich
        (the ``cli`` extra) is installed."""
        if self.quiet:
            return False
        try:
            if not os.isatty(sys.stderr.fileno()):
                return False
        except (AttributeError, OSError, ValueError):  # no real file (captured, closed)
            return False
        if os.environ.get("TERM", "") == "dumb":
            return False
        import importlib.util

        return importlib.util.find_spec("rich") is not None

    @contextmanager
    def json_array(self) -> Iterator[_ArrayWriter]:
        """Stream a JSON array on stdout, one element at a time."""
        writer = _ArrayWriter()
        sys.stdout.write("[")
        try:
            yield writer
        finally:
            sys.stdout.write("\n]\n" if writer.count else "]\n")


class _ArrayWriter:
    def __init__(self) -> None:
        self.count = 0

    def add(self, value: object) -> None:
        sys.stdout.write(("," if self.count else "") + "\n  " + json.dumps(value, default=_json_default))
        self.count += 1


def _key(item: TransferItem) -> str:
    return item.source + "\0" + item.destination


@dataclass
class TransferDisplay:
    """Progress of a bulk transfer: a total bar (bytes, rate, ETA, files) and one bar per
    file in flight, drawn with rich on stderr when ``enabled``; otherwise only counts."""

    enabled: bool
    total_bytes: int
    total_files: int
    verb: str = "copy"
    done_files: int = 0
    failed_files: int = 0
    moved_bytes: int = 0
    started: float = field(default_factory=time.monotonic)
    _progress: Any = None
    _total_task: Any = None
    _tasks: dict[str, Any] = field(default_factory=dict)

    def __enter__(self) -> TransferDisplay:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}", justify="left"),
                BarColumn(bar_width=30),
                DownloadColumn(binary_units=True),
                TransferSpeedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._total_task = self._progress.add_task(self._total_label(), total=max(self.total_bytes, 1))
            self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            for task in list(self._tasks.values()):
                self._progress.remove_task(task)
            self._tasks.clear()
            if exc_type is None and self.total_bytes == 0:
                self._progress.update(self._total_task, completed=1)
            self._progress.update(self._total_task, description=self._total_label())
            self._progress.stop()

    def _total_label(self) -> str:
        failed = f", {self.failed_files} failed" if self.failed_files else ""
        return f"total {self.done_files}/{self.total_files} files{failed}"

    def item_start(self, item: TransferItem) -> None:
        """A file started."""
        if self._progress is not None:
            name = item.destination if len(item.destination) <= 40 else "…" + item.destination[-39:]
            self._tasks[_key(item)] = self._progress.add_task(name, total=item.size or None)

    def item_progress(self, item: TransferItem, n: int) -> None:
        """``n`` more bytes of ``item`` moved."""
        self.moved_bytes += n
        if self._progress is not None:
            task = self._tasks.get(_key(item))
            if task is not None:
                self._progress.advance(task, n)
            self._progress.advance(self._total_task, n)

    def item_done(self, item: TransferItem, result: TransferResult) -> None:
        """A file finished (or failed)."""
        self.done_files += 1
        if not result.ok:
            self.failed_files += 1
        if self._progress is not None:
            task = self._tasks.pop(_key(item), None)
            if task is not None:
                self._progress.remove_task(task)
            self._progress.update(self._total_task, description=self._total_label())
