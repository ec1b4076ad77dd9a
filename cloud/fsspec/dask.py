"""Bulk copies scaled out on a Dask cluster (``cloud.transfer`` with ``dask=``, ``cloud cp``
and ``cloud sync`` with ``--dask SCHEDULER_ADDRESS``).

The driver lists the source lazily and hands batches of :class:`~cloud.transfer.TransferItem`
to the cluster, never more than a few batches per worker thread in flight.  A batch carries
a picklable description of both places (provider, client options, bucket, prefix), so each
worker process builds its own clients once (kept for later batches; never a shared socket)
and runs :func:`cloud.transfer.transfer`, our async bulk copy, on them.  Every item comes
back as a :class:`~cloud.common.models.TransferResult` with its typed error when it failed;
a batch lost with its worker comes back as failures of each of its items.  With
``skip_existing`` (the default) a worker first checks each destination object and skips
those that already match the source (same size and not older, the rule of ``aws s3
sync``), so a re-run copies only what is missing.  A skipped item is a result with
``ok=True`` and ``bytes=0``.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib
import multiprocessing.util
import os
import pickle
import threading
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from fsspec.asyn import get_loop, sync

from cloud.common import registry
from cloud.common.base import StorageClient
from cloud.common.bulk import map_bounded
from cloud.common.exceptions import CloudError, ConfigurationError, NotFoundError, TransportError
from cloud.common.models import ObjectMetadata, TransferResult
from cloud.common.types import ProgressCallback, ResultCallback
from cloud.fsspec.filesystem import _options_of

__all__ = ["DEFAULT_BATCH_SIZE", "PlaceSpec", "copy_on_dask"]

DEFAULT_BATCH_SIZE = 256
"""Items per task sent to a worker."""


@dataclass(frozen=True)
class PlaceSpec:
    """A :class:`~cloud.transfer.Remote` or :class:`~cloud.transfer.LocalDir` as plain,
    picklable data: how to build its client (provider name and constructor options) and
    where (bucket and prefix, or the local folder)."""

    provider: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    bucket: str = ""
    prefix: str = ""
    local_path: str | None = None

    @classmethod
    def of(cls, place: Any) -> PlaceSpec:
        """Describe a place; ``ConfigurationError`` when its client cannot be rebuilt in
        another process (an in-memory store, credentials given as objects)."""
        from cloud.transfer import LocalDir

        if isinstance(place, LocalDir):
            return cls(local_path=os.fspath(place.path))
        client: StorageClient = place.client
        provider = registry.for_client(client)
        options = _options_of(client)
        if provider is None or options is None:
            raise ConfigurationError(
                f"a {type(client).__name__} of this kind cannot be rebuilt on Dask workers "
                "(in-memory stores and credential objects stay in this process)"
            )
        return cls(provider=provider.name, options=options, bucket=place.bucket, prefix=place.prefix)

    def build(self) -> Any:
        """The place, with a new client (on a worker)."""
        from cloud.transfer import LocalDir, Remote

        if self.local_path is not None:
            return LocalDir(self.local_path)
        provider = registry.for_name(self.provider)
        if provider is None:
            raise ConfigurationError(f"no provider named {self.provider!r} on this worker")
        return Remote(provider.client_class()(**self.options), self.bucket, self.prefix)


# -- on a worker -----------------------------------------------------------------------------

_places: dict[bytes, Any] = {}
_places_lock = threading.Lock()


def _place(spec: PlaceSpec) -> Any:
    """This process's place (and client) for ``spec``, built once and reused by every batch;
    all of them run on fsspec's I/O loop of this process and are closed when it exits."""
    key = pickle.dumps(spec)
    with _places_lock:
        place = _places.get(key)
        if place is None:
            if not _places:
                atexit.register(_close_places)
                # A worker started by multiprocessing leaves through os._exit: no atexit there.
                multiprocessing.util.Finalize(None, _close_places, exitpriority=10)
            place = _places[key] = spec.build()
        return place


def _close_places() -> None:
    """Close every client this process built for batches (at exit).  Idempotent."""
    with _places_lock:
        places = list(_places.values())
        _places.clear()
    for place in places:
        client = getattr(place, "client", None)
        if client is None:
            continue
        try:
            sync(get_loop(), client.aclose, timeout=5)
        except Exception:
            pass


async def _matches(source: Any, dest: Any, item: Any) -> bool:
    """Whether the destination object already matches the listed source object."""
    from cloud.transfer import _reading, compare_objects

    remote = _reading(dest)
    try:
        current = await remote.client.stat(remote.bucket, remote.key(item.destination))
    except (NotFoundError, FileNotFoundError):
        return False
    listed = ObjectMetadata(
        name=item.source,
        bucket="",
        size=item.size if item.size is not None else -1,
        etag=None,
        content_type=item.content_type,
        last_modified=item.last_modified,
    )
    return compare_objects(listed, current) is None


