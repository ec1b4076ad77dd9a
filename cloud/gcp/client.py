"""GCSClient: the storage contract on Google Cloud Storage, through gcloud-aio-storage."""

from __future__ import annotations

import email.utils
import io
import json
import os
import secrets as _secrets
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import nullcontext
from datetime import timezone
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar, cast
from urllib.parse import urlsplit

import anyio

from cloud.common.base import StorageClient
from cloud.common.chunks import STREAM_BODY_FROM, stream_views
from cloud.common.enums import CloudProvider
from cloud.common.exceptions import (
    CloudError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
)
from cloud.common.files import (
    DEFAULT_CONTENT_TYPE,
    read_small_file,
)
from cloud.common.http_ranges import range_header, total_from_content_range
from cloud.common.lazy_open import OpenOnce
from cloud.common.models import ObjectMetadata
from cloud.common.objects import RangeStream, body_chunks
from cloud.common.operations import OperationRunner
from cloud.common.pagination import AsyncPaginator, Page
from cloud.common.retry import RetryPolicy
from cloud.common.stream_download import STALL_SECONDS, StreamedBody, block_deadline, download_to_file
from cloud.common.types import ProgressCallback, StrPath
from cloud.common.validation import check_prefix

from .batch import delete_batch_body, parse_batch_response
from .checksums import Checksums, feed, file_checksums, server_hashes, verify
from .errors import ChecksumMismatchError, error_from_response, translate
from .exact_urls import ExactURLSession
from .keys import check_private_key, parse_key, read_key_file
from .listing import decode_page, read_page
from .names import check_bucket_name, check_object_name_for_gcs
from .resources import object_metadata, parse_time, prefix_entry
from .resumable import CHUNK_MULTIPLE, ChunkSource, object_resource, upload_file_resumable, upload_resumable
from .signing import sign_v4_url

if TYPE_CHECKING:
    # The SDK (gcloud-aio-storage, aiohttp, yarl) loads on a client's first call: see _open.
    import aiohttp
    from gcloud.aio.storage import Storage

__all__ = ["DEFAULT_UPLOAD_CHUNK_SIZE", "GCSClient", "check_bucket_name"]

DEFAULT_UPLOAD_CHUNK_SIZE = 8 * 1024 * 1024
"""Default resumable-upload chunk (8 MiB): objects up to this size go in one request."""

DEFAULT_API_ROOT = "https://storage.googleapis.com"

_PAGE_SIZE = 1000
_BATCH_LIMIT = 100  # GCS accepts at most 100 calls per batch request
# download_file streams blocks of chunk_size, at most 1 MiB: measured on the benchmark VM,
# 2-8 MiB blocks cost up to twice the CPU (glibc hands the pieces' memory back to the OS and
# faults it in again per block) for no fewer bytes copied.
_MAX_BLOCK = 1024 * 1024
_WHOLE = 1 << 62  # get_bytes reads the whole body, whatever its size

# gcloud-aio's methods take a per-request aiohttp timeout; the whole-call timeout is the
# runner's (``timeout=``), so the transport only bounds connecting and a stalled socket.
_HTTP_TIMEOUT: Any = None  # aiohttp.ClientTimeout(total=None, sock_connect=60, sock_read=STALL_SECONDS)
# Bodies we read block by block (download_file, open_read) get no ``sock_read``: aiohttp
# re-arms that timer on every socket read (a call_later + cancel per ~64 KiB, ~12% of the
# client CPU of a 256 MiB download); the stall guard is one deadline per block instead.
_STREAM_HTTP_TIMEOUT: Any = None  # aiohttp.ClientTimeout(total=None, sock_connect=60)


def _load_sdk() -> None:
    """Import aiohttp and set the module's aiohttp timeouts (on the first client's open: they
    are only used by a client whose session is open)."""
    global _HTTP_TIMEOUT, _STREAM_HTTP_TIMEOUT
    if _HTTP_TIMEOUT is None:
        import aiohttp

        _HTTP_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=60, sock_read=STALL_SECONDS)
        _STREAM_HTTP_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=60)


_by_name = attrgetter("name")


async def _read_pieces(content: aiohttp.StreamReader, size: int) -> list[bytes]:
    """The next ``size`` bytes or so of a body, as received (no copying; less only at its
    end, one received piece more at most); empty at the end."""
    pieces: list[bytes] = []
    received = 0
    while received < size:
        piece = await content.readany()
        if not piece:
            break
        pieces.append(piece)
        received += len(piece)
    return pieces


