"""The contracts every client implements: CloudClient, StorageClient, ComputeClient,
ServerlessClient."""

from __future__ import annotations

import inspect
import json
import os
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, ClassVar, TypeVar

import anyio

from .bulk import map_bounded
from .deadline import call_deadline, remaining, whole_call
from .enums import CloudProvider, ResourceState
from .exceptions import CloudError, ConfigurationError, ConflictError, NotFoundError
from .files import DEFAULT_CONTENT_TYPE, guess_content_type, local_file_error
from .models import CloudResource, ObjectMetadata, TransferResult
from .objects import ObjectReader, ObjectWriter, RangeStream
from .pagination import AsyncPaginator
from .stats import ClientStats
from .types import ProgressCallback, ResultCallback, StrPath
from .validation import (
    check_content_type,
    check_data,
    check_object_name,
    normalize_metadata,
    range_needs_size,
    slice_bounds,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "CloudClient",
    "ComputeClient",
    "ServerlessClient",
    "StorageClient",
    "encode_payload",
]

DEFAULT_CHUNK_SIZE = 1024 * 1024
"""Default chunk size of streaming reads (1 MiB)."""

MAX_SIGN_SECONDS = 7 * 24 * 3600
"""The longest a signed URL may last (seven days, every provider's limit)."""

_Self = TypeVar("_Self", bound="CloudClient")


class CloudClient(ABC):
    """Base of every async client: an async context manager with lazy I/O and ``stats``.

    Construction does no I/O; the first call opens the session; :meth:`aclose` (or leaving
    ``async with``) releases it and may be called more than once.  Every public coroutine
    method that takes ``timeout=`` runs under one deadline for the whole call (all its
    requests, retries and back-off), the client's ``default_timeout`` when none is given.
    """

    provider: ClassVar[CloudProvider]
    """Which backend this client talks to."""

    stats: ClientStats
    """Counters: requests, retries, errors by class, bytes sent and received."""

    def __init__(self) -> None:
        self.stats = ClientStats()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # The class's own methods and those of its mixins (bases that are not clients),
        # the first definition in MRO order winning, as attribute lookup would.
        seen: set[str] = set()
        for owner in cls.__mro__:
            if owner is not cls and (issubclass(owner, CloudClient) or owner is object):
                continue
            for name, value in list(vars(owner).items()):
                if name.startswith("_") or name in seen:
                    continue
                seen.add(name)
                if inspect.iscoroutinefunction(value) and "timeout" in inspect.signature(value).parameters:
                    setattr(cls, name, whole_call(value))

    @property
    def default_timeout(self) -> float | None:
        """Seconds a call may take when it is given no ``timeout=`` (``None``: no limit)."""
        runner = getattr(self, "_runner", None)
        return None if runner is None else runner.timeout

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @abstractmethod
    async def aclose(self) -> None:
        """Release sessions and connections.  Idempotent."""


