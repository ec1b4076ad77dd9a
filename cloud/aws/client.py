"""S3Client: the storage contract on Amazon S3 and S3-compatible stores, with aiobotocore."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import math
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, ClassVar, TypeVar

import anyio

from cloud.common.base import StorageClient
from cloud.common.chunks import rechunk
from cloud.common.enums import CloudProvider
from cloud.common.exceptions import (
    BadRequestError,
    CloudError,
    ConfigurationError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
)
from cloud.common.file_blocks import open_file_blocks
from cloud.common.files import read_small_file
from cloud.common.http_ranges import range_header
from cloud.common.models import CloudCredentials, ObjectMetadata, plain_etag, utc_datetime
from cloud.common.objects import RangeStream, body_chunks
from cloud.common.operations import OperationRunner
from cloud.common.pagination import AsyncPaginator, Page
from cloud.common.retry import RetryPolicy
from cloud.common.transfer_engine import (
    download_in_ranges,
    plan_ranges,
    upload_blocks,
    upload_in_parts,
)
from cloud.common.types import ProgressCallback, StrPath
from cloud.common.validation import check_data, check_object_name, check_prefix

from . import headers, timestamps
from .endpoints import fast_endpoint_params
from .errors import translate
from .listing import page_objects
from .parts import Loaded, MultipartCopy, MultipartUpload
from .ranges import READ_CHUNK, RangedGet, total_size
from .service import AttemptChecks, BotocoreSession
from .session import open_client
from .transfer import (
    ChecksumKind,
    DownloadVerifier,
    check_upload_response,
    checksum_params,
    digest_params,
    request_body,
)
from .useragent import cache_user_agent
from .validation import check_bucket_name, check_endpoint_url, check_region, is_aws_endpoint

__all__ = [
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_PART_SIZE",
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MIN_PART_SIZE",
    "S3Client",
]

MiB = 1024 * 1024
MIN_PART_SIZE = 5 * MiB
"""S3's smallest multipart part (every part but the last)."""
MAX_PART_SIZE = 5 * 1024 * MiB
"""S3's largest part (and largest single PUT or CopyObject source)."""
MAX_PARTS = 10_000
"""S3's largest number of parts in one multipart upload."""
DEFAULT_PART_SIZE = 8 * MiB
"""Default part size: files larger than this go as parallel multipart uploads, and objects
larger than this are downloaded as parallel ranged GETs."""
DEFAULT_MAX_CONCURRENCY = 10
"""Default number of parts (or ranges) of one transfer in flight at once."""

X = TypeVar("X")

_DELETE_BATCH = 1000
_LIST_PAGE_MAX = 1000
_PRESIGN_METHODS = {"GET": "get_object", "PUT": "put_object", "HEAD": "head_object", "DELETE": "delete_object"}
_ABORT_TIMEOUT = 60.0


