"""``CloudFileSystem``: an ``fsspec.asyn.AsyncFileSystem`` over any storage client.

Every operation goes through the public :class:`~cloud.common.base.StorageClient` API, so
the client's retries, integrity checks, typed errors and ``stats`` apply.  Paths are
``bucket/key`` (``cloud-file``: absolute local paths under the filesystem's ``root``).
Object stores have no directories: a "directory" is a key prefix that has objects under it
(or a bucket); ``mkdir`` of a bucket creates it, of anything deeper does nothing.
"""

from __future__ import annotations

import errno
import functools
import importlib
import os
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar, TypeVar, cast

import fsspec
from fsspec.asyn import AsyncFileSystem, sync
from fsspec.callbacks import DEFAULT_CALLBACK, Callback
from fsspec.spec import AbstractBufferedFile, _Cached

from cloud.common import registry
from cloud.common.base import StorageClient
from cloud.common.exceptions import (
    AlreadyExistsError,
    AuthenticationError,
    CloudError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
)
from cloud.common.models import CloudCredentials, ObjectMetadata
from cloud.common.objects import ObjectReader, ObjectWriter

__all__ = [
    "PROTOCOLS",
    "AsyncCloudFile",
    "AzureFileSystem",
    "CloudFile",
    "CloudFileSystem",
    "FileFileSystem",
    "GCSFileSystem",
    "MemoryFileSystem",
    "S3FileSystem",
    "register",
    "release",
]

_T = TypeVar("_T")

READ_BLOCK_SIZE = 50 * 1024 * 1024
"""Default read-ahead block of :meth:`CloudFileSystem.open` in ``"rb"`` mode, s3fs's default:
pyarrow reads a Parquet file as its footer and then a few coalesced ranges of column chunks,
and each range that misses the cache fetches this much beyond it, so a file of up to about
this size past its footer is one GET where a smaller block took one per range.  An open file
holds up to one range plus this much in memory; pass ``block_size`` to ``open`` (or to the
filesystem) for small random reads.  Writes buffer fsspec's 5 MiB before handing a block to
the upload."""

# Arguments of fsspec's own machinery, never handed to a client.
_FSSPEC_OPTIONS = frozenset({"use_listings_cache", "listings_expiry_time", "max_paths", "skip_instance_cache"})


def _translate(exc: CloudError, path: str) -> BaseException:
    """Our typed error as the ``OSError`` fsspec callers expect, keeping ours as the cause.

    ``NotFoundError`` already is a ``FileNotFoundError`` and ``ConfigurationError`` a
    ``ValueError``; both pass through unchanged, as does every other ``CloudError``
    (transport errors after the retries, 5xx, rate limits) so callers can still tell them
    apart."""
    if isinstance(exc, (PermissionDeniedError, AuthenticationError)):
        return PermissionError(errno.EACCES, str(exc), path)
    if isinstance(exc, AlreadyExistsError):
        return FileExistsError(errno.EEXIST, str(exc), path)
    if isinstance(exc, ConflictError) and "empty" in str(exc).lower():
        return OSError(errno.ENOTEMPTY, str(exc), path)
    return exc


_F = TypeVar("_F", bound=Callable[..., Awaitable[Any]])


def _translated(method: _F) -> _F:
    """Wrap a coroutine method so a ``CloudError`` leaves it as :func:`_translate` says."""

    @functools.wraps(method)
    async def wrapper(self: CloudFileSystem, path: Any = "", *args: Any, **kwargs: Any) -> Any:
        try:
            return await method(self, path, *args, **kwargs)
        except CloudError as exc:
            translated = _translate(exc, str(path))
            if translated is exc:
                raise
            raise translated from exc

    return cast(_F, wrapper)