async def _copy_batch_async(
    source_spec: PlaceSpec,
    dest_spec: PlaceSpec,
    items: list[Any],
    concurrency: int,
    skip_existing: bool,
    timeout: float | None,
) -> list[TransferResult]:
    from cloud.transfer import transfer

    source, dest = _place(source_spec), _place(dest_spec)
    done: list[bool] = [False] * len(items)
    if skip_existing:

        async def check(index: int) -> None:
            try:
                done[index] = await _matches(source, dest, items[index])
            except (CloudError, OSError):
                done[index] = False  # the copy will say what is wrong

        await map_bounded(range(len(items)), check, concurrency)
    todo = [item for item, skip in zip(items, done, strict=True) if not skip]
    copied = iter(await transfer(source, dest, todo, concurrency=concurrency, timeout=timeout))
    return [
        TransferResult(source=source.describe(item.source), destination=dest.describe(item.destination), ok=True)
        if skip
        else next(copied)
        for item, skip in zip(items, done, strict=True)
    ]


def copy_batch(
    source_spec: PlaceSpec,
    dest_spec: PlaceSpec,
    items: list[Any],
    concurrency: int,
    skip_existing: bool = True,
    timeout: float | None = None,
) -> list[TransferResult]:
    """The task a worker runs: copy ``items`` with this process's clients and return one
    result per item, in order."""
    result: list[TransferResult] = sync(
        get_loop(), _copy_batch_async, source_spec, dest_spec, items, concurrency, skip_existing, timeout
    )
    return result


# -- on the driver ---------------------------------------------------------------------------


async def _batches(items: Iterable[Any] | AsyncIterable[Any], size: int) -> AsyncIterator[list[Any]]:
    batch: list[Any] = []
    if isinstance(items, AsyncIterable):
        async for item in items:
            batch.append(item)
            if len(batch) >= size:
                yield batch
                batch = []
    else:
        for item in items:
            batch.append(item)
            if len(batch) >= size:
                yield batch
                batch = []
    if batch:
        yield batch


async def copy_on_dask(
    source: Any,
    dest: Any,
    items: Iterable[Any] | AsyncIterable[Any],
    scheduler: Any,
    *,
    concurrency: int = 8,
    batch_size: int = DEFAULT_BATCH_SIZE,
    skip_existing: bool = True,
    progress: ProgressCallback | None = None,
    on_result: ResultCallback | None = None,
    timeout: float | None = None,
) -> list[TransferResult]:
    """Copy ``items`` from ``source`` to ``dest`` on a Dask cluster and return one result per
    item (in input order).

    ``scheduler`` is a scheduler address (``tcp://host:8786``), a ``distributed.Client``
    (asynchronous or not) or a cluster object with ``scheduler_address``.  ``items`` are
    consumed lazily, ``batch_size`` at a time, with at most two batches per worker thread
    in flight; each worker copies a batch with ``concurrency`` copies at once.
    ``progress`` receives the bytes of each finished item, ``on_result`` each result.
    """
    distributed: Any = importlib.import_module("distributed")

    if batch_size < 1:
        raise ConfigurationError("batch_size must be a positive integer")
    source_spec, dest_spec = PlaceSpec.of(source), PlaceSpec.of(dest)
    address = getattr(scheduler, "scheduler_address", None) or scheduler
    if isinstance(scheduler, distributed.Client):
        address = scheduler.scheduler.address
    results: dict[int, list[TransferResult]] = {}
    async with distributed.Client(address, asynchronous=True, set_as_default=False) as dask:
        info = await dask.scheduler.identity()
        threads = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()) or 1
        limit = 2 * threads
        running: dict[asyncio.Future[Any], tuple[int, list[Any]]] = {}

        async def outcome(future: Any) -> list[TransferResult] | BaseException:
            try:
                got: list[TransferResult] = await future
            except Exception as exc:
                return exc
            return got

        def collect(order: int, batch: list[Any], got: list[TransferResult] | BaseException) -> None:
            if isinstance(got, BaseException):
                error = got if isinstance(got, CloudError) else TransportError(f"the Dask task failed: {got!r}")
                got = [
                    TransferResult(
                        source=source.describe(item.source),
                        destination=dest.describe(item.destination),
                        ok=False,
                        error=error,
                    )
                    for item in batch
                ]
            results[order] = got
            for result in got:
                if progress is not None and result.bytes:
                    progress(result.bytes)
                if on_result is not None:
                    on_result(result)

        async def drain(until: int) -> None:
            while len(running) > until:
                finished, _ = await asyncio.wait(list(running), return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    order, batch = running.pop(task)
                    collect(order, batch, task.result())

        index = 0
        async for batch in _batches(items, batch_size):
            future = dask.submit(
                copy_batch,
                source_spec,
                dest_spec,
                batch,
                concurrency,
                skip_existing,
                timeout,
                pure=False,
            )
            running[asyncio.ensure_future(outcome(future))] = (index, batch)
            index += 1
            await drain(limit - 1)
        await drain(0)
    return [result for order in sorted(results) for result in results[order]]