class S3Client(BotocoreSession, StorageClient):
    """The storage contract on Amazon S3 or any S3-compatible store (MinIO, Ceph, R2, moto...).

    ``S3Client(region="eu-west-1")`` talks to AWS with the standard credential chain
    (``AWS_*`` environment variables, shared config and profiles, IAM roles);
    ``credentials=CloudCredentials(access_key_id=..., secret_access_key=...)`` passes keys
    explicitly; ``profile="dev"`` uses a named profile of ``~/.aws/config`` (SSO, assumed
    roles, ``credential_process``) for this client only, as ``aws --profile`` does;
    ``endpoint_url="http://127.0.0.1:9000"`` targets an S3-compatible store.

    Files larger than ``part_size`` are uploaded as multipart uploads whose parts go in
    parallel (``max_concurrency`` at a time) and are aborted on any failure; objects larger
    than ``part_size`` are downloaded as parallel ranged GETs into a temp file renamed into
    place when complete.  Uploads carry a checksum S3 verifies (CRC32 on AWS, ``Content-MD5``
    on other endpoints); downloads are checked against the checksum or MD5 ETag S3 stored,
    where it returns one.  Retries, timeouts and error translation come from ``retry`` and
    ``timeout`` (botocore's own retries are off).  One aiobotocore client is opened on the
    first call and closed by :meth:`aclose`.
    """

    provider: ClassVar[CloudProvider] = CloudProvider.AWS

    def __init__(
        self,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        credentials: CloudCredentials | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        profile: str | None = None,
    ) -> None:
        super().__init__()
        if profile is not None and (not isinstance(profile, str) or not profile.strip()):
            raise ConfigurationError("profile must be the name of an AWS profile")
        self.profile = profile
        self.endpoint_url = check_endpoint_url(endpoint_url)
        self._aws = is_aws_endpoint(self.endpoint_url)
        self.region = check_region(region, aws=self._aws)
        if credentials is not None:
            if not isinstance(credentials, CloudCredentials):
                raise ConfigurationError("credentials must be a CloudCredentials")
            if not credentials.access_key_id or not credentials.secret_access_key:
                raise ConfigurationError("S3 credentials need both access_key_id and secret_access_key")
        self._credentials = credentials
        if (
            isinstance(part_size, bool)
            or not isinstance(part_size, int)
            or not MIN_PART_SIZE <= part_size <= MAX_PART_SIZE
        ):
            raise ConfigurationError(
                f"part_size must be an integer from {MIN_PART_SIZE} (5 MiB) to {MAX_PART_SIZE} (5 GiB)"
            )
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise ConfigurationError("max_concurrency must be a positive integer")
        if timeout is not None and not timeout > 0:
            raise ConfigurationError("timeout must be a positive number of seconds")
        self.part_size = part_size
        self.max_concurrency = max_concurrency
        self._checksum: ChecksumKind = "crc32" if self._aws else "md5"
        self._runner = OperationRunner(
            provider=self.provider.value,
            translate=self._translate,
            retry=retry,
            stats=self.stats,
            timeout=timeout,
            secrets=self._secret_values,
        )
        self._init_session()

    def __repr__(self) -> str:
        where = f"endpoint_url={self.endpoint_url!r}" if self.endpoint_url else "AWS"
        return f"<S3Client {where} region={self.region!r}>"

    @property
    def pool_size(self) -> int:
        """Connections the HTTP pool may open: enough for ``max_concurrency`` parts of a
        transfer and for bulk calls at concurrency up to 100 (aiohttp's own default cap;
        botocore's default of 10 would silently throttle ``upload_many``).  Connections
        are opened on demand, so a large cap costs nothing while unused."""
        return max(self.max_concurrency, 100)

    # -- session -------------------------------------------------------------------------

    def _translate(self, exc: BaseException, operation: str) -> CloudError | None:
        return translate(exc, operation, secrets=self._secret_values())

    async def _open(self) -> None:
        options: dict[str, Any] = {
            "max_pool_connections": self.pool_size,
            "signature_version": "s3v4",  # also for presigned URLs (botocore may pick SigV2)
            # every argument is checked before any I/O (ConfigurationError), so botocore's
            # second check of each request's parameters is skipped
            "parameter_validation": False,
        }
        if not self._aws:
            # botocore >= 1.36 sends CRC32 checksums/aws-chunked bodies by default, which
            # many S3-compatible stores reject (boto3 #4392, s3fs #931).
            options["request_checksum_calculation"] = "when_required"
            options["response_checksum_validation"] = "when_required"

        def prepare_session(session: Any) -> None:
            timestamps.install(session)
            headers.install(session)

        def prepare_client(client: Any) -> None:
            cache_user_agent(client)
            fast_endpoint_params(client)
            if not self._aws:
                client.meta.events.register("before-call.s3.DeleteObjects", _content_md5_instead_of_crc32)

        opened = await open_client(
            "s3",
            config=options,
            region=self.region,
            endpoint_url=self.endpoint_url,
            credentials=self._credentials,
            profile=self.profile,
            prepare_session=prepare_session,
            prepare_client=prepare_client,
        )
        from .direct import direct_client  # the hot object requests without botocore's pipeline

        try:
            opened.client = await direct_client(opened.client, endpoint_url=self.endpoint_url)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await opened.stack.aclose()
            raise
        self._adopt(opened)

    def _attempt_checks(self, params: Mapping[str, Any]) -> AttemptChecks | None:
        """With a body: every attempt sends it whole, from its first byte, and checks the
        answer against what was sent (a mismatch fails the attempt, which is retried)."""
        if "Body" not in params:
            return None
        body = params["Body"]
        rewind = getattr(body, "seek", None) if not isinstance(body, (bytes, bytearray)) else None

        def before() -> None:
            if rewind is not None:
                rewind(0)

        return AttemptChecks(before, lambda response: check_upload_response(params, response))

    # -- buckets ---------------------------------------------------------------------------

    async def ensure_bucket(self, bucket: str, *, timeout: float | None = None) -> bool:
        """Create ``bucket`` in the client's region if needed: ``True`` if created, ``False``
        if it already existed (and is yours).  A name taken by another account raises
        ``AlreadyExistsError``; an invalid name ``ConfigurationError`` before any I/O."""
        check_bucket_name(bucket, creating=True)
        try:
            await self._request("ensure_bucket", "head_bucket", {"Bucket": bucket}, timeout=timeout)
            return False
        except (NotFoundError, PermissionDeniedError):
            pass  # missing, or someone else's: CreateBucket tells which
        client = await self._get_client("ensure_bucket")
        region = self.region or client.meta.region_name
        params: dict[str, Any] = {"Bucket": bucket}
        if region and region not in ("us-east-1", "aws-global"):
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            await self._request("ensure_bucket", "create_bucket", params, idempotent=False, timeout=timeout)
        except ConflictError as exc:
            if exc.code == "BucketAlreadyOwnedByYou":
                return False
            raise
        return True

    async def delete_bucket(self, bucket: str, *, force: bool = False, timeout: float | None = None) -> None:
        """Delete ``bucket``.  Without ``force`` a non-empty bucket raises ``ConflictError``;
        with it, its objects (and, if needed, old versions and unfinished multipart uploads)
        are deleted first."""
        check_bucket_name(bucket)
        if force:
            async for page in self.iter_objects(bucket, timeout=timeout).pages():
                await self.delete_objects(bucket, [m.name for m in page.items], timeout=timeout)
        try:
            await self._request("delete_bucket", "delete_bucket", {"Bucket": bucket}, timeout=timeout)
        except ConflictError:
            if not force:
                raise
            await self._purge_leftovers(bucket, timeout=timeout)
            await self._request("delete_bucket", "delete_bucket", {"Bucket": bucket}, timeout=timeout)

    async def _purge_leftovers(self, bucket: str, *, timeout: float | None) -> None:
        """Delete object versions, delete markers and unfinished multipart uploads."""
        params: dict[str, Any] = {"Bucket": bucket}
        while True:
            page = await self._request("delete_bucket", "list_object_versions", params, timeout=timeout)
            victims = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            ]
            if victims and (errors := await self._delete_keys(bucket, victims, timeout=timeout)):
                raise errors[0]
            if not page.get("IsTruncated"):
                break
            params = {
                "Bucket": bucket,
                "KeyMarker": page.get("NextKeyMarker"),
                "VersionIdMarker": page.get("NextVersionIdMarker"),
            }
        params = {"Bucket": bucket}
        while True:
            page = await self._request("delete_bucket", "list_multipart_uploads", params, timeout=timeout)
            for upload in page.get("Uploads", []):
                await self._abort_upload(bucket, upload["Key"], upload["UploadId"])
            if not page.get("IsTruncated"):
                break
            params = {
                "Bucket": bucket,
                "KeyMarker": page.get("NextKeyMarker"),
                "UploadIdMarker": page.get("NextUploadIdMarker"),
            }

    async def _bucket_exists(self, bucket: str, *, timeout: float | None = None) -> bool:
        check_bucket_name(bucket)
        try:
            await self._request("bucket_exists", "head_bucket", {"Bucket": bucket}, timeout=timeout)
        except NotFoundError:
            return False
        except PermissionDeniedError:
            return True  # it exists, but belongs to someone else
        return True

    # -- uploads ---------------------------------------------------------------------------

    def _check(self, bucket: str, object_name: str) -> None:
        check_bucket_name(bucket)
        check_object_name(object_name)

    async def put_bytes(
        self,
        bucket: str,
        object_name: str,
        data: bytes,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        timeout: float | None = None,
        if_none_match: str | None = None,
        if_match: str | None = None,
    ) -> ObjectMetadata:
        """Store ``data`` as an object with one PUT and return what was stored.

        ``if_none_match="*"`` creates the object only if it does not exist yet;
        ``if_match=etag`` replaces it only if its ETag is still ``etag``.  A failed
        condition raises ``PreconditionFailedError`` (or ``ConflictError`` when a
        concurrent write won).
        """
        ctype, user = self._upload_args(bucket, object_name, content_type, metadata)
        data = check_data(data)
        conditions = _conditions(if_none_match, if_match)
        response = await self._put_object("put_bytes", bucket, object_name, data, ctype, user, conditions, timeout)
        return ObjectMetadata(
            name=object_name,
            bucket=bucket,
            size=len(data),
            etag=plain_etag(response.get("ETag")),
            content_type=ctype,
            last_modified=_response_date(response),
            metadata=dict(user),
            provider=self.provider,
        )

    async def _put_object(
        self,
        operation: str,
        bucket: str,
        object_name: str,
        data: bytes,
        content_type: str,
        metadata: Mapping[str, str],
        conditions: Mapping[str, str],
        timeout: float | None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "Bucket": bucket,
            "Key": object_name,
            "Body": request_body(data),
            "ContentLength": len(data),
            "ContentType": content_type,
            "Metadata": dict(metadata),
            **conditions,
            **(await checksum_params(self._checksum, data)),
        }
        try:
            response = await self._request(operation, "put_object", params, idempotent=not conditions, timeout=timeout)
        except IntegrityError:
            # Every attempt stored bytes that differ from ours: leave no corrupt object.
            with anyio.move_on_after(_ABORT_TIMEOUT, shield=True):
                try:
                    await self._request("delete_object", "delete_object", {"Bucket": bucket, "Key": object_name})
                except CloudError:
                    pass
            raise
        self.stats.add_sent(len(data))
        return response

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
        if_none_match: str | None = None,
        if_match: str | None = None,
    ) -> bool:
        """Upload a local file: one PUT up to ``part_size``, else a multipart upload whose
        parts go in parallel (aborted on any failure, so nothing is left behind).

        The content type is guessed from the file name when not given.  ``if_none_match``
        and ``if_match`` make the write conditional, as in :meth:`put_bytes` (for a
        multipart upload S3 checks them when the upload completes).  ``timeout`` bounds each
        request (each part); memory holds at most ``max_concurrency`` parts.
        """
        ctype, user = self._upload_args(bucket, object_name, content_type, metadata, path=local_path)
        conditions = _conditions(if_none_match, if_match)
        size, small = await read_small_file(local_path, self.part_size)
        if small is not None:
            data = small
            await self._put_object("upload_file", bucket, object_name, data, ctype, user, conditions, timeout)
            if progress is not None and size:
                progress(size)
            return True
        kind, part_size = self._checksum, self.part_size
        async with open_file_blocks(
            local_path, lambda size: _part_size_for(size, part_size), lambda view: digest_params(kind, view)
        ) as blocks:
            await self._multipart_upload(
                "upload_file",
                bucket,
                object_name,
                blocks.spans(),
                content_type=ctype,
                metadata=user,
                conditions=conditions,
                progress=progress,
                timeout=timeout,
                load=blocks.load,
                release=blocks.release,
            )
        return True

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
        if_none_match: str | None = None,
        if_match: str | None = None,
    ) -> bool:
        """Upload from an async iterable of chunks with memory bounded by ``part_size`` x
        ``max_concurrency``: a stream that ends within ``part_size`` bytes goes as one PUT,
        a longer one as a parallel multipart upload (aborted on any failure, including an
        exception raised by ``chunks``, which propagates unchanged).  ``timeout`` bounds
        each request; ``if_none_match``/``if_match`` as in :meth:`upload_file`."""
        ctype, user = self._upload_args(bucket, object_name, content_type, metadata)
        conditions = _conditions(if_none_match, if_match)

        async def single(data: bytes) -> None:
            await self._put_object("upload_stream", bucket, object_name, data, ctype, user, conditions, timeout)
            if progress is not None and data:
                progress(len(data))

        async def in_parts(parts: AsyncIterator[bytes]) -> None:
            await self._multipart_upload(
                "upload_stream",
                bucket,
                object_name,
                parts,
                content_type=ctype,
                metadata=user,
                conditions=conditions,
                progress=progress,
                timeout=timeout,
            )

        await upload_blocks(rechunk(chunks, self.part_size), single=single, in_parts=in_parts)
        return True

    async def _multipart_upload(
        self,
        operation: str,
        bucket: str,
        object_name: str,
        parts: AsyncIterator[bytes] | Iterable[X],
        *,
        content_type: str,
        metadata: Mapping[str, str],
        conditions: Mapping[str, str],
        progress: ProgressCallback | None,
        timeout: float | None,
        load: Callable[[X], Awaitable[Loaded]] | None = None,
        release: Callable[[memoryview], None] | None = None,
    ) -> dict[str, Any]:
        """Upload ``parts`` in parallel as one multipart upload (the engine aborts it on any
        failure): bytes, or items made into parts by ``load`` (see :class:`MultipartUpload`)."""

        async def begin() -> MultipartUpload[Any]:
            create: dict[str, Any] = {
                "Bucket": bucket,
                "Key": object_name,
                "ContentType": content_type,
                "Metadata": dict(metadata),
            }
            if self._checksum == "crc32":
                create["ChecksumAlgorithm"] = "CRC32"
            started = await self._request(operation, "create_multipart_upload", create, timeout=timeout)
            upload_id = started["UploadId"]
            return MultipartUpload(self, operation, bucket, object_name, upload_id, conditions, progress, load, release)

        return await upload_in_parts(
            parts,
            begin,
            concurrency=self.max_concurrency,
            max_parts=MAX_PARTS,
            too_many=f"more than {MAX_PARTS} parts of {self.part_size} bytes: raise part_size",
        )

    async def _abort_upload(self, bucket: str, object_name: str, upload_id: str) -> None:
        """Abort a multipart upload, best effort and shielded from cancellation."""
        with anyio.move_on_after(_ABORT_TIMEOUT, shield=True):
            try:
                await self._request(
                    "abort_multipart_upload",
                    "abort_multipart_upload",
                    {"Bucket": bucket, "Key": object_name, "UploadId": upload_id},
                )
            except CloudError as exc:
                self._runner.logger.warning(
                    "could not abort multipart upload of %r in %r: %s",
                    object_name,
                    bucket,
                    exc,
                    extra={"provider": self.provider.value, "operation": "abort_multipart_upload"},
                )

    # -- reads -----------------------------------------------------------------------------

    async def stat(self, bucket: str, object_name: str, *, timeout: float | None = None) -> ObjectMetadata:
        """Describe one object (HEAD); ``NotFoundError`` if it or its bucket is missing."""
        self._check(bucket, object_name)
        response = await self._request("stat", "head_object", {"Bucket": bucket, "Key": object_name}, timeout=timeout)
        return self._metadata(bucket, object_name, response, size=response.get("ContentLength", 0))

    def _metadata(self, bucket: str, object_name: str, response: Mapping[str, Any], *, size: int) -> ObjectMetadata:
        raw_meta: Mapping[str, str] = response.get("Metadata") or {}
        return ObjectMetadata(
            name=object_name,
            bucket=bucket,
            size=int(size),
            etag=plain_etag(response.get("ETag")),
            content_type=response.get("ContentType"),
            last_modified=utc_datetime(response.get("LastModified")),
            metadata={k.lower(): v for k, v in raw_meta.items()},
            provider=self.provider,
        )

    def _get_params(self, bucket: str, object_name: str, byte_range: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"Bucket": bucket, "Key": object_name}
        if byte_range is not None:
            params["Range"] = byte_range
        elif self._aws:
            params["ChecksumMode"] = "ENABLED"  # botocore verifies the full-object checksum
        return params

    _suffix_ranges: ClassVar[bool] = True

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
        """The primitive of :meth:`get_bytes`: one GET, ranged (a negative ``offset`` as a
        suffix range) unless the whole object is read, which is checked against the
        checksum or MD5 ETag S3 stored."""
        byte_range = f"bytes={offset}" if offset < 0 else range_header(offset, length)
        client = await self._get_client("get_bytes")
        params = self._get_params(bucket, object_name, byte_range)

        async def fetch() -> bytes:
            response = await client.get_object(**params)
            body = response["Body"]
            try:
                data: bytes = await body.read()
            finally:
                body.close()
            if byte_range is None:
                verifier = DownloadVerifier(response, aws=self._aws)
                verifier.update(data)
                verifier.finish()
            return data

        try:
            data = await self._runner.call("get_bytes", fetch, timeout=timeout)
        except BadRequestError as exc:
            if exc.status_code == 416:
                return b""  # the range starts at or past the end (the object exists)
            raise
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
        """Download to ``local_path`` (the transfer engine's ranged download).

        The first GET asks for the first ``part_size`` bytes; an object that fits is checked
        (its checksum or MD5 ETag) and written in one go.  A larger one comes as parallel
        ranged GETs (``max_concurrency`` at a time, each pinned to the first answer's ETag)
        written at their offsets into a temp file, checked against the ETag (the MD5, or the
        multipart ETag from the ranges' MD5s) and renamed into place; a whole-object
        mismatch downloads it again.  ``timeout`` bounds the whole call.
        """
        self._check(bucket, object_name)
        raw = await self._get_client("download_file")
        await download_in_ranges(
            local_path,
            lambda: RangedGet(self, raw, bucket, object_name),
            concurrency=self.max_concurrency,
            progress=progress,
            runner=self._runner,
            operation="download_file",
        )
        return True

    # -- deletes and copies ----------------------------------------------------------------

    async def delete_object(self, bucket: str, object_name: str, *, timeout: float | None = None) -> None:
        """Delete an object (a missing object is not an error; a missing bucket is)."""
        self._check(bucket, object_name)
        await self._request("delete_object", "delete_object", {"Bucket": bucket, "Key": object_name}, timeout=timeout)

    _delete_batch_size = _DELETE_BATCH  # DeleteObjects takes at most 1,000 keys

    def _delete_batches_in_flight(self) -> int:
        return self.max_concurrency

    async def _delete_batch(
        self, bucket: str, names: list[str], *, timeout: float | None
    ) -> tuple[list[CloudError], bool]:
        return await self._delete_keys(bucket, [{"Key": name} for name in names], timeout=timeout), False

    async def _delete_keys(
        self, bucket: str, objects: list[dict[str, Any]], *, timeout: float | None
    ) -> list[CloudError]:
        """One ``DeleteObjects`` request; the errors of its keys (a missing key is none)."""
        response = await self._request(
            "delete_objects",
            "delete_objects",
            {"Bucket": bucket, "Delete": {"Objects": objects, "Quiet": True}},
            timeout=timeout,
        )
        errors = [self._batch_error(item) for item in response.get("Errors", [])]
        return [err for err in errors if not isinstance(err, NotFoundError)]

    def _batch_error(self, item: Mapping[str, Any]) -> CloudError:
        from botocore.exceptions import ClientError

        fake = ClientError(
            {"Error": {"Code": item.get("Code"), "Message": f"{item.get('Key')!r}: {item.get('Message')}"}},
            "DeleteObjects",
        )
        err = self._runner.to_cloud_error(fake, "delete_objects")
        assert err is not None
        return err

    async def copy_object(
        self,
        source_bucket: str,
        source_name: str,
        dest_bucket: str,
        dest_name: str,
        *,
        timeout: float | None = None,
    ) -> None:
        """Copy an object server-side, keeping its content type and user metadata (sources
        over 5 GiB are copied as a parallel multipart copy)."""
        self._check(source_bucket, source_name)
        self._check(dest_bucket, dest_name)
        params: dict[str, Any] = {
            "Bucket": dest_bucket,
            "Key": dest_name,
            "CopySource": {"Bucket": source_bucket, "Key": source_name},
            "MetadataDirective": "COPY",
        }
        if self._checksum == "crc32":
            params["ChecksumAlgorithm"] = "CRC32"
        try:
            await self._request("copy_object", "copy_object", params, timeout=timeout)
        except BadRequestError as exc:
            if exc.code not in ("InvalidRequest", "EntityTooLarge"):
                raise
            source = await self.stat(source_bucket, source_name, timeout=timeout)
            if source.size <= MAX_PART_SIZE:
                raise
            await self._multipart_copy(source, dest_bucket, dest_name, timeout=timeout)

    async def _multipart_copy(
        self, source: ObjectMetadata, dest_bucket: str, dest_name: str, *, timeout: float | None
    ) -> None:
        """Copy a large object with parallel ``UploadPartCopy`` requests."""
        part_size = _part_size_for(source.size, self.part_size)

        async def begin() -> MultipartCopy:
            create: dict[str, Any] = {
                "Bucket": dest_bucket,
                "Key": dest_name,
                "ContentType": source.content_type or "application/octet-stream",
                "Metadata": dict(source.metadata),
            }
            started = await self._request("copy_object", "create_multipart_upload", create, timeout=timeout)
            return MultipartCopy(self, "copy_object", dest_bucket, dest_name, started["UploadId"], source)

        await upload_in_parts(
            plan_ranges(0, source.size, part_size), begin, concurrency=self.max_concurrency, max_parts=MAX_PARTS
        )

    # -- listings and URLs -----------------------------------------------------------------

    def iter_objects(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        page_size: int | None = None,
        timeout: float | None = None,
    ) -> AsyncPaginator[ObjectMetadata]:
        """List objects lazily with ``ListObjectsV2`` (up to 1,000 per page), following S3's
        continuation token; common prefixes come merged in name order when ``delimiter``."""
        check_bucket_name(bucket)
        check_prefix(prefix, delimiter)
        if delimiter == "":
            raise ConfigurationError("delimiter must not be empty")
        if page_size is not None and (isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1):
            raise ConfigurationError("page_size must be a positive integer")
        limit = min(page_size or _LIST_PAGE_MAX, _LIST_PAGE_MAX)

        async def fetch(token: str | None) -> Page[ObjectMetadata]:
            params: dict[str, Any] = {"Bucket": bucket, "MaxKeys": limit}
            if prefix:
                params["Prefix"] = prefix
            if delimiter is not None:
                params["Delimiter"] = delimiter
            if token:
                params["ContinuationToken"] = token
            response = await self._request("iter_objects", "list_objects_v2", params, timeout=timeout)
            items = page_objects(response, bucket)
            next_token = response.get("NextContinuationToken") if response.get("IsTruncated") else None
            return Page(items, next_token)

        return AsyncPaginator(fetch)

    async def _sign_url(
        self, bucket: str, object_name: str, method: str, expires: int, *, timeout: float | None
    ) -> str:
        """A presigned URL (needs credentials)."""
        client = await self._get_client("sign_url")

        async def sign() -> str:
            url: str = await client.generate_presigned_url(
                _PRESIGN_METHODS[method],
                Params={"Bucket": bucket, "Key": object_name},
                ExpiresIn=expires,
                HttpMethod=method,
            )
            return url

        return await self._runner.call("sign_url", sign, timeout=timeout)

    async def _open_range(
        self,
        bucket: str,
        object_name: str,
        offset: int,
        length: int | None,
        *,
        version: str | None = None,
        timeout: float | None = None,
        chunk_size: int = READ_CHUNK,
        operation: str = "open",
    ) -> RangeStream:
        """The primitive of :meth:`open` and :meth:`open_read`: one GET (ranged unless the
        whole object is read, pinned to the ETag ``version``) whose headers describe the
        object; its body comes in chunks of up to ``chunk_size``, checked against the
        checksum or MD5 ETag S3 stored when it is the whole object."""
        byte_range = range_header(offset, length)
        params = self._get_params(bucket, object_name, byte_range)
        if version is not None:
            params["IfMatch"] = f'"{version}"'
        response = await self._request(operation, "get_object", params, timeout=timeout)
        body = response["Body"]
        verifier = DownloadVerifier(response, aws=self._aws) if byte_range is None else None
        chunks = body_chunks(
            body.read,
            chunk_size=chunk_size,
            runner=self._runner,
            operation=operation,
            timeout=timeout,
            update=verifier.update if verifier is not None else None,
            verify=verifier.finish if verifier is not None else None,
            release=body.close,
            close=body.close,
        )
        meta = self._metadata(bucket, object_name, response, size=total_size(response) or 0)
        length_sent = response.get("ContentLength")
        return RangeStream(
            meta,
            length=length_sent if isinstance(length_sent, int) else 0,
            version=meta.etag,
            chunks=chunks,
            close=body.close,
        )