class StorageClient(CloudClient):
    """The object-storage contract: same signatures and behaviour on every backend.

    A *bucket* is an S3 bucket, a GCS bucket, an Azure container or a local folder.  Every
    failure raises a typed :class:`~cloud.common.exceptions.CloudError`; a missing bucket or
    object raises :class:`~cloud.common.exceptions.NotFoundError`.  Every method accepts
    ``timeout=`` (seconds for the whole call; for streams, for each chunk).
    """

    default_concurrency: ClassVar[int] = 16

    # -- buckets ---------------------------------------------------------------------------

    @abstractmethod
    async def ensure_bucket(self, bucket: str, *, timeout: float | None = None) -> bool:
        """Create ``bucket`` if needed: ``True`` if it was created, ``False`` if it existed.

        Raises ``ConfigurationError`` (before any I/O) for an invalid name and
        ``AlreadyExistsError`` when the name is taken by someone else.
        """

    @abstractmethod
    async def delete_bucket(self, bucket: str, *, force: bool = False, timeout: float | None = None) -> None:
        """Delete ``bucket``.  It must be empty unless ``force`` (then its objects go first);
        a non-empty bucket raises ``ConflictError``; a missing one ``NotFoundError``."""

    # -- single objects --------------------------------------------------------------------

    async def upload_file(
        self,
        local_path: StrPath,
        bucket: str,
        object_name: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> bool:
        """Upload a local file, streaming it from disk (large files in parallel parts).

        The content type is guessed from the file name when not given.  Returns ``True``;
        raises on failure and leaves no partial object behind.
        """
        ctype, user = self._upload_args(bucket, object_name, content_type, metadata, path=local_path)
        await self._upload_file(local_path, bucket, object_name, ctype, user, progress, timeout)
        return True

    async def _upload_file(
        self,
        local_path: StrPath,
        bucket: str,
        object_name: str,
        content_type: str,
        metadata: dict[str, str],
        progress: ProgressCallback | None,
        timeout: float | None,
    ) -> None:
        """The provider's primitive under :meth:`upload_file`: its arguments checked."""
        raise ConfigurationError(f"{type(self).__name__} cannot upload files")

    def _upload_args(
        self,
        bucket: str,
        object_name: str,
        content_type: str | None,
        metadata: Mapping[str, str] | None,
        *,
        path: StrPath | None = None,
    ) -> tuple[str, dict[str, str]]:
        """An upload's arguments checked before any I/O: its content type (by default
        guessed from ``path``'s name, else ``application/octet-stream``) and its user
        metadata, normalised."""
        self._check(bucket, object_name)
        user = normalize_metadata(metadata)
        if not content_type:
            content_type = DEFAULT_CONTENT_TYPE if path is None else guess_content_type(os.fspath(path))
        return check_content_type(content_type), user

    async def upload_stream(
        self,
        bucket: str,
        object_name: str,
        chunks: AsyncIterable[bytes],
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> bool:
        """Upload an object from an async iterable of byte chunks of any sizes (e.g. another
        client's ``open_read``), with memory bounded by the part size, not the object size:
        S3 multipart parts, Azure staged blocks, GCS resumable chunks.  Content type
        defaults to ``application/octet-stream``.  Returns ``True``; on failure nothing is
        committed (multipart uploads are aborted, blocks are never committed).
        """
        ctype, user = self._upload_args(bucket, object_name, content_type, metadata)
        await self._upload_stream(bucket, object_name, chunks, ctype, user, progress, timeout)
        return True

    async def _upload_stream(
        self,
        bucket: str,
        object_name: str,
        chunks: AsyncIterable[bytes],
        content_type: str,
        metadata: dict[str, str],
        progress: ProgressCallback | None,
        timeout: float | None,
    ) -> None:
        """The provider's primitive under :meth:`upload_stream`: its arguments checked."""
        raise ConfigurationError(f"{type(self).__name__} cannot upload streams")

    @abstractmethod
    async def download_file(
        self,
        bucket: str,
        object_name: str,
        local_path: StrPath,
        *,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> bool:
        """Download an object to ``local_path`` through a temp file beside it, renamed into
        place only when complete and verified.  Returns ``True``; on failure no file (and no
        partial file) is left at ``local_path``."""

    async def _download_counted(
        self,
        bucket: str,
        object_name: str,
        local_path: StrPath,
        *,
        progress: ProgressCallback | None,
        timeout: float | None,
    ) -> int:
        """:meth:`download_file` for :meth:`download_many`, returning the size of the file
        written: read back from disk here; a provider whose download knows it overrides
        this (its ``timeout`` bounding the whole download, as ``download_file``'s does)."""
        await self.download_file(bucket, object_name, local_path, progress=progress, timeout=timeout)
        return os.path.getsize(local_path)

    async def put_bytes(
        self,
        bucket: str,
        object_name: str,
        data: bytes,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> ObjectMetadata:
        """Store ``data`` as an object and return what was stored."""
        ctype, user = self._upload_args(bucket, object_name, content_type, metadata)
        return await self._put_bytes(bucket, object_name, check_data(data), ctype, user, timeout)

    async def _put_bytes(
        self,
        bucket: str,
        object_name: str,
        data: bytes,
        content_type: str,
        metadata: dict[str, str],
        timeout: float | None,
    ) -> ObjectMetadata:
        """The provider's primitive under :meth:`put_bytes`: its arguments checked."""
        raise ConfigurationError(f"{type(self).__name__} cannot store objects")

    async def get_bytes(
        self,
        bucket: str,
        object_name: str,
        *,
        start: int | None = None,
        end: int | None = None,
        timeout: float | None = None,
    ) -> bytes:
        """Return the object's content, or ``data[start:end]`` (Python slice rules, ``end``
        exclusive, negative values count from the end).

        The whole object is checked against the checksum the service stored
        (``IntegrityError``).  A slice costs one ranged read, after a metadata request only
        when its bounds need the object's size (e.g. ``start=-10, end=-2``) or it is empty
        (a missing object still raises ``NotFoundError``).
        """
        self._check(bucket, object_name)
        version: str | None = None
        if start is not None and start < 0 and end is None and self._suffix_ranges:
            offset, length = start, None
        elif range_needs_size(start, end) or (end is not None and end <= (start or 0)):
            meta = await self.stat(bucket, object_name, timeout=timeout)
            offset, length = slice_bounds(start, end, meta.size)
            if length == 0:
                return b""
            version = meta.etag  # the bounds hold for this version only
        else:
            offset, length = start or 0, None if end is None else end - (start or 0)
        return await self._read_bytes(bucket, object_name, offset, length, version=version, timeout=timeout)

    _suffix_ranges: ClassVar[bool] = False
    """Whether :meth:`_read_bytes` takes a negative ``offset`` (the last ``-offset`` bytes)."""

    async def _read_bytes(
        self,
        bucket: str,
        object_name: str,
        offset: int,
        length: int | None,
        *,
        version: str | None,
        timeout: float | None,
    ) -> bytes:
        """The provider's primitive under :meth:`get_bytes`: ``length`` bytes at ``offset``
        (``None``: to the end; from 0, the whole object, verified; a range starting at or
        past the end is ``b""``), counted in ``stats``.  ``version`` is the ETag the bounds
        were resolved on, for a provider that pins its reads to it."""
        raise ConfigurationError(f"{type(self).__name__} cannot read objects")

    async def open_read(
        self,
        bucket: str,
        object_name: str,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        timeout: float | None = None,
    ) -> AsyncIterator[bytes]:
        """Stream the object's content in chunks of at most ``chunk_size`` bytes.

        One GET of the whole object (the provider's :meth:`_open_range`); ``timeout``
        bounds the request and each chunk.  When the stream ends, the content is checked
        against the checksum the service stored (``IntegrityError``).
        """
        self._check(bucket, object_name)
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size <= 0:
            raise ConfigurationError("chunk_size must be a positive integer")
        stream = await self._open_range(
            bucket, object_name, 0, None, timeout=timeout, chunk_size=chunk_size, operation="open_read"
        )
        try:
            async for chunk in stream.chunks:
                yield chunk
        finally:
            await stream.aclose()

    def open(
        self,
        bucket: str,
        object_name: str,
        *,
        start: int | None = None,
        end: int | None = None,
        timeout: float | None = None,
    ) -> ObjectReader:
        """Open the object for reading: ``async with client.open(bucket, name) as r:``.

        Entering sends one GET (``NotFoundError`` there, before any byte is served); its
        response headers give ``r.size`` (bytes this reader returns), ``r.content_type``,
        ``r.etag`` and ``r.metadata``.  Read with ``await r.read(n)`` or ``async for chunk
        in r``; ``start``/``end`` select ``data[start:end]`` (Python slice rules).  A whole
        object is verified against its stored checksum at its end (``IntegrityError``).
        Leaving the ``async with`` or cancelling the reader closes the HTTP response at
        once.  The sync facade returns a seekable, file-like :class:`SyncObjectReader`.
        Names are checked here, before any I/O.  See :class:`ObjectReader`.
        """
        self._check(bucket, object_name)
        return ObjectReader(self, bucket, object_name, start=start, end=end, timeout=timeout)

    def open_write(
        self,
        bucket: str,
        object_name: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> ObjectWriter:
        """Open the object for writing: ``async with client.open_write(bucket, name) as w:
        await w.write(data)``.

        The bytes stream into :meth:`upload_stream` (parts, blocks or a resumable session;
        memory bounded by the part size); the object is stored when the ``async with``
        exits cleanly and discarded (nothing committed, no parts left) on an exception or a
        cancellation.  The sync facade returns a writable :class:`SyncObjectWriter`.
        Names, content type and metadata are checked here, before any I/O.  See
        :class:`ObjectWriter`.
        """
        self._check(bucket, object_name)
        return ObjectWriter(self, bucket, object_name, content_type=content_type, metadata=metadata, timeout=timeout)

    def _check(self, bucket: str, object_name: str) -> None:
        """Refuse a bad bucket or object name before any I/O (providers add their rules)."""
        check_object_name(object_name)

    async def _open_range(
        self,
        bucket: str,
        object_name: str,
        offset: int,
        length: int | None,
        *,
        version: str | None = None,
        timeout: float | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        operation: str = "open",
    ) -> RangeStream:
        """The provider's primitive under :meth:`open` and :meth:`open_read`: one GET of
        ``length`` bytes at ``offset`` (``None``: to the end; from 0, the whole object,
        verified at its end), pinned to ``version`` when given, its body in chunks of at
        most ``chunk_size`` bytes, its errors naming ``operation``.  See
        :class:`~cloud.common.objects.RangeStream`."""
        raise ConfigurationError(f"{type(self).__name__} cannot open objects as streams")

    @abstractmethod
    async def stat(self, bucket: str, object_name: str, *, timeout: float | None = None) -> ObjectMetadata:
        """Return the object's :class:`ObjectMetadata` (``NotFoundError`` if missing)."""

    async def get_metadata(self, bucket: str, object_name: str, *, timeout: float | None = None) -> dict[str, Any]:
        """Return the object's metadata as a dict with the same keys on every provider:
        ``name``, ``bucket``, ``size``, ``etag``, ``content_type``, ``last_modified``
        (timezone-aware), ``metadata`` (user metadata) and ``provider``."""
        return (await self.stat(bucket, object_name, timeout=timeout)).to_dict()

    async def object_exists(self, bucket: str, object_name: str, *, timeout: float | None = None) -> bool:
        """Whether the object exists (a missing bucket raises ``NotFoundError``)."""
        try:
            await self.stat(bucket, object_name, timeout=timeout)
        except NotFoundError:
            if not await self._bucket_exists(bucket, timeout=timeout):
                raise
            return False
        return True

    @abstractmethod
    async def _bucket_exists(self, bucket: str, *, timeout: float | None = None) -> bool:
        """Whether ``bucket`` exists (used to tell a missing object from a missing bucket)."""

    @abstractmethod
    async def delete_object(self, bucket: str, object_name: str, *, timeout: float | None = None) -> None:
        """Delete an object.  Deleting a missing object is not an error (as on S3); a
        missing bucket raises ``NotFoundError``."""

    _delete_batch_size: ClassVar[int] = 1000
    """Names per :meth:`_delete_batch` call (the provider's batch limit)."""

    async def delete_objects(
        self,
        bucket: str,
        object_names: Iterable[str],
        *,
        timeout: float | None = None,
    ) -> None:
        """Delete many objects (batched where the provider allows).  Every name is checked
        before any I/O: a bad one raises ``ConfigurationError`` and nothing is deleted.
        Missing objects are skipped; every batch is attempted and, if some failed, the
        first error is raised afterwards (a missing bucket raises ``NotFoundError``)."""
        names = list(object_names)
        for name in names:
            self._check(bucket, name)
        errors: list[CloudError] = []
        missing: list[bool] = []

        async def run(batch: list[str]) -> None:
            try:
                failed, some_missing = await self._delete_batch(bucket, batch, timeout=timeout)
            except CloudError as exc:
                errors.append(exc)
                return
            errors.extend(failed)
            if some_missing:
                missing.append(True)

        size = self._delete_batch_size
        batches = (names[i : i + size] for i in range(0, len(names), size))
        await map_bounded(batches, run, self._delete_batches_in_flight())
        if missing and not await self._bucket_exists(bucket, timeout=timeout):
            errors.append(self._missing_bucket(bucket, "delete_objects"))
        if errors:
            raise errors[0]

    def _missing_bucket(self, bucket: str, operation: str) -> NotFoundError:
        """The error for a bucket found missing after the fact."""
        return NotFoundError(f"bucket {bucket!r} does not exist", provider=self.provider.value, operation=operation)

    def _delete_batches_in_flight(self) -> int:
        """How many :meth:`_delete_batch` calls :meth:`delete_objects` runs at once."""
        return 1

    async def _delete_batch(
        self, bucket: str, names: list[str], *, timeout: float | None
    ) -> tuple[list[CloudError], bool]:
        """The provider's primitive under :meth:`delete_objects`: delete ``names`` (already
        checked) and return the per-name errors, and whether some object was reported
        missing where a missing bucket looks the same (the flow then checks the bucket
        once).  This default deletes one object per request, ``default_concurrency`` at
        once."""

        async def delete(name: str) -> CloudError | None:
            try:
                await self.delete_object(bucket, name, timeout=timeout)
            except CloudError as exc:
                return exc
            return None

        return [e for e in await map_bounded(names, delete, self.default_concurrency) if e is not None], False

    @abstractmethod
    async def copy_object(
        self,
        source_bucket: str,
        source_name: str,
        dest_bucket: str,
        dest_name: str,
        *,
        timeout: float | None = None,
    ) -> None:
        """Copy an object server-side, keeping its content type and user metadata."""

    # -- listings --------------------------------------------------------------------------

    @abstractmethod
    def iter_objects(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        page_size: int | None = None,
        timeout: float | None = None,
    ) -> AsyncPaginator[ObjectMetadata]:
        """List objects lazily, one page in memory at a time, in name order.

        With ``delimiter``, names containing it after ``prefix`` are rolled up into one
        entry per common prefix (``is_prefix=True``), as in S3's ``CommonPrefixes``.
        """

    async def list_objects(self, bucket: str, prefix: str = "", *, timeout: float | None = None) -> list[str]:
        """Return the names of all objects under ``prefix`` (every page)."""
        return [m.name async for m in self.iter_objects(bucket, prefix, timeout=timeout)]

    # -- bulk ------------------------------------------------------------------------------

    async def upload_many(
        self,
        bucket: str,
        files: Iterable[tuple[StrPath, str]],
        *,
        concurrency: int | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        progress: ProgressCallback | None = None,
        on_result: ResultCallback | None = None,
        timeout: float | None = None,
    ) -> list[TransferResult]:
        """Upload ``(local_path, object_name)`` pairs with bounded concurrency.

        One failure does not stop the rest: each item gets a :class:`TransferResult`
        (in input order).  ``progress`` receives byte increments, ``on_result`` each result.
        """

        async def one(item: tuple[StrPath, str]) -> TransferResult:
            path, name = item
            size = os.path.getsize(path)
            await self.upload_file(
                path, bucket, name, content_type=content_type, metadata=metadata, progress=progress, timeout=timeout
            )
            return TransferResult(source=os.fspath(path), destination=name, ok=True, bytes=size)

        return await _transfer_all(
            files,
            one,
            lambda item: (os.fspath(item[0]), item[1]),
            self.default_concurrency if concurrency is None else _check_concurrency(concurrency),
            on_result,
        )

    async def download_many(
        self,
        bucket: str,
        items: Iterable[tuple[str, StrPath]],
        *,
        concurrency: int | None = None,
        progress: ProgressCallback | None = None,
        on_result: ResultCallback | None = None,
        timeout: float | None = None,
    ) -> list[TransferResult]:
        """Download ``(object_name, local_path)`` pairs with bounded concurrency.

        One failure does not stop the rest: each item gets a :class:`TransferResult`
        (in input order).  ``progress`` receives byte increments, ``on_result`` each result.
        """

        async def one(item: tuple[str, StrPath]) -> TransferResult:
            name, path = item
            size = await self._download_counted(bucket, name, path, progress=progress, timeout=timeout)
            return TransferResult(source=name, destination=os.fspath(path), ok=True, bytes=size)

        return await _transfer_all(
            items,
            one,
            lambda item: (item[0], os.fspath(item[1])),
            self.default_concurrency if concurrency is None else _check_concurrency(concurrency),
            on_result,
        )

    # -- URLs ------------------------------------------------------------------------------

    _signable_methods: ClassVar[tuple[str, ...]] = ("GET", "HEAD", "PUT", "DELETE")
    """The methods :meth:`sign_url` signs."""

    async def sign_url(
        self,
        bucket: str,
        object_name: str,
        *,
        method: str = "GET",
        expires: int = 3600,
        timeout: float | None = None,
    ) -> str:
        """Return a URL granting ``method`` (``GET``, ``HEAD``, ``PUT`` or ``DELETE``; GCS
        also ``POST``) on the object for ``expires`` seconds (1 to 7 days) without other credentials; the URL
        itself is the grant, so handle it like a secret.  Arguments are checked before any
        I/O; raises ``ConfigurationError`` where the backend or the credentials cannot sign."""
        self._check(bucket, object_name)
        verb = method.upper() if isinstance(method, str) else ""
        if verb not in self._signable_methods:
            raise ConfigurationError(f"cannot sign method {method!r}: use one of {', '.join(self._signable_methods)}")
        if isinstance(expires, bool) or not isinstance(expires, int) or not 1 <= expires <= MAX_SIGN_SECONDS:
            raise ConfigurationError(f"expires must be 1 to {MAX_SIGN_SECONDS} seconds (seven days)")
        return await self._sign_url(bucket, object_name, verb, expires, timeout=timeout)

    async def _sign_url(
        self, bucket: str, object_name: str, method: str, expires: int, *, timeout: float | None
    ) -> str:
        """The provider's primitive under :meth:`sign_url` (arguments already checked,
        ``method`` upper-case).  This default cannot sign."""
        raise ConfigurationError(f"{type(self).__name__} cannot sign URLs")


class ComputeClient(CloudClient):
    """The virtual-machine contract: list, describe, start, stop and wait for instances.

    Implemented by :class:`cloud.aws.EC2Client`, :class:`cloud.gcp.ComputeEngineClient` and
    :class:`cloud.azure.AzureVMClient`.  An instance is a :class:`CloudResource` whose
    ``id`` the other methods take back and whose ``state`` is a :class:`ResourceState`.
    A missing instance raises ``NotFoundError``; a malformed id ``ConfigurationError``
    before any I/O.  Every method accepts ``timeout=`` (one deadline for the whole call).
    """

    default_wait_timeout: ClassVar[float] = 600.0
    """Deadline of :meth:`wait_for_state` when neither ``timeout=`` nor the client's
    default timeout is set (waiting is never unbounded)."""

    @abstractmethod
    def list_instances(
        self, *, page_size: int | None = None, timeout: float | None = None
    ) -> AsyncPaginator[CloudResource]:
        """List instances lazily, one page (of at most ``page_size``) in memory at a time."""

    @abstractmethod
    async def get_instance(self, instance_id: str, *, timeout: float | None = None) -> CloudResource:
        """Describe one instance (``NotFoundError`` if missing)."""

    @abstractmethod
    async def start_instance(self, instance_id: str, *, timeout: float | None = None) -> None:
        """Ask for the instance to start; returns once the provider accepted the request
        (and, where the provider answers with a long-running operation, when that is
        done).  Use :meth:`wait_for_state` to wait until it runs."""

    @abstractmethod
    async def stop_instance(self, instance_id: str, *, timeout: float | None = None) -> None:
        """Ask for the instance to stop (Azure: deallocate); returns as
        :meth:`start_instance` does.  Use :meth:`wait_for_state` to wait until it stopped."""

    async def wait_for_state(
        self,
        instance_id: str,
        state: ResourceState | str,
        *,
        poll_interval: float = 2.0,
        timeout: float | None = None,
    ) -> CloudResource:
        """Poll the instance until its state is ``state`` and return it.

        Polls every ``poll_interval`` seconds at first, backing off to at most 15 s.
        ``timeout`` (else the client's default, else :attr:`default_wait_timeout`) bounds
        the whole wait: ``RequestTimeoutError`` when it passes.  An instance that is
        terminated while another state is awaited raises ``ConflictError`` at once.
        """
        try:
            target = ResourceState(state)
        except ValueError:
            raise ConfigurationError(f"unknown state {state!r}") from None
        if isinstance(poll_interval, bool) or not isinstance(poll_interval, (int, float)) or not poll_interval > 0:
            raise ConfigurationError("poll_interval must be a positive number of seconds")
        limit = None if remaining() is not None else self.default_wait_timeout
        with call_deadline(limit, "wait_for_state", provider=self.provider.value, on_expiry=self.stats.record_error):
            delay = float(poll_interval)
            while True:
                resource = await self.get_instance(instance_id)
                if resource.state is target:
                    return resource
                if resource.state is ResourceState.TERMINATED:
                    raise ConflictError(
                        f"instance {instance_id!r} is terminated: it will never be {target.value}",
                        provider=self.provider.value,
                        operation="wait_for_state",
                    )
                await anyio.sleep(delay)
                delay = min(delay * 1.5, max(float(poll_interval), 15.0))


class ServerlessClient(CloudClient):
    """The serverless-functions contract: list, describe and invoke functions.

    Implemented by :class:`cloud.aws.LambdaClient`, :class:`cloud.gcp.CloudFunctionsClient`
    and :class:`cloud.azure.AzureFunctionsClient`.  A function is a :class:`CloudResource`
    whose ``state`` is a :class:`ResourceState`.  A missing function raises
    ``NotFoundError``; a function that ran and failed raises :class:`FunctionError`
    carrying what it answered.  Every method accepts ``timeout=``.
    """

    @abstractmethod
    def list_functions(
        self, *, page_size: int | None = None, timeout: float | None = None
    ) -> AsyncPaginator[CloudResource]:
        """List functions lazily, one page (of at most ``page_size``) in memory at a time."""

    @abstractmethod
    async def get_function(self, name: str, *, timeout: float | None = None) -> CloudResource:
        """Describe one function (``NotFoundError`` if missing)."""

    @abstractmethod
    async def invoke_function(
        self,
        name: str,
        payload: bytes | Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        timeout: float | None = None,
    ) -> bytes:
        """Invoke a function with ``payload`` (bytes as they are, a mapping as JSON) and
        return its response body.

        ``wait=False`` queues the invocation (fire and forget) and returns ``b""`` once the
        provider accepted it.  A function that ran and failed raises :class:`FunctionError`
        (its error payload in ``.payload``).  Invocations are not retried (a function may
        not be idempotent) unless the provider refused them before running them (429).
        """


def encode_payload(payload: bytes | Mapping[str, Any] | None) -> bytes:
    """A function payload as bytes: bytes as they are, a mapping as compact JSON, ``None``
    as ``b""``; anything else is a ``ConfigurationError`` before any I/O."""
    if payload is None:
        return b""
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return bytes(payload)
    if isinstance(payload, Mapping):
        try:
            return json.dumps(payload, separators=(",", ":")).encode()
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"payload is not JSON-serialisable: {exc}") from None
    raise ConfigurationError("payload must be bytes, a JSON mapping or None")


_Item = TypeVar("_Item")


def _check_concurrency(concurrency: object) -> int:
    """``concurrency`` as a positive int, or ``ConfigurationError`` before any I/O."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigurationError("concurrency must be a positive integer")
    return concurrency


async def _transfer_all(
    items: Iterable[_Item],
    one: Callable[[_Item], Awaitable[TransferResult]],
    describe: Callable[[_Item], tuple[str, str]],
    concurrency: int,
    on_result: ResultCallback | None,
) -> list[TransferResult]:
    """Run ``one`` over ``items`` with bounded concurrency; a failed item becomes a
    ``TransferResult`` with ``ok=False`` instead of stopping the rest."""

    async def run(item: _Item) -> TransferResult:
        try:
            return await one(item)
        except (CloudError, OSError) as exc:
            source, destination = describe(item)
            error = exc if isinstance(exc, CloudError) else local_file_error(exc, exc.filename or source)
            return TransferResult(source=source, destination=destination, ok=False, error=error)

    def done(_: _Item, result: TransferResult) -> None:
        if on_result is not None:
            on_result(result)

    return await map_bounded(items, run, concurrency, on_done=done)