class _ClientCache(_Cached):  # type: ignore[misc]
    """fsspec's instance cache keys filesystems by ``str()`` of their arguments; a client's
    repr does not identify it, so a filesystem built around a client is never cached."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs.get("client") is not None:
            kwargs["skip_instance_cache"] = True
        return super().__call__(*args, **kwargs)


def _rebuild(cls: type[CloudFileSystem], state: dict[str, Any]) -> CloudFileSystem:
    """Unpickle a filesystem: a new instance (and, lazily, a new client) from its options."""
    return cls(**state)


def _rebuild_around(cls: type[CloudFileSystem], provider: str, state: dict[str, Any]) -> CloudFileSystem:
    """Unpickle a filesystem that was built around a client: a new client of the same
    provider from its options, owned (and closed) by the new filesystem."""
    found = registry.for_name(provider)
    if found is None:
        raise TypeError(f"no storage provider named {provider!r} in this process")
    options = state["client_options"]
    fs = cls(found.client_class()(**options), client_options=options, block_size=state.get("block_size"))
    fs._owned = True
    return fs


class CloudFileSystem(AsyncFileSystem, metaclass=_ClientCache):  # type: ignore[misc]
    """An ``fsspec`` async filesystem over a :class:`~cloud.common.base.StorageClient`.

    Build it around a client you have (``CloudFileSystem(client)``; the client is yours to
    close), or use a per-backend subclass from options, as ``fsspec`` does from a URL:
    ``fsspec.filesystem("cloud-s3", endpoint_url=..., key=..., secret=...)`` or
    ``pandas.read_csv("cloud-s3://bucket/a.csv", storage_options={...})``.  Options are the
    backend's constructor arguments (``region``, ``part_size``, ``connection_string``,
    ``project``...) plus ``endpoint_url`` (any backend) and the s3fs-style ``key``,
    ``secret`` and ``token`` (S3).  Such a filesystem opens its client lazily, in the loop
    it runs in, and rebuilds it from those options when it is unpickled (a Dask worker gets
    its own client, never a shared socket); ``client_options=`` gives the same for a
    filesystem built around a client.

    Reads are ranged GETs (``client.open``) with read-ahead through ``open(path, "rb")``; writes
    go through ``client.open_write`` (multipart, blocks, resumable) or one ``put_bytes``
    for a small file.  A missing object raises ``FileNotFoundError`` (our
    ``NotFoundError``), a refused one ``PermissionError``; other errors are our typed
    :class:`~cloud.common.exceptions.CloudError` subclasses.
    """

    protocol: ClassVar[tuple[str, ...]] = (
        "cloud",
        "cloud-s3",
        "cloud-gs",
        "cloud-az",
        "cloud-file",
        "cloud-memory",
    )
    root_marker = ""
    async_impl = True
    cachable = True
    scheme: ClassVar[str | None] = None
    """The storage URL scheme of the backend a subclass builds its client for."""
    _absolute_paths: ClassVar[bool] = False

    def __init__(
        self,
        client: StorageClient | None = None,
        *,
        client_options: Mapping[str, Any] | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        project: str | None = None,
        profile: str | None = None,
        key: str | None = None,
        secret: str | None = None,
        token: str | None = None,
        root: str | None = None,
        block_size: int | None = None,
        asynchronous: bool = False,
        loop: Any = None,
        **options: Any,
    ) -> None:
        fsspec_options = {k: options.pop(k) for k in list(options) if k in _FSSPEC_OPTIONS}
        super().__init__(asynchronous=asynchronous, loop=loop, **fsspec_options)
        self.block_size = block_size
        """Read-ahead and write buffer size of :meth:`open` (``None``: :data:`READ_BLOCK_SIZE`
        for reads, fsspec's 5 MiB for writes)."""
        self._root = ""
        self._owned = client is None
        self._buckets_seen: set[str] = set()  # known to exist: mkdir need not ask again
        self._finalizer: Any = None
        if client is not None:
            if not isinstance(client, StorageClient):
                raise TypeError(f"CloudFileSystem needs a StorageClient, not {type(client).__name__}")
            self._provider = registry.for_client(client)
            self._client_options: dict[str, Any] | None = (
                dict(client_options) if client_options is not None else _options_of(client)
            )
            self._client: StorageClient | None = client
            root_path = getattr(client, "root", None)
            if self._absolute_paths and root_path is not None:
                self._root = str(root_path).rstrip("/")
            self._settings: dict[str, Any] = {}
            return
        if self.scheme is None:
            raise TypeError("CloudFileSystem() needs a client; or use a backend's class (cloud-s3, ...) with options")
        self._provider = registry.for_scheme(self.scheme)
        self._settings = {
            k: v
            for k, v in {
                "endpoint_url": endpoint_url,
                "region": region,
                "project": project,
                "profile": profile,
                "key": key,
                "secret": secret,
                "token": token,
                "root": root,
            }.items()
            if v is not None
        }
        self._settings.update(options)
        if client_options is not None:
            built = dict(client_options)
        else:
            built = self._options_from(
                endpoint_url=endpoint_url,
                region=region,
                project=project,
                profile=profile,
                key=key,
                secret=secret,
                token=token,
                root=root,
                options=options,
            )
        self._client_options = built
        if self._absolute_paths:
            self._root = os.path.abspath(str(built.get("root", "/"))).rstrip("/")
        self._client = None

    # -- configuration -----------------------------------------------------------------------

    def _options_from(
        self,
        *,
        endpoint_url: str | None,
        region: str | None,
        project: str | None,
        profile: str | None,
        key: str | None,
        secret: str | None,
        token: str | None,
        root: str | None,
        options: dict[str, Any],
    ) -> dict[str, Any]:
        """The client's constructor arguments: the registry's reading of the settings and
        environment, then the explicit options."""
        assert self._provider is not None
        settings = registry.ClientSettings(endpoint_url=endpoint_url, region=region, profile=profile, project=project)
        url = f"{self.scheme}://"
        if self.scheme == "file":
            url = "file://" + os.path.abspath(root or "/")
        built = self._provider.client_options(url, settings, os.environ)
        if key is not None or secret is not None or token is not None:
            built["credentials"] = CloudCredentials(access_key_id=key, secret_access_key=secret, session_token=token)
        built.update(options)
        return built

    @property
    def client(self) -> StorageClient:
        """The storage client (built from the options on first use)."""
        if self._client is None:
            assert self._provider is not None
            self._client = cast(StorageClient, self._provider.client_class()(**(self._client_options or {})))
            if not self.asynchronous:
                self._finalizer = weakref.finalize(self, _close_client, self._loop, self._client)
        return self._client

    async def _aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._owned:
            await client.aclose()
        if self._owned and self._finalizer is not None:
            self._finalizer.detach()

    def close(self) -> None:
        """Close the client this filesystem opened (a client you passed is yours to close).
        The filesystem stays usable: the next call opens a new client."""
        if self.asynchronous:
            raise RuntimeError("an asynchronous CloudFileSystem is closed with 'await fs.aclose()'")
        sync(self.loop, self._aclose)

    async def aclose(self) -> None:
        """The async form of :meth:`close`."""
        await self._aclose()

    def __reduce__(self) -> tuple[Any, ...]:
        if self._client_options is None:
            raise TypeError(
                f"this CloudFileSystem wraps a {type(self._client).__name__} that cannot be rebuilt in another "
                "process (an in-memory store, or options it does not expose): build it with client_options=..."
            )
        state: dict[str, Any] = {"client_options": self._client_options}
        if self.block_size is not None:
            state["block_size"] = self.block_size
        if self._owned and type(self).scheme is not None:
            return _rebuild, (type(self), state)
        assert self._provider is not None
        return _rebuild_around, (type(self), self._provider.name, state)

    # -- paths -------------------------------------------------------------------------------

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        text = fsspec.utils.stringify_path(path)
        if "://" in text:
            scheme, rest = text.split("://", 1)
            if scheme.lower() in _ALL_PROTOCOLS:
                text = rest
        text = text.rstrip("/")
        if cls._absolute_paths:
            return "/" + text.lstrip("/") if text else "/"
        return text.lstrip("/")

    def unstrip_protocol(self, name: str) -> str:
        """``name`` as a URL of this filesystem (``cloud-s3://bucket/key``; around a client,
        the protocol of the client's backend)."""
        protocol = self.protocol[0]
        if self.scheme is None and self._provider is not None and self._provider.scheme in ("s3", "gs", "az"):
            protocol = "cloud-" + self._provider.scheme
        return f"{protocol}://{self._strip_protocol(name)}"

    def _split(self, path: str) -> tuple[str, str]:
        """``(bucket, key)`` of a path (either may be empty)."""
        path = self._strip_protocol(path)
        if self._absolute_paths:
            root = self._root
            if path == (root or "/"):
                return "", ""
            if not path.startswith(root + "/"):
                raise ValueError(f"{path!r} is outside this filesystem's root {root or '/'!r}")
            path = path[len(root) + 1 :]
        bucket, _, key = path.partition("/")
        return bucket, key.strip("/")

    def _join(self, bucket: str, key: str = "") -> str:
        name = f"{bucket}/{key}" if key else bucket
        if self._absolute_paths:
            return f"{self._root}/{name}" if name else (self._root or "/")
        return name

    def _file_info(self, meta: ObjectMetadata, bucket: str) -> dict[str, Any]:
        return {
            "name": self._join(bucket, meta.name),
            "size": meta.size,
            "type": "file",
            "etag": meta.etag,
            "content_type": meta.content_type,
            "last_modified": meta.last_modified,
            "mtime": meta.last_modified,
            "metadata": dict(meta.metadata),
        }

    def _dir_info(self, name: str) -> dict[str, Any]:
        return {"name": name, "size": 0, "type": "directory"}

    # -- queries -----------------------------------------------------------------------------

    async def _bucket_exists(self, bucket: str) -> bool:
        try:
            async for _ in self.client.iter_objects(bucket, page_size=1):
                break
        except NotFoundError:
            return False
        return True

    async def _prefix_exists(self, bucket: str, key: str) -> bool:
        try:
            async for _ in self.client.iter_objects(bucket, key + "/", delimiter="/", page_size=1):
                return True
        except NotFoundError:
            return False
        return False

    @_translated
    async def _info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        bucket, key = self._split(path)
        if not bucket:
            return self._dir_info(self._join(""))
        if not key:
            if await self._bucket_exists(bucket):
                return self._dir_info(self._join(bucket))
            raise FileNotFoundError(errno.ENOENT, "no such bucket", self._join(bucket))
        try:
            return self._file_info(await self.client.stat(bucket, key), bucket)
        except NotFoundError:
            pass
        if await self._prefix_exists(bucket, key):
            return self._dir_info(self._join(bucket, key))
        raise FileNotFoundError(errno.ENOENT, "no such object or directory", self._join(bucket, key))

    async def _iter_buckets(self) -> AsyncIterator[str]:
        provider = self._provider
        if provider is None:
            return
        async for name in provider.iter_buckets(self.client):
            yield name

    @_translated
    async def _isfile(self, path: str) -> bool:
        bucket, key = self._split(path)
        if not key:
            return False
        try:
            await self.client.stat(bucket, key)
        except NotFoundError:
            return False
        return True

    @_translated
    async def _isdir(self, path: str) -> bool:
        bucket, key = self._split(path)
        if not bucket:
            return True
        if not key:
            return await self._bucket_exists(bucket)
        return await self._prefix_exists(bucket, key)

    @_translated
    async def _ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        bucket, key = self._split(path)
        entries: list[dict[str, Any]] = []
        if not bucket:
            entries = [self._dir_info(self._join(name)) async for name in self._iter_buckets()]
        else:
            prefix = key + "/" if key else ""
            async for meta in self.client.iter_objects(bucket, prefix, delimiter="/"):
                rest = meta.name[len(prefix) :].strip("/")
                if not rest:
                    continue  # a folder marker ("a/") or an odd "a//" prefix
                if meta.is_prefix or meta.name.endswith("/"):
                    entries.append(self._dir_info(self._join(bucket, prefix + rest)))
                else:
                    entries.append(self._file_info(meta, bucket))
            if not entries and key:
                try:
                    entries = [self._file_info(await self.client.stat(bucket, key), bucket)]
                except NotFoundError:
                    raise FileNotFoundError(errno.ENOENT, "no such directory", self._join(bucket, key)) from None
        unique = {e["name"]: e for e in entries}
        ordered = [unique[name] for name in sorted(unique)]
        return ordered if detail else [e["name"] for e in ordered]

    @_translated
    async def _find(self, path: str, maxdepth: int | None = None, withdirs: bool = False, **kwargs: Any) -> Any:
        detail = kwargs.pop("detail", False)
        bucket, key = self._split(path)
        if not bucket or maxdepth == 1:
            return await super()._find(path, maxdepth=maxdepth, withdirs=withdirs, detail=detail, **kwargs)
        if maxdepth is not None and maxdepth < 1:
            raise ValueError("maxdepth must be at least 1")
        prefix = key + "/" if key else ""
        out: dict[str, dict[str, Any]] = {}
        seen = False
        base = self._join(bucket, key)
        try:
            async for meta in self.client.iter_objects(bucket, prefix):
                rest = meta.name[len(prefix) :]
                parts = [p for p in rest.split("/") if p]
                if not parts:
                    continue
                seen = True
                if withdirs:
                    dirs = parts if meta.name.endswith("/") else parts[:-1]
                    for i in range(1, min(len(dirs), maxdepth or len(dirs)) + 1):
                        name = self._join(bucket, prefix + "/".join(dirs[:i]))
                        out.setdefault(name, self._dir_info(name))
                if not meta.name.endswith("/") and (maxdepth is None or len(parts) <= maxdepth):
                    out[self._join(bucket, meta.name)] = self._file_info(meta, bucket)
        except NotFoundError:
            return {} if detail else []
        if withdirs and (seen or not key):
            out[base] = self._dir_info(base)
        if not seen and key:
            try:
                out[base] = self._file_info(await self.client.stat(bucket, key), bucket)
            except NotFoundError:
                pass
        names = sorted(out)
        return {n: out[n] for n in names} if detail else names

    # -- reading -----------------------------------------------------------------------------

    @_translated
    async def _cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        return (await self._read_range(path, start, end))[0]

    async def _read_range(
        self, path: str, start: int | None, end: int | None, etag: str | None = None
    ) -> tuple[bytes, str | None]:
        """``data[start:end]`` and the ETag of the object it came from; with ``etag``, an
        object with another ETag raises ``PreconditionFailedError``."""
        bucket, key = self._split(path)
        # One GET streamed through client.open (a whole object verified at its end): on
        # Azure a quarter of get_bytes' time for multi-MiB ranges, the same elsewhere.
        async with self.client.open(bucket, key, start=start, end=end) as reader:
            if etag and reader.etag and reader.etag != etag:
                raise PreconditionFailedError(
                    f"{path} changed while it was being read (ETag {etag} -> {reader.etag})",
                    code="ObjectChanged",
                )
            return await reader.read(-1), reader.etag

    @_translated
    async def _get_file(self, rpath: str, lpath: str, callback: Callback = DEFAULT_CALLBACK, **kwargs: Any) -> None:
        if os.path.isdir(lpath):
            return
        bucket, key = self._split(rpath)
        try:
            await self.client.download_file(bucket, key, lpath, progress=_progress(callback))
        except NotFoundError:
            if key and await self._prefix_exists(bucket, key):
                os.makedirs(lpath, exist_ok=True)
                return
            raise

    # -- writing -----------------------------------------------------------------------------

    @_translated
    async def _pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        bucket, key = self._split(path)
        if mode == "create" and await self._exists(path):
            raise FileExistsError(errno.EEXIST, "the object exists", path)
        await self.client.put_bytes(bucket, key, bytes(value), content_type=kwargs.get("content_type"))

    @_translated
    async def _put_file(
        self,
        lpath: str,
        rpath: str,
        callback: Callback = DEFAULT_CALLBACK,
        mode: str = "overwrite",
        **kwargs: Any,
    ) -> None:
        if os.path.isdir(lpath):
            return  # object stores have no directories: its files carry the names
        bucket, key = self._split(rpath)
        if mode == "create" and await self._exists(rpath):
            raise FileExistsError(errno.EEXIST, "the object exists", rpath)
        callback.set_size(os.path.getsize(lpath))
        await self.client.upload_file(
            lpath, bucket, key, content_type=kwargs.get("content_type"), progress=_progress(callback)
        )

    @_translated
    async def _cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        b1, k1 = self._split(path1)
        b2, k2 = self._split(path2)
        try:
            await self.client.copy_object(b1, k1, b2, k2)
        except NotFoundError:
            if k1 and await self._prefix_exists(b1, k1):
                return  # a directory: nothing to copy, its files are copied one by one
            raise

    @_translated
    async def _mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        bucket, key = self._split(path)
        if not bucket or bucket in self._buckets_seen:
            return
        if not key or create_parents:
            await self.client.ensure_bucket(bucket)
            self._buckets_seen.add(bucket)

    async def _makedirs(self, path: str, exist_ok: bool = False) -> None:
        await self._mkdir(path, create_parents=True)

    # -- deleting ----------------------------------------------------------------------------

    @_translated
    async def _rm_file(self, path: str, **kwargs: Any) -> None:
        bucket, key = self._split(path)
        if key:
            await self.client.delete_object(bucket, key)

    @_translated
    async def _rmdir(self, path: str) -> None:
        bucket, key = self._split(path)
        if bucket and not key:
            self._buckets_seen.discard(bucket)
            await self.client.delete_bucket(bucket)

    @_translated
    async def _rm(
        self,
        path: Any,
        recursive: bool = False,
        batch_size: int | None = None,
        maxdepth: int | None = None,
        **kwargs: Any,
    ) -> None:
        paths = await self._expand_path(path, recursive=recursive, maxdepth=maxdepth)
        by_bucket: dict[str, list[str]] = {}
        buckets: list[str] = []
        for p in paths:
            bucket, key = self._split(p)
            if not bucket:
                continue
            if key:
                by_bucket.setdefault(bucket, []).append(key)
            else:
                buckets.append(bucket)
        for bucket, keys in by_bucket.items():
            await self.client.delete_objects(bucket, keys)
        if recursive:
            for bucket in buckets:
                self._buckets_seen.discard(bucket)
                await self.client.delete_bucket(bucket, force=True)

    # -- files -------------------------------------------------------------------------------

    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> CloudFile:
        return CloudFile(
            self,
            self._strip_protocol(path),
            mode,
            block_size=block_size or self.block_size or (READ_BLOCK_SIZE if mode == "rb" else "default"),
            autocommit=autocommit,
            cache_options=cache_options,
            **kwargs,
        )

    async def open_async(self, path: str, mode: str = "rb", **kwargs: Any) -> AsyncCloudFile:
        """Open an object as an async file: ``"rb"`` streams it through ``client.open`` (one
        GET, seekable by re-opening a ranged GET, a whole read verified at its end);
        ``"wb"`` streams into ``client.open_write`` (committed by ``close``, discarded when
        ``async with`` exits on an exception)."""
        if mode not in ("rb", "wb") or kwargs.get("compression"):
            raise ValueError(f"open_async supports the modes 'rb' and 'wb', not {mode!r}")
        bucket, key = self._split(path)
        stream: ObjectReader | ObjectWriter
        if mode == "rb":
            stream = self.client.open(bucket, key)
        else:
            stream = self.client.open_write(bucket, key, content_type=kwargs.get("content_type"))
        try:
            await stream.open()
        except CloudError as exc:
            translated = _translate(exc, path)
            if translated is exc:
                raise
            raise translated from exc
        return AsyncCloudFile(stream, self._strip_protocol(path), mode)

    def modified(self, path: str) -> datetime:
        """When the object was last written."""
        modified = self.info(path).get("last_modified")
        if modified is None:
            raise IsADirectoryError(errno.EISDIR, "directories have no modification time", path)
        return cast(datetime, modified)

    async def _exists(self, path: str, **kwargs: Any) -> bool:
        try:
            await self._info(path)
        except FileNotFoundError:
            return False
        except ValueError:
            return False
        return True


def _progress(callback: Callback) -> Callable[[int], None]:
    def report(n: int) -> None:
        callback.relative_update(n)

    return report


def _close_client(loop: Any, client: StorageClient) -> None:
    """At garbage collection or exit: close the client in its loop if that loop still runs."""
    if loop is not None and loop.is_running() and not loop.is_closed():
        try:
            sync(loop, client.aclose, timeout=2)
        except Exception:
            pass


class CloudFile(AbstractBufferedFile):  # type: ignore[misc]
    """A file of a :class:`CloudFileSystem` (what ``fs.open`` returns).

    ``"rb"``: seekable, reading ``block_size`` ranges (one GET each, through
    ``client.open``) with fsspec's read-ahead cache.  ``"wb"``/``"xb"``/``"ab"``: buffered; a file smaller than one block
    is stored with one ``put_bytes`` on close, a larger one streams through
    ``client.open_write`` (multipart, blocks, a resumable session).  Nothing is visible
    before ``close``; leaving a ``with`` block on an exception discards the upload.
    """

    fs: CloudFileSystem

    def __init__(self, fs: CloudFileSystem, path: str, mode: str = "rb", **kwargs: Any) -> None:
        self._writer: ObjectWriter | None = None
        self._etag: str | None = None
        self._append_size = 0
        if mode in ("xb", "ab"):
            try:
                details = fs.info(path)
            except FileNotFoundError:
                details = None
            if details is not None and mode == "xb":
                raise FileExistsError(errno.EEXIST, "the object exists", path)
            if details is not None and details["type"] != "file":
                raise IsADirectoryError(errno.EISDIR, "is a directory", path)
            self._append_size = details["size"] if details is not None else 0
        super().__init__(fs, path, mode, **kwargs)
        if mode == "ab":
            self.loc = self._append_size
        self._bucket, self._key = fs._split(path)

    def _fetch_range(self, start: int, end: int) -> bytes:
        # Every block must come from the version the first block came from (same ETag, as
        # the GET answers it): an object replaced while it is read fails
        # (PreconditionFailedError) instead of mixing versions.
        try:
            data, etag = sync(self.fs.loop, self.fs._read_range, self.path, start, end, self._etag)
        except CloudError as exc:
            translated = _translate(exc, self.path)
            if translated is exc:
                raise
            raise translated from exc
        if self._etag is None:
            self._etag = etag
        return cast(bytes, data)

    def _initiate_upload(self) -> None:
        pass  # the upload starts with the first block (or is one put_bytes at close)

    async def _upload(self, data: bytes, final: bool) -> None:
        client = self.fs.client
        if self._writer is None:
            if final and not self._append_size:
                await client.put_bytes(self._bucket, self._key, data, content_type=self.kwargs.get("content_type"))
                return
            self._writer = client.open_write(self._bucket, self._key, content_type=self.kwargs.get("content_type"))
            await self._writer.open()
            if self._append_size:
                async for chunk in client.open_read(self._bucket, self._key):
                    await self._writer.write(chunk)
        if data:
            await self._writer.write(data)
        if final:
            await self._writer.commit()

    def _upload_chunk(self, final: bool = False) -> bool:
        data = self.buffer.getvalue()
        try:
            sync(self.fs.loop, self._upload, data, final)
        except CloudError as exc:
            self.discard()
            translated = _translate(exc, self.path)
            if translated is exc:
                raise
            raise translated from exc
        except BaseException:
            self.discard()
            raise
        return True

    def discard(self) -> None:
        """Drop the upload: nothing is stored."""
        writer, self._writer = self._writer, None
        if writer is not None:
            try:
                sync(self.fs.loop, writer.abort)
            except Exception:
                pass

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None and self.mode != "rb" and not self.closed:
            self.discard()
            self._closed = True
            return
        self.close()


class AsyncCloudFile:
    """What :meth:`CloudFileSystem.open_async` returns: an async file over an
    :class:`~cloud.common.objects.ObjectReader` (``"rb"``: ``read``, ``seek``, ``tell``,
    ``size``) or an :class:`~cloud.common.objects.ObjectWriter` (``"wb"``: ``write``).
    ``close`` closes the response or commits the upload; leaving ``async with`` on an
    exception discards an upload."""

    def __init__(self, stream: ObjectReader | ObjectWriter, path: str, mode: str) -> None:
        self.path = path
        """The path it was opened with."""
        self.mode = mode
        """``"rb"`` or ``"wb"``."""
        self._stream = stream
        self.closed = False
        """Whether :meth:`close` was called."""

    def _reader(self) -> ObjectReader:
        if not isinstance(self._stream, ObjectReader):
            raise ValueError("File not in read mode")
        return self._stream

    def _writer(self) -> ObjectWriter:
        if not isinstance(self._stream, ObjectWriter):
            raise ValueError("File not in write mode")
        return self._stream

    @property
    def size(self) -> int:
        """The object's size (read mode)."""
        return self._reader().size

    async def read(self, length: int = -1) -> bytes:
        """Up to ``length`` bytes (everything left when negative)."""
        reader = self._reader()
        if length < 0:
            return await reader.read(-1)
        parts: list[bytes] = []
        while length > 0:
            chunk = await reader.read(length)
            if not chunk:
                break
            parts.append(chunk)
            length -= len(chunk)
        return b"".join(parts)

    async def seek(self, loc: int, whence: int = 0) -> int:
        """Move to ``loc`` (``whence`` as in :meth:`io.IOBase.seek`); a far move re-opens a
        ranged GET pinned to the version first read."""
        return await self._reader().seek(loc, whence)

    def tell(self) -> int:
        """The current position (read mode) or the bytes written so far."""
        if isinstance(self._stream, ObjectReader):
            return self._stream.tell()
        return self._stream.bytes_written

    async def write(self, data: bytes) -> int:
        """Hand ``data`` to the upload."""
        return await self._writer().write(data)

    async def close(self) -> None:
        """Close the response, or commit the upload.  Idempotent."""
        if self.closed:
            return
        self.closed = True
        if isinstance(self._stream, ObjectReader):
            await self._stream.aclose()
        else:
            await self._stream.commit()

    async def discard(self) -> None:
        """Drop an upload (nothing is stored) or close a response."""
        self.closed = True
        if isinstance(self._stream, ObjectWriter):
            await self._stream.abort()
        else:
            await self._stream.aclose()

    async def __aenter__(self) -> AsyncCloudFile:
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None and not self.closed:
            await self.discard()
        else:
            await self.close()


def _options_of(client: StorageClient) -> dict[str, Any] | None:
    """Constructor arguments that rebuild an equivalent client in another process, read
    from the public attributes of the built-in clients; ``None`` when there are none (an
    in-memory store, an Azure client authenticated with an object)."""
    kind = type(client).__name__
    timeout = client.default_timeout
    options: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    if kind == "LocalStorageClient":
        root = getattr(client, "root", None)
        return None if root is None else {**options, "root": str(root)}
    if kind == "S3Client":
        for name in ("endpoint_url", "region", "profile", "part_size", "max_concurrency"):
            value = getattr(client, name, None)
            if value is not None:
                options[name] = value
        credentials = getattr(client, "_credentials", None)
        if credentials is not None:
            options["credentials"] = credentials
        return options
    if kind == "GCSClient":
        for name in ("project", "service_account_file", "api_root", "chunk_size", "max_concurrency"):
            value = getattr(client, name, None)
            if value is not None:
                options[name] = value
        return options
    if kind == "AzureBlobClient":
        connection_string = getattr(client, "_connection_string", None)
        if connection_string is None:
            return None
        for name in ("block_size", "max_concurrency"):
            options[name] = getattr(client, name)
        options["connection_string"] = connection_string
        return options
    return None


class S3FileSystem(CloudFileSystem):
    """``cloud-s3://bucket/key``: :class:`CloudFileSystem` over an :class:`~cloud.aws.S3Client`."""

    protocol = ("cloud-s3", "s3", "s3a")
    scheme = "s3"


class GCSFileSystem(CloudFileSystem):
    """``cloud-gs://bucket/key``: :class:`CloudFileSystem` over a :class:`~cloud.gcp.GCSClient`."""

    protocol = ("cloud-gs", "gs", "gcs")
    scheme = "gs"


class AzureFileSystem(CloudFileSystem):
    """``cloud-az://container/blob``: :class:`CloudFileSystem` over an
    :class:`~cloud.azure.AzureBlobClient`."""

    protocol = ("cloud-az", "az")
    scheme = "az"


class FileFileSystem(CloudFileSystem):
    """``cloud-file:///abs/path``: :class:`CloudFileSystem` over a
    :class:`~cloud.local.LocalStorageClient` rooted at ``root`` (default ``/``); paths are
    absolute, and the first folder below the root is the bucket."""

    protocol = ("cloud-file",)
    scheme = "file"
    _absolute_paths = True


class MemoryFileSystem(CloudFileSystem):
    """``cloud-memory://bucket/key``: :class:`CloudFileSystem` over an in-memory
    :class:`~cloud.local.LocalStorageClient` (one store per filesystem instance; fsspec
    caches instances, so ``fsspec.filesystem("cloud-memory")`` returns the same one)."""

    protocol = ("cloud-memory",)
    scheme = "memory"


_CLASSES: dict[str, type[CloudFileSystem]] = {
    "s3": S3FileSystem,
    "gs": GCSFileSystem,
    "az": AzureFileSystem,
    "file": FileFileSystem,
    "memory": MemoryFileSystem,
}

PROTOCOLS: dict[str, str] = {"cloud-" + scheme: f"{cls.__module__}.{cls.__name__}" for scheme, cls in _CLASSES.items()}
"""Our own ``fsspec`` protocols and their classes (what the ``fsspec.specs`` entry points
register)."""

_CLAIMABLE: dict[str, type[CloudFileSystem]] = {
    "s3": S3FileSystem,
    "s3a": S3FileSystem,
    "gs": GCSFileSystem,
    "gcs": GCSFileSystem,
    "az": AzureFileSystem,
}
_ALL_PROTOCOLS = frozenset({"cloud", *("cloud-" + s for s in _CLASSES), *_CLAIMABLE})
_claimed: dict[str, tuple[Any, Any]] = {}


def register(claim: Iterable[str] = ()) -> None:
    """Register our protocols with ``fsspec`` (the ``fsspec.specs`` entry points already do
    when the package is installed) and, opt-in, claim other protocols for us:
    ``register(claim=("s3", "gs", "az"))`` makes ``s3://`` (and ``gs://``, ``az://``) URLs
    open with our filesystem instead of s3fs, gcsfs or adlfs, for this process.  Claimable:
    ``s3``, ``s3a``, ``gs``, ``gcs``, ``az``.  :func:`release` gives them back."""
    fsspec_registry: Any = importlib.import_module("fsspec.registry")

    for protocol, path in PROTOCOLS.items():
        fsspec.register_implementation(protocol, path, clobber=True)
    for protocol in claim:
        cls = _CLAIMABLE.get(protocol)
        if cls is None:
            raise ValueError(f"cannot claim {protocol!r}: choose from {', '.join(sorted(_CLAIMABLE))}")
        if protocol not in _claimed:
            _claimed[protocol] = (
                fsspec_registry._registry.get(protocol),
                fsspec_registry.known_implementations.get(protocol),
            )
        fsspec.register_implementation(protocol, cls, clobber=True)


def release(protocols: Iterable[str] | None = None) -> None:
    """Give claimed protocols (default: all) back to whatever served them before."""
    fsspec_registry: Any = importlib.import_module("fsspec.registry")

    for protocol in list(_claimed if protocols is None else protocols):
        if protocol not in _claimed:
            continue
        previous_class, previous_known = _claimed.pop(protocol)
        fsspec_registry._registry.pop(protocol, None)
        if previous_class is not None:
            fsspec_registry._registry[protocol] = previous_class
        if previous_known is not None:
            fsspec_registry.known_implementations[protocol] = previous_known