# -- helpers -------------------------------------------------------------------------------


def _conditions(if_none_match: str | None, if_match: str | None) -> dict[str, str]:
    if if_none_match is not None and if_match is not None:
        raise ConfigurationError("pass if_none_match or if_match, not both")
    if if_none_match is not None:
        if if_none_match != "*":
            raise ConfigurationError("if_none_match only accepts '*' (create the object only if it does not exist)")
        return {"IfNoneMatch": "*"}
    if if_match is not None:
        if not isinstance(if_match, str) or not if_match.strip('"'):
            raise ConfigurationError("if_match must be an ETag")
        return {"IfMatch": f'"{if_match.strip(chr(34))}"'}
    return {}


def _part_size_for(size: int, part_size: int) -> int:
    """``part_size``, raised (to whole MiB) when ``size`` would need more than 10,000 parts."""
    needed = math.ceil(size / MAX_PARTS)
    if needed <= part_size:
        return part_size
    return min(MAX_PART_SIZE, math.ceil(needed / MiB) * MiB)


def _response_date(response: Mapping[str, Any]) -> datetime:
    headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    raw = headers.get("last-modified") or headers.get("date")
    if raw:
        try:
            return email.utils.parsedate_to_datetime(raw).astimezone(timezone.utc)
        except (TypeError, ValueError):
            pass
    return datetime.now(timezone.utc)


def _content_md5_instead_of_crc32(params: dict[str, Any], **_: Any) -> None:
    """``before-call`` hook for DeleteObjects on S3-compatible stores: send the
    ``Content-MD5`` they require instead of botocore's default CRC32."""
    body = params.get("body")
    if not isinstance(body, (bytes, bytearray)):
        return
    params["headers"]["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode("ascii")
    checksum = (params.get("context") or {}).get("checksum")
    if isinstance(checksum, dict):
        checksum.pop("request_algorithm", None)
        checksum.pop("request_algorithm_header", None)