async def _single(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _multipart_frame(fields: Mapping[str, Any], content_type: str) -> tuple[bytes, bytes, str]:
    """What goes before and after the body of a ``multipart/related`` upload whose first
    part is the object resource ``fields``; plus the request's Content-Type."""
    boundary = "===" + _secrets.token_hex(16) + "=="
    head = (
        f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{json.dumps(fields)}\r\n"
        f"--{boundary}\r\nContent-Type: {content_type}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head, tail, f"multipart/related; boundary={boundary}"


class GCSClient(StorageClient):
    """The storage contract on Google Cloud Storage (gcloud-aio-storage over one aiohttp
    session per client, opened on first use and closed by :meth:`aclose`).

    * ``project``: used to create buckets (defaults to ``GOOGLE_CLOUD_PROJECT``, the key's
      ``project_id`` or the metadata server).
    * ``service_account_file``: a JSON key; without it, Application Default Credentials
      (``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's user credentials, the metadata server).
    * ``api_root``: another endpoint, e.g. an emulator; ``STORAGE_EMULATOR_HOST`` is honoured
      too.  Requests to a non-Google endpoint carry no credentials.
    * ``chunk_size``: resumable-upload chunk (a multiple of 256 KiB); objects up to this size
      go in one request; a larger file streams in one resumable ``PUT`` (read in blocks of
      this size), a larger stream of unknown length goes in chunks of this size, so memory
      stays about one chunk.
    * ``max_concurrency``: parallel requests inside one call (batch deletes); the connection
      pool holds at least ``4 * max_concurrency`` (and 100) connections, so bulk transfers
      are never capped by the pool.
    * ``retry``/``timeout``: the retry policy and the default per-call timeout (seconds).

    Uploads and downloads compare the CRC32C GCS reports (the MD5 only when it reports no
    CRC32C) and raise :class:`~cloud.gcp.errors.ChecksumMismatchError` on a mismatch.
    """

    provider: ClassVar[CloudProvider] = CloudProvider.GCP

    def __init__(
        self,
        *,
        project: str | None = None,
        service_account_file: StrPath | None = None,
        api_root: str | None = None,
        chunk_size: int = DEFAULT_UPLOAD_CHUNK_SIZE,
        max_concurrency: int = 16,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
    ) -> None:
        super().__init__()
        if project is not None and (not isinstance(project, str) or not project):
            raise ConfigurationError("project must be a non-empty string")
        if not isinstance(chunk_size, int) or chunk_size <= 0 or chunk_size % CHUNK_MULTIPLE:
            raise ConfigurationError("chunk_size must be a positive multiple of 256 KiB (262144 bytes)")
        if not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise ConfigurationError("max_concurrency must be at least 1")
        if timeout is not None and timeout <= 0:
            raise ConfigurationError("timeout must be positive")
        self.project = project
        self.service_account_file = os.fspath(service_account_file) if service_account_file is not None else None
        root = api_root
        if root is None and os.environ.get("STORAGE_EMULATOR_HOST"):
            root = os.environ["STORAGE_EMULATOR_HOST"]
            if not root.startswith(("http://", "https://")):
                root = "http://" + root
        explicit = root is not None
        root = (root or DEFAULT_API_ROOT).rstrip("/")
        parts = urlsplit(root)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"api_root must be an http(s) URL, not {root!r}")
        self.api_root = root
        # An emulator or other non-Google endpoint gets no credentials (as in gcloud-aio).
        self.anonymous = explicit and not parts.hostname.endswith("googleapis.com")
        self.chunk_size = chunk_size
        self.max_concurrency = max_concurrency
        self._pool_size = max(100, 4 * max_concurrency)
        self._service_data: dict[str, Any] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._storage: Storage | None = None
        self._once: OpenOnce[Storage] = OpenOnce()
        self._runner = OperationRunner(
            provider=CloudProvider.GCP.value,
            translate=translate,
            retry=retry,
            stats=self.stats,
            timeout=timeout,
            secrets=self._secrets,
        )

    def __repr__(self) -> str:
        auth = (
            "anonymous"
            if self.anonymous
            else (f"service_account_file={self.service_account_file!r}" if self.service_account_file else "ADC")
        )
        return f"<GCSClient project={self.project!r} api_root={self.api_root!r} {auth}>"

    def _secrets(self) -> list[str]:
        found: list[str] = []
        data = self._service_data or {}
        for key in ("private_key", "client_secret", "refresh_token"):
            value = data.get(key)
            if isinstance(value, str) and value:
                found.append(value)
        storage = self._storage
        token = getattr(getattr(storage, "token", None), "access_token", None) if storage is not None else None
        if isinstance(token, str) and token:
            found.append(token)
        return found

    # -- session ---------------------------------------------------------------------------

    async def _open(self) -> Storage:
        """The gcloud-aio ``Storage`` on this client's session, created on first use."""
        storage = self._storage
        if storage is not None:
            return storage
        with self._runner.errors("open_session"):
            return await self._once.get(lambda: self._storage, self._create_storage)

    async def _create_storage(self) -> None:
        """Load credentials and open the session (called once, under the lock)."""
        _load_sdk()
        import aiohttp
        from gcloud.aio.storage import Storage

        service_file: io.StringIO | None = None
        if self.service_account_file is not None:
            text = await anyio.to_thread.run_sync(read_key_file, self.service_account_file)
            self._service_data = parse_key(text, self.service_account_file)
            service_file = io.StringIO(text)
        elif self.anonymous:
            # No credentials are sent to an emulator: an empty key keeps gcloud-aio
            # from reading ADC files it will never use.
            service_file = io.StringIO("{}")
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size),
            timeout=_HTTP_TIMEOUT,
        )
        # aiohttp silently re-sends a PUT/DELETE/GET once when a kept-alive connection
        # drops.  Retrying is the RetryPolicy's job (once, visibly, in stats), and a
        # blindly re-sent resumable chunk would start at a stale offset.
        if hasattr(session, "_retry_connection"):
            session._retry_connection = False
        try:
            storage = Storage(
                service_file=service_file,
                session=cast(Any, ExactURLSession(session)),
                api_root=self.api_root,
                api_is_dev=self.anonymous,
            )
        except Exception as exc:
            await session.close()
            raise ConfigurationError(
                f"could not load Google credentials ({type(exc).__name__}): check service_account_file "
                "or GOOGLE_APPLICATION_CREDENTIALS"
            ) from exc
        if self._service_data is None:
            data = getattr(storage.token, "service_data", None)
            found = dict(data) if isinstance(data, dict) else {}
            try:
                check_private_key(found, "the Application Default Credentials")
            except ConfigurationError:
                await session.close()
                raise
            self._service_data = found
        self._session = session
        self._storage = storage

    async def aclose(self) -> None:
        """Close the aiohttp session (the next call opens a new one).  Idempotent."""
        session, self._session, self._storage = self._session, None, None
        if session is not None and not session.closed:
            await session.close()

    async def _auth_headers(self) -> dict[str, str]:
        if self.anonymous:
            return {}
        storage = await self._open()
        token = await storage.token.get()
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: bytes | AsyncIterable[memoryview] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> tuple[int, Mapping[str, str], bytes]:
        """One request through the session (for calls gcloud-aio lacks); raises
        ``aiohttp.ClientResponseError`` (with the body) for statuses >= 400."""
        storage = await self._open()
        merged = {**(await self._auth_headers()), **(headers or {})}
        response = await storage.session.request(
            method,
            url,
            headers=merged,
            data=data if data is not None else b"",
            params=dict(params) if params else None,
            timeout=_HTTP_TIMEOUT,
            allow_redirects=False,
        )
        try:
            body = await response.read()
        finally:
            response.release()
        if isinstance(data, bytes):
            self.stats.add_sent(len(data))
        elif data is not None:
            self.stats.add_sent(int(merged.get("Content-Length", 0)))
        return response.status, response.headers, body

    def _check(self, bucket: str, object_name: str) -> None:
        check_bucket_name(bucket)
        check_object_name_for_gcs(object_name)

    def _where(self, bucket: str, object_name: str) -> str:
        return f"gs://{bucket}/{object_name}"

    # -- buckets ---------------------------------------------------------------------------

    async def _project_for_create(self) -> str:
        project = (
            self.project
            or os.environ.get("GOOGLE_CLOUD_PROJECT")
            or os.environ.get("GCLOUD_PROJECT")
            or (self._service_data or {}).get("project_id")
        )
        if project:
            return str(project)
        if self.anonymous:
            return "emulator"
        storage = await self._open()
        with self._runner.errors("ensure_bucket"):
            found = await storage.token.get_project()
        if not found:
            raise ConfigurationError("creating a bucket needs a project: pass GCSClient(project=...)")
        return found

    async def ensure_bucket(self, bucket: str, *, timeout: float | None = None) -> bool:
        """Create the bucket if needed: ``True`` if created, ``False`` if you already own it;
        ``AlreadyExistsError`` if the name belongs to someone else."""
        check_bucket_name(bucket)
        await self._open()
        project = await self._project_for_create()

        async def create() -> bool:
            import aiohttp  # loaded by _open

            try:
                await self._send(
                    "POST",
                    f"{self.api_root}/storage/v1/b",
                    params={"project": project},
                    headers={"Content-Type": "application/json"},
                    data=json.dumps({"name": bucket}).encode(),
                )
            except aiohttp.ClientResponseError as exc:
                if exc.status == 409 and "already own" in (exc.message or "").lower():
                    return False
                raise
            return True

        return await self._runner.call("ensure_bucket", create, timeout=timeout)

    async def delete_bucket(self, bucket: str, *, force: bool = False, timeout: float | None = None) -> None:
        """Delete the bucket; with ``force`` its objects are deleted first (page by page)."""
        check_bucket_name(bucket)
        if force:
            async for page in self.iter_objects(bucket, timeout=timeout).pages():
                if page.items:
                    await self.delete_objects(bucket, [m.name for m in page.items], timeout=timeout)

        async def delete() -> None:
            await self._send("DELETE", f"{self.api_root}/storage/v1/b/{bucket}")

        await self._runner.call("delete_bucket", delete, timeout=timeout)

    async def _bucket_exists(self, bucket: str, *, timeout: float | None = None) -> bool:
        check_bucket_name(bucket)
        storage = await self._open()
        try:
            await self._runner.call(
                "bucket_exists", lambda: storage.get_bucket_metadata(bucket, timeout=_HTTP_TIMEOUT), timeout=timeout
            )
        except NotFoundError:
            return False
        except PermissionDeniedError:
            return True  # it exists; we may just not read its settings
        return True

    def _missing_bucket(self, bucket: str, operation: str) -> NotFoundError:
        return NotFoundError(
            f"bucket {bucket!r} does not exist", code="notFound", provider=self.provider.value, operation=operation
        )

    # -- uploads ---------------------------------------------------------------------------

    async def _upload_file(
        self,
        local_path: StrPath,
        bucket: str,
        object_name: str,
        kind: str,
        user: dict[str, str],
        progress: ProgressCallback | None,
        timeout: float | None,
    ) -> None:
        """The primitive of :meth:`upload_file`: up to ``chunk_size`` the file is read in one
        piece and sent in one request; beyond, it is streamed from disk in one ``PUT`` of a
        resumable session whose object resource carries the file's CRC32C (taken in a first
        pass), so GCS finalizes nothing else.  A broken ``PUT`` resumes from the offset GCS
        committed.  Memory is about one read block (``chunk_size``), any file size."""
        # One read: on the event loop up to 64 KiB, else one worker-thread call.
        size, data = await read_small_file(local_path, self.chunk_size)
        if data is not None:
            await self._upload_bytes("upload_file", bucket, object_name, data, kind, user, progress, timeout)
            return
        # The file's CRC32C goes in the session's object resource, so GCS refuses to
        # finalize anything else (a file changed meanwhile included).
        sent = await anyio.to_thread.run_sync(file_checksums, os.fspath(local_path), size, _MAX_BLOCK)
        fields: dict[str, Any] = {"contentType": kind, "crc32c": sent.crc32c}
        if user:
            fields["metadata"] = user
        resource = await upload_file_resumable(
            path=local_path,
            size=size,
            start_session=self._session_starter("upload_file", bucket, object_name, fields, size),
            send=self._send,
            runner=self._runner,
            operation="upload_file",
            block_size=self.chunk_size,
            timeout=timeout,
            progress=progress,
        )
        await self._check_upload("upload_file", bucket, object_name, resource, sent)

    async def _upload_stream(
        self,
        bucket: str,
        object_name: str,
        chunks: AsyncIterable[bytes],
        kind: str,
        user: dict[str, str],
        progress: ProgressCallback | None,
        timeout: float | None,
    ) -> None:
        """The primitive of :meth:`upload_stream`: a resumable session (one request when
        everything fits in ``chunk_size``); nothing is committed on failure."""
        await self._upload("upload_stream", bucket, object_name, chunks, kind, user, progress, timeout)

    async def _put_bytes(
        self,
        bucket: str,
        object_name: str,
        data: bytes,
        kind: str,
        user: dict[str, str],
        timeout: float | None,
    ) -> ObjectMetadata:
        """The primitive of :meth:`put_bytes`: one multipart request with the body's CRC32C,
        which GCS checks."""
        resource = await self._upload_bytes("put_bytes", bucket, object_name, data, kind, user, None, timeout)
        return object_metadata(resource, bucket)

    async def _upload_bytes(
        self,
        operation: str,
        bucket: str,
        object_name: str,
        data: bytes,
        content_type: str,
        metadata: dict[str, str],
        progress: ProgressCallback | None,
        timeout: float | None,
    ) -> dict[str, Any]:
        """Upload a body already in memory: one request up to ``chunk_size``."""
        if len(data) > self.chunk_size:
            return await self._upload(
                operation, bucket, object_name, _single(data), content_type, metadata, progress, timeout
            )
        sent = Checksums(data, md5=False)
        return await self._upload_simple(
            operation, bucket, object_name, data, sent, content_type, metadata, progress, timeout
        )

    async def _upload_simple(
        self,
        operation: str,
        bucket: str,
        object_name: str,
        data: bytes,
        sent: Checksums,
        content_type: str,
        metadata: dict[str, str],
        progress: ProgressCallback | None,
        timeout: float | None,
    ) -> dict[str, Any]:
        """One multipart request carrying the body's CRC32C (GCS refuses a body that does not
        match it); the stored object is then checked against what was sent."""
        fields: dict[str, Any] = {"name": object_name, "contentType": content_type, "crc32c": sent.crc32c}
        if metadata:
            fields["metadata"] = metadata
        head, tail, multipart_type = _multipart_frame(fields, content_type)
        length = str(len(head) + len(data) + len(tail))
        url = f"{self.api_root}/upload/storage/v1/b/{bucket}/o"
        # Our own request, not gcloud-aio's upload: that one wraps the body in a BytesIO,
        # which aiohttp reads through a worker thread (a thread hop per upload).
        small = len(data) < STREAM_BODY_FROM

        async def simple() -> dict[str, Any]:
            # Small bodies are joined (one copy is cheaper than streaming); large ones are
            # streamed as views, never copied.
            body: bytes | AsyncIterable[memoryview] = (
                b"".join((head, data, tail)) if small else stream_views(head, data, tail)
            )
            _, _, answer = await self._send(
                "POST",
                url,
                params={"uploadType": "multipart"},
                headers={"Content-Type": multipart_type, "Content-Length": length},
                data=body,
            )
            return object_resource(answer)

        resource = await self._runner.call(operation, simple, timeout=timeout)
        if progress is not None and data:
            progress(len(data))
        await self._check_upload(operation, bucket, object_name, resource, sent, data)
        return resource

    async def _upload(
        self,
        operation: str,
        bucket: str,
        object_name: str,
        chunks: AsyncIterable[bytes],
        content_type: str,
        metadata: dict[str, str],
        progress: ProgressCallback | None,
        timeout: float | None,
    ) -> dict[str, Any]:
        """Upload a stream: one request when it ends within ``chunk_size``, else a chunked
        resumable upload."""
        source = ChunkSource(chunks, md5=False)
        try:
            await source.fill(self.chunk_size + 1)
            whole = source.exhausted and source.buffered <= self.chunk_size
            data = source.take_all() if whole else b""
        except BaseException:
            with anyio.CancelScope(shield=True):
                await source.aclose()
            raise
        if whole:
            await source.aclose()
            return await self._upload_simple(
                operation, bucket, object_name, data, source.checksums, content_type, metadata, progress, timeout
            )
        fields: dict[str, Any] = {"contentType": content_type}
        if metadata:
            fields["metadata"] = metadata
        start_session = self._session_starter(operation, bucket, object_name, fields, None)

        try:
            resource = await upload_resumable(
                source=source,
                start_session=start_session,
                send=self._send,
                runner=self._runner,
                operation=operation,
                chunk_size=self.chunk_size,
                timeout=timeout,
                progress=progress,
            )
        finally:
            with anyio.CancelScope(shield=True):
                await source.aclose()
        await self._check_upload(operation, bucket, object_name, resource, source.checksums)
        return resource

    def _session_starter(
        self, operation: str, bucket: str, object_name: str, fields: Mapping[str, Any], size: int | None
    ) -> Callable[[], Awaitable[str]]:
        """A call that opens a resumable upload session for the object resource ``fields``
        (of ``size`` bytes when known) and returns its URL."""
        body = json.dumps({**fields, "name": object_name}).encode()
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "X-Upload-Content-Type": str(fields.get("contentType") or DEFAULT_CONTENT_TYPE),
        }
        if size is not None:
            headers["X-Upload-Content-Length"] = str(size)

        async def start_session() -> str:
            status, answer_headers, _ = await self._send(
                "POST",
                f"{self.api_root}/upload/storage/v1/b/{bucket}/o",
                params={"uploadType": "resumable"},
                headers=headers,
                data=body,
            )
            location = answer_headers.get("Location")
            if not location:
                raise error_from_response(status, "", answer_headers, operation=operation)
            return location

        return start_session

    async def _check_upload(
        self,
        operation: str,
        bucket: str,
        object_name: str,
        resource: Mapping[str, Any],
        sent: Checksums,
        data: bytes | None = None,
    ) -> None:
        """Compare what GCS stored with what was sent (its CRC32C; MD5 of ``data`` only when
        the server reports no CRC32C); on a mismatch delete the object."""
        try:
            with self._runner.errors(operation):
                size = resource.get("size")
                if size is not None and int(size) != sent.size:
                    raise ChecksumMismatchError(
                        f"size mismatch for {self._where(bucket, object_name)}: GCS stored {size} bytes, "
                        f"{sent.size} were sent"
                    )
                expected = {"crc32c": resource.get("crc32c"), "md5": resource.get("md5Hash")}
                if data is not None and expected["md5"] and not expected["crc32c"] and sent.md5 is None:
                    sent = Checksums(data, crc32c=False)  # no CRC32C stored: MD5 is all there is
                verify(expected, sent, what=self._where(bucket, object_name))
        except ChecksumMismatchError:
            # Delete exactly the generation just written (never a newer one by someone else).
            generation = resource.get("generation")
            params = {"ifGenerationMatch": str(generation)} if generation else {}
            storage = await self._open()
            with anyio.CancelScope(shield=True), anyio.move_on_after(30):
                try:
                    await self._runner.call(
                        "delete_object",
                        lambda: storage.delete(bucket, object_name, params=dict(params), timeout=_HTTP_TIMEOUT),
                    )
                except CloudError:
                    pass
            raise

    # -- downloads -------------------------------------------------------------------------

    async def _get_media(
        self,
        operation: str,
        bucket: str,
        object_name: str,
        timeout: float | None,
        read_up_to: int,
        *,
        through_runner: bool = True,
    ) -> tuple[aiohttp.ClientResponse, bytes | None]:
        """One GET of the object's content, through the runner (timeout, retries, error
        table) unless the caller's own attempt already is.

        A body announced at most ``read_up_to`` bytes long (any body for :data:`_WHOLE`) is
        read and checked against the object's CRC32C (or MD5) within the same attempt, so a
        body cut short or corrupted is retried as a whole, and returned with the released
        response.  Otherwise the body is ``None`` and the response is left open: the caller
        streams it, checks it and must release it.
        """
        storage = await self._open()
        # A body read whole here keeps aiohttp's stall timer; a streamed one (read_up_to at
        # most one block) has the headers and a short body under one stall deadline, and
        # the caller puts each later block under its own.
        streamed = read_up_to != _WHOLE
        http_timeout = _STREAM_HTTP_TIMEOUT if streamed else _HTTP_TIMEOUT

        async def attempt() -> tuple[aiohttp.ClientResponse, bytes | None]:
            with block_deadline(None) if streamed else nullcontext():
                stream = await storage.download_stream(bucket, object_name, headers={}, timeout=http_timeout)
                response: aiohttp.ClientResponse = await stream.__aenter__()
                length = response.content_length
                if streamed and (length is None or length > read_up_to):
                    return response, None
                try:
                    body = await response.read()
                except BaseException:
                    response.close()
                    raise
            response.release()
            expected = self._expected_hashes(response)
            if expected:
                received = Checksums.for_expected(expected)
                await feed(received, body)
                verify(expected, received, what=self._where(bucket, object_name))
            return response, body

        if not through_runner:
            return await attempt()
        return await self._runner.call(operation, attempt, timeout=timeout)

    @staticmethod
    def _expected_hashes(response: aiohttp.ClientResponse) -> dict[str, str]:
        """The whole-object checksums GCS sent with a body (none for a range or a transcoded,
        i.e. decompressed, body: no whole-object hash applies to those)."""
        if response.status != 200 or response.headers.get("Content-Encoding"):
            return {}
        return server_hashes(response.headers)

    async def _checked_body(self, operation: str, bucket: str, object_name: str, timeout: float | None) -> bytes:
        """The whole object in one request, verified (CRC32C, or MD5 when that is all GCS has)."""
        _, body = await self._get_media(operation, bucket, object_name, timeout, _WHOLE)
        assert body is not None
        self.stats.add_received(len(body))
        return body

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
        """The primitive of :meth:`get_bytes`: the whole object checked against its CRC32C
        (or MD5 when GCS has no CRC32C), or one ranged GET."""
        if offset == 0 and length is None:
            return await self._checked_body("get_bytes", bucket, object_name, timeout)
        last = "" if length is None else str(offset + length - 1)
        storage = await self._open()

        async def read() -> bytes:
            import aiohttp  # loaded by _open

            try:
                result: bytes = await storage.download(
                    bucket, object_name, headers={"Range": f"bytes={offset}-{last}"}, timeout=_HTTP_TIMEOUT
                )
            except aiohttp.ClientResponseError as exc:
                if exc.status == 416:  # start at or past the end: Python slicing gives b""
                    return b""
                raise
            return result

        data = await self._runner.call("get_bytes", read, timeout=timeout)
        self.stats.add_received(len(data))
        return data

    async def download_file(
        self,
        bucket: str,
        object_name: str,
        local_path: StrPath,
        *,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> bool:
        """Download the object into a temp file beside ``local_path``, check its CRC32C (or
        MD5 when GCS has no CRC32C), then rename it into place (nothing is left behind on
        failure).  An object of up to one block (``chunk_size``, at most 1 MiB) is read in
        one piece, checked, then written in one go; a larger one is streamed, receiving the
        next blocks while one background thread hashes and writes the earlier ones (memory
        at most about six blocks).  A body broken or corrupted on the way is downloaded again
        from its first byte (the retry policy's attempts).  ``timeout`` bounds the whole
        call; without it, a block that takes over 300 s to arrive fails the attempt as a
        stall."""
        await self._download_counted(bucket, object_name, local_path, progress=progress, timeout=timeout)
        return True

    async def _download_counted(
        self,
        bucket: str,
        object_name: str,
        local_path: StrPath,
        *,
        progress: ProgressCallback | None,
        timeout: float | None,
    ) -> int:
        """:meth:`download_file`, returning the size written (for ``download_many``).  Every
        await runs inside the runner's call, so ``timeout`` bounds the whole download."""
        self._check(bucket, object_name)
        block_size = min(self.chunk_size, _MAX_BLOCK)
        where = self._where(bucket, object_name)

        async def open_body() -> bytes | StreamedBody:
            response, body = await self._get_media(
                "download_file", bucket, object_name, timeout, block_size, through_runner=False
            )
            if body is not None:
                return body
            expected = self._expected_hashes(response)
            received = Checksums.for_expected(expected)
            return StreamedBody(
                read_block=lambda: _read_pieces(response.content, block_size),
                length=response.content_length,
                hasher=received,
                check=lambda: verify(expected, received, what=where),
                release=response.release,
            )

        return await download_to_file(
            local_path,
            open_body,
            retrying=lambda attempt: self._runner.call("download_file", attempt, timeout=timeout),
            limit=timeout if timeout is not None else self._runner.timeout,
            stats=self.stats,
            progress=progress,
        )

    # -- metadata, delete, copy ------------------------------------------------------------

    async def stat(self, bucket: str, object_name: str, *, timeout: float | None = None) -> ObjectMetadata:
        """Describe one object (``NotFoundError`` if it or its bucket is missing)."""
        self._check(bucket, object_name)
        storage = await self._open()
        resource = await self._runner.call(
            "stat", lambda: storage.download_metadata(bucket, object_name, timeout=_HTTP_TIMEOUT), timeout=timeout
        )
        return object_metadata(resource, bucket)

    async def delete_object(self, bucket: str, object_name: str, *, timeout: float | None = None) -> None:
        """Delete an object; a missing object is not an error, a missing bucket is."""
        self._check(bucket, object_name)
        storage = await self._open()
        try:
            await self._runner.call(
                "delete_object", lambda: storage.delete(bucket, object_name, timeout=_HTTP_TIMEOUT), timeout=timeout
            )
        except NotFoundError:
            if not await self._bucket_exists(bucket, timeout=timeout):
                raise self._missing_bucket(bucket, "delete_object") from None

    _delete_batch_size = _BATCH_LIMIT

    def _delete_batches_in_flight(self) -> int:
        return self.max_concurrency

    async def _delete_batch(
        self, bucket: str, names: list[str], *, timeout: float | None
    ) -> tuple[list[CloudError], bool]:
        """Delete one batch; return whether some object was missing (404)."""
        content_type, body = delete_batch_body(bucket, names)

        async def post() -> tuple[int, Mapping[str, str], bytes]:
            return await self._send(
                "POST", f"{self.api_root}/batch/storage/v1", headers={"Content-Type": content_type}, data=body
            )

        _, headers, answer = await self._runner.call("delete_objects", post, timeout=timeout)
        parts = parse_batch_response(headers.get("Content-Type", ""), answer)
        by_id = {cid: (status, text) for cid, status, text in parts if cid is not None}
        missing = False
        errors: list[CloudError] = []
        retry_one: list[str] = []
        for index, name in enumerate(names):
            found = by_id.get(str(index)) or (parts[index][1:] if index < len(parts) and not by_id else None)
            if found is None:
                retry_one.append(name)
                continue
            status, text = found
            if status < 300:
                continue
            if status == 404:
                missing = True
            elif status == 429 or status >= 500:
                retry_one.append(name)
            else:
                err = self._runner.to_cloud_error(
                    error_from_response(status, text, operation="delete_objects"), "delete_objects"
                )
                if err is not None:
                    self.stats.record_error(err)
                    errors.append(err)
        for name in retry_one:  # throttled or failed parts: one by one, with retries
            try:
                await self.delete_object(bucket, name, timeout=timeout)
            except CloudError as exc:
                errors.append(exc)
        return errors, missing

    async def copy_object(
        self,
        source_bucket: str,
        source_name: str,
        dest_bucket: str,
        dest_name: str,
        *,
        timeout: float | None = None,
    ) -> None:
        """Copy server-side (``rewriteTo``, repeated until done), keeping content type and
        metadata."""
        self._check(source_bucket, source_name)
        self._check(dest_bucket, dest_name)
        storage = await self._open()
        await self._runner.call(
            "copy_object",
            lambda: storage.copy(source_bucket, source_name, dest_bucket, new_name=dest_name, timeout=_HTTP_TIMEOUT),
            timeout=timeout,
        )

    # -- listings --------------------------------------------------------------------------

    def iter_objects(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        page_size: int | None = None,
        timeout: float | None = None,
    ) -> AsyncPaginator[ObjectMetadata]:
        """List objects lazily in name order, one page (``page_size``, default 1,000) per
        request, following GCS's ``nextPageToken``.  With ``delimiter``, common prefixes are
        merged with the objects in name order."""
        check_bucket_name(bucket)
        check_prefix(prefix, delimiter)
        if delimiter == "":
            raise ConfigurationError("delimiter must not be empty")
        if page_size is not None and (not isinstance(page_size, int) or page_size < 1):
            raise ConfigurationError("page_size must be a positive integer")
        limit = page_size or _PAGE_SIZE
        # The page is read here rather than by gcloud-aio's list_objects (the same GET,
        # headers and status check) so that its body is decoded by the faster decoder.
        url = f"{self.api_root}/storage/v1/b/{bucket}/o"

        async def fetch(token: str | None) -> Page[ObjectMetadata]:
            params = {"maxResults": str(limit)}
            if prefix:
                params["prefix"] = prefix
            if delimiter:
                params["delimiter"] = delimiter
            if token:
                params["pageToken"] = token

            async def one_page() -> tuple[list[ObjectMetadata], list[Any], Any]:
                storage = await self._open()
                headers = await self._auth_headers()
                response = await storage.session.get(url, headers=headers, params=params, timeout=_HTTP_TIMEOUT)
                try:
                    body = await response.read()
                finally:
                    response.release()
                # Read inside the call: a page that is no listing is a retryable ServerError.
                return read_page(decode_page(body), bucket, parse_time)

            entries, prefixes, next_token = await self._runner.call("iter_objects", one_page, timeout=timeout)
            entries += [prefix_entry(p, bucket) for p in prefixes]
            entries.sort(key=_by_name)
            return Page(entries, next_token or None)

        return AsyncPaginator(fetch)

    # -- URLs ------------------------------------------------------------------------------

    _signable_methods = ("GET", "HEAD", "PUT", "POST", "DELETE")

    async def _sign_url(
        self, bucket: str, object_name: str, method: str, expires: int, *, timeout: float | None
    ) -> str:
        """A V4 signed URL, signed locally with the service-account key.  Raises
        ``ConfigurationError`` without a key (e.g. user credentials or the metadata server)."""
        await self._open()
        data = self._service_data or {}
        email, key = data.get("client_email"), data.get("private_key")
        if not isinstance(email, str) or not isinstance(key, str) or not email or not key:
            raise ConfigurationError(
                "signing URLs needs a service-account key: pass GCSClient(service_account_file=...) "
                "or point GOOGLE_APPLICATION_CREDENTIALS at one",
                provider=self.provider.value,
                operation="sign_url",
            )
        host = urlsplit(self.api_root).hostname or ""
        endpoint = DEFAULT_API_ROOT if host.endswith("googleapis.com") else self.api_root
        return sign_v4_url(
            endpoint=endpoint,
            bucket=bucket,
            object_name=object_name,
            method=method,
            expires=expires,
            client_email=email,
            private_key_pem=key,
        )

    async def _open_range(
        self,
        bucket: str,
        object_name: str,
        offset: int,
        length: int | None,
        *,
        version: str | None = None,
        timeout: float | None = None,
        chunk_size: int = _MAX_BLOCK,
        operation: str = "open",
    ) -> RangeStream:
        """The primitive of :meth:`open` and :meth:`open_read`: one media GET (ranged unless
        the whole object is read, pinned to the generation ``version``) whose headers
        describe the object (``x-goog-meta-*`` for user metadata); its body comes in blocks
        of up to ``chunk_size``, the whole object checked against its CRC32C (or MD5 when
        GCS has no CRC32C: ``ChecksumMismatchError``)."""
        storage = await self._open()
        byte_range = range_header(offset, length)
        params = {"alt": "media"}
        if version is not None:
            params["ifGenerationMatch"] = version

        async def attempt() -> aiohttp.ClientResponse:
            headers = {"Range": byte_range} if byte_range else {}
            with block_deadline(None):
                stream = await storage._download_stream(
                    bucket, object_name, headers=headers, params=dict(params), timeout=_STREAM_HTTP_TIMEOUT
                )
                opened: aiohttp.ClientResponse = await stream.__aenter__()
            return opened

        response = await self._runner.call(operation, attempt, timeout=timeout)
        headers = response.headers
        sent = response.content_length or 0
        total = total_from_content_range(headers.get("Content-Range")) or offset + sent
        expected = self._expected_hashes(response) if byte_range is None else {}
        received = Checksums.for_expected(expected)
        etag = headers.get("ETag") or server_hashes(headers).get("md5")
        modified = None
        if headers.get("Last-Modified"):
            try:
                modified = email.utils.parsedate_to_datetime(headers["Last-Modified"]).astimezone(timezone.utc)
            except (TypeError, ValueError):
                pass
        meta = ObjectMetadata(
            name=object_name,
            bucket=bucket,
            size=total,
            etag=etag.strip('"') if etag else None,
            content_type=headers.get("Content-Type") or DEFAULT_CONTENT_TYPE,
            last_modified=modified,
            metadata={
                key[12:].lower(): value for key, value in headers.items() if key.lower().startswith("x-goog-meta-")
            },
            provider=self.provider,
        )
        content = response.content
        if hasattr(content, "set_read_chunk_size"):  # what read(n) sets (decompressed bodies)
            content.set_read_chunk_size(chunk_size)
        chunks = body_chunks(
            content.read,
            chunk_size=chunk_size,
            runner=self._runner,
            operation=operation,
            timeout=timeout,
            update=received.update,
            verify=lambda: verify(expected, received, what=self._where(bucket, object_name)),
            release=response.release,
            close=response.close,
            read_nowait=content.read_nowait,
        )
        return RangeStream(
            meta, length=sent, version=headers.get("x-goog-generation"), chunks=chunks, close=response.close
        )
