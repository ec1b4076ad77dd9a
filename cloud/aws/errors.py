"""The S3 error table: every botocore/aiobotocore failure becomes one class of our tree.

:func:`translate` is the only place where vendor errors are mapped; the client's
:class:`~cloud.common.operations.OperationRunner` calls it for every request.  S3 error
codes are looked up in :data:`S3_ERROR_CODES`; a code that is not listed falls back to its
HTTP status (:func:`~cloud.common.exceptions.error_class_for_status`).  Transport failures
(connect, TLS, reset, timeouts) and botocore's own configuration errors have their own
tables.  Messages and bodies are built from the error's code and message only (never the
``StringToSign``/``CanonicalRequest`` S3 echoes on signature errors) and redacted.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from cloud.common.exceptions import (
    AlreadyExistsError,
    APIError,
    AuthenticationError,
    BadRequestError,
    CloudError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    error_class_for_status,
)
from cloud.common.redaction import redact
from cloud.common.retry import parse_retry_after

__all__ = ["BOTOCORE_ERRORS", "S3_ERROR_CODES", "S3_ERROR_STATUS", "translate"]

S3_ERROR_CODES: Mapping[str, type[CloudError]] = {
    # 404: missing things.  HEAD requests carry no body, so S3 answers a bare "404"/"NotFound".
    "NoSuchBucket": NotFoundError,
    "NoSuchKey": NotFoundError,
    "NoSuchUpload": NotFoundError,
    "NoSuchVersion": NotFoundError,
    "NoSuchAccessPoint": NotFoundError,
    "NoSuchBucketPolicy": NotFoundError,
    "NoSuchCORSConfiguration": NotFoundError,
    "NoSuchLifecycleConfiguration": NotFoundError,
    "NoSuchTagSet": NotFoundError,
    "NoSuchWebsiteConfiguration": NotFoundError,
    "NoSuchPublicAccessBlockConfiguration": NotFoundError,
    "ObjectLockConfigurationNotFoundError": NotFoundError,
    "ReplicationConfigurationNotFoundError": NotFoundError,
    "ServerSideEncryptionConfigurationNotFoundError": NotFoundError,
    "OwnershipControlsNotFoundError": NotFoundError,
    "NotFound": NotFoundError,
    "404": NotFoundError,
    # Credentials the service does not accept.
    "InvalidAccessKeyId": AuthenticationError,
    "SignatureDoesNotMatch": AuthenticationError,
    "ExpiredToken": AuthenticationError,
    "InvalidToken": AuthenticationError,
    "TokenRefreshRequired": AuthenticationError,
    "InvalidSecurity": AuthenticationError,
    "MissingSecurityHeader": AuthenticationError,
    "AuthorizationHeaderMalformed": AuthenticationError,
    "RequestTimeTooSkewed": AuthenticationError,
    "CredentialsNotSupported": AuthenticationError,
    "NotSignedUp": AuthenticationError,
    # Valid credentials, not allowed.
    "AccessDenied": PermissionDeniedError,
    "AllAccessDisabled": PermissionDeniedError,
    "AccountProblem": PermissionDeniedError,
    "InvalidPayer": PermissionDeniedError,
    "CrossLocationLoggingProhibited": PermissionDeniedError,
    "InvalidObjectState": PermissionDeniedError,
    "Forbidden": PermissionDeniedError,
    "403": PermissionDeniedError,
    # State conflicts.
    "BucketNotEmpty": ConflictError,
    "OperationAborted": ConflictError,
    "InvalidBucketState": ConflictError,
    "ConditionalRequestConflict": ConflictError,
    "ClientTokenConflict": ConflictError,
    "BucketAlreadyExists": AlreadyExistsError,
    "BucketAlreadyOwnedByYou": AlreadyExistsError,
    "AccessPointAlreadyOwnedByYou": AlreadyExistsError,
    # Conditional requests.
    "PreconditionFailed": PreconditionFailedError,
    "412": PreconditionFailedError,
    # Throttling (S3 answers 503 SlowDown; other AWS front ends use the other spellings).
    "SlowDown": RateLimitError,
    "Throttling": RateLimitError,
    "ThrottlingException": RateLimitError,
    "ThrottledException": RateLimitError,
    "RequestThrottled": RateLimitError,
    "RequestThrottledException": RateLimitError,
    "RequestLimitExceeded": RateLimitError,
    "TooManyRequests": RateLimitError,
    "TooManyRequestsException": RateLimitError,
    "BandwidthLimitExceeded": RateLimitError,
    "429": RateLimitError,
    # The service failed.
    "InternalError": ServerError,
    "ServiceUnavailable": ServerError,
    "InternalFailure": ServerError,
    "500": ServerError,
    "502": ServerError,
    "503": ServerError,
    "504": ServerError,
    # S3's "your socket was not read from or written to in time": retry the request.
    "RequestTimeout": RequestTimeoutError,
    "RequestTimeoutException": RequestTimeoutError,
    # The request itself is wrong.
    "InvalidRange": BadRequestError,
    "EntityTooSmall": BadRequestError,
    "EntityTooLarge": BadRequestError,
    "InvalidPart": BadRequestError,
    "InvalidPartOrder": BadRequestError,
    "TooManyParts": BadRequestError,
    "InvalidArgument": BadRequestError,
    "InvalidRequest": BadRequestError,
    "InvalidBucketName": BadRequestError,
    "InvalidDigest": BadRequestError,
    "BadDigest": BadRequestError,
    "XAmzContentSHA256Mismatch": BadRequestError,
    "InvalidChecksum": BadRequestError,
    "KeyTooLongError": BadRequestError,
    "MetadataTooLarge": BadRequestError,
    "MalformedXML": BadRequestError,
    "MalformedACLError": BadRequestError,
    "MalformedPOSTRequest": BadRequestError,
    "InvalidURI": BadRequestError,
    "InvalidStorageClass": BadRequestError,
    "InvalidTag": BadRequestError,
    "InvalidEncryptionAlgorithmError": BadRequestError,
    "EncryptionTypeMismatch": BadRequestError,
    "InvalidWriteOffset": BadRequestError,
    "IncompleteBody": BadRequestError,
    "MissingContentLength": BadRequestError,
    "MissingRequestBodyError": BadRequestError,
    "RequestIsNotMultiPartContent": BadRequestError,
    "RequestHeaderSectionTooLarge": BadRequestError,
    "MaxMessageLengthExceeded": BadRequestError,
    "UnexpectedContent": BadRequestError,
    "UserKeyMustBeSpecified": BadRequestError,
    "IllegalLocationConstraintException": BadRequestError,
    "InvalidLocationConstraint": BadRequestError,
    "IllegalVersioningConfigurationException": BadRequestError,
    "TooManyBuckets": BadRequestError,
    "InvalidPrefix": BadRequestError,
    "IdempotencyParameterMismatch": BadRequestError,
    "UnsupportedMediaType": BadRequestError,
    # The bucket lives in another region (botocore normally follows these itself).
    "PermanentRedirect": BadRequestError,
    "TemporaryRedirect": BadRequestError,
    "Redirect": BadRequestError,
    "301": BadRequestError,
    "400": BadRequestError,
    # Not supported by this store (common on S3-compatible services): not retryable.
    "NotImplemented": APIError,
    "MethodNotAllowed": APIError,
    "NotModified": APIError,
    "304": APIError,
}
"""S3 error code -> the class raised.  Codes not listed fall back to the HTTP status."""

S3_ERROR_STATUS: Mapping[str, int] = {
    "PermanentRedirect": 301,
    "TemporaryRedirect": 307,
    "Redirect": 307,
    "NotModified": 304,
    "NotImplemented": 501,
    "MethodNotAllowed": 405,
    "InvalidRange": 416,
    "SlowDown": 503,
    "RequestTimeout": 400,
}
"""The HTTP status S3 sends with some codes, used when the response carries none."""

_HINTS: Mapping[str, str] = {
    "PermanentRedirect": " (the bucket is in another region: pass region=...)",
    "AuthorizationHeaderMalformed": " (check region=: it must be the bucket's region)",
    "IllegalLocationConstraintException": " (check region=: it must match the endpoint)",
    "InvalidAccessKeyId": " (check the access key id)",
    "SignatureDoesNotMatch": " (check the secret access key)",
}

_SENSITIVE_FIELDS = frozenset(
    {
        "StringToSign",
        "StringToSignBytes",
        "CanonicalRequest",
        "CanonicalRequestBytes",
        "SignatureProvided",
        "AWSAccessKeyId",
        "HostId",
    }
)

if TYPE_CHECKING:
    import botocore.exceptions as bexc

    BOTOCORE_ERRORS: tuple[tuple[type[BaseException], type[CloudError], str], ...]
    """botocore/aiohttp exception class -> the class raised and a short message (first match wins)."""


@functools.cache
def _botocore_errors() -> tuple[tuple[type[BaseException], type[CloudError], str], ...]:
    """:data:`BOTOCORE_ERRORS`, built on first use: botocore and aiohttp load with the
    first client, not with this module."""
    import aiohttp
    import botocore.exceptions as bexc

    return (
        # Order matters: subclasses first.
        (bexc.ConnectTimeoutError, RequestTimeoutError, "could not connect in time"),
        (bexc.ReadTimeoutError, RequestTimeoutError, "the service did not answer in time"),
        (bexc.FlexibleChecksumError, TransportError, "downloaded data does not match the checksum S3 stored"),
        (bexc.ChecksumError, TransportError, "downloaded data does not match the checksum S3 stored"),
        (bexc.IncompleteReadError, TransportError, "the response ended early"),
        (bexc.ResponseStreamingError, TransportError, "the connection failed while reading the response"),
        (bexc.AwsChunkedWrapperError, TransportError, "the request body could not be streamed"),
        (bexc.EndpointConnectionError, TransportError, "could not connect to the endpoint"),
        (bexc.ConnectionClosedError, TransportError, "the connection was closed"),
        (bexc.ConnectionError, TransportError, "connection failed"),
        (bexc.HTTPClientError, TransportError, "HTTP transport failed"),
        (
            bexc.NoCredentialsError,
            ConfigurationError,
            "no AWS credentials found: pass credentials= or configure the AWS chain",
        ),
        (bexc.PartialCredentialsError, ConfigurationError, "incomplete AWS credentials"),
        (bexc.CredentialRetrievalError, ConfigurationError, "AWS credentials could not be retrieved"),
        (bexc.ProfileNotFound, ConfigurationError, "AWS profile not found"),
        (bexc.NoRegionError, ConfigurationError, "no AWS region configured: pass region="),
        (bexc.InvalidRegionError, ConfigurationError, "invalid AWS region"),
        (bexc.ParamValidationError, ConfigurationError, "invalid request parameters"),
        (bexc.ValidationError, ConfigurationError, "invalid request parameters"),
        (bexc.UnknownEndpointError, ConfigurationError, "unknown endpoint"),
        (bexc.InvalidEndpointConfigurationError, ConfigurationError, "invalid endpoint configuration"),
        (bexc.EndpointResolutionError, ConfigurationError, "endpoint could not be resolved"),
        (bexc.InvalidConfigError, ConfigurationError, "invalid botocore configuration"),
        (bexc.MissingDependencyException, ConfigurationError, "a botocore optional dependency is missing"),
        (bexc.BotoCoreError, CloudError, "botocore failed"),
        # aiohttp errors that reach us outside botocore's wrappers (e.g. while streaming a body).
        (aiohttp.ServerTimeoutError, RequestTimeoutError, "the service did not answer in time"),
        (aiohttp.ClientError, TransportError, "HTTP transport failed"),
        (asyncio.TimeoutError, RequestTimeoutError, "timed out"),
    )


def __getattr__(name: str) -> object:
    """``BOTOCORE_ERRORS`` (the table of botocore/aiohttp exception classes) on first access."""
    if name == "BOTOCORE_ERRORS":
        return _botocore_errors()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def translate(exc: BaseException, operation: str, *, secrets: Iterable[str] = ()) -> CloudError | None:
    """Map a botocore/aiohttp exception raised by ``operation`` to our tree (``None`` if it
    is not a vendor error).  ``secrets`` are redacted from the message and body."""
    import botocore.exceptions as bexc  # loaded already: the error came from a client

    secret_list = [s for s in secrets if s]
    if isinstance(exc, bexc.ClientError):
        return _from_client_error(exc, secret_list)
    for vendor, cls, text in _botocore_errors():
        if isinstance(exc, vendor):
            detail = redact(str(exc), secret_list)
            message = f"{text}: {detail}" if detail and detail != text else text
            return cls(message)
    return None


def _from_client_error(exc: bexc.ClientError, secrets: list[str]) -> CloudError:
    response: Mapping[str, Any] = exc.response or {}
    error: Mapping[str, Any] = response.get("Error") or {}
    meta: Mapping[str, Any] = response.get("ResponseMetadata") or {}
    headers: Mapping[str, Any] = meta.get("HTTPHeaders") or {}
    code = str(error.get("Code") or "") or None
    status = meta.get("HTTPStatusCode")
    if not isinstance(status, int):
        status = S3_ERROR_STATUS.get(code or "")
        if status is None and code and code.isdigit():
            status = int(code)
    if code and code.isdigit():
        # HEAD answers have no body: botocore reports the status as the code.
        code = {"404": "NotFound", "403": "Forbidden", "412": "PreconditionFailed", "304": "NotModified"}.get(
            code, code
        )
    cls = S3_ERROR_CODES.get(code or "") or S3_ERROR_CODES.get(str(status))
    if cls is None:
        cls = error_class_for_status(status) if isinstance(status, int) else APIError
    text = str(error.get("Message") or "") or _default_message(status)
    s3_operation = getattr(exc, "operation_name", None) or "request"
    message = f"{s3_operation} failed: {code or status} (HTTP {status}): {text}{_HINTS.get(code or '', '')}"
    message = redact(message, secrets)
    request_id = meta.get("RequestId") or headers.get("x-amz-request-id") or None
    body = _body_excerpt(error, secrets)
    if issubclass(cls, APIError):
        kwargs: dict[str, Any] = {"status_code": status, "code": code, "request_id": request_id, "body": body}
        if issubclass(cls, RateLimitError):
            kwargs["retry_after"] = parse_retry_after(headers.get("retry-after"))
        return cls(message, **kwargs)
    return cls(message)


def _default_message(status: object) -> str:
    if status == 404:
        return "not found (the bucket or the object does not exist)"
    if status == 403:
        return "forbidden"
    return "no error message"


def _body_excerpt(error: Mapping[str, Any], secrets: list[str]) -> str | None:
    shown = {k: v for k, v in error.items() if k not in _SENSITIVE_FIELDS and isinstance(v, str)}
    if not shown:
        return None
    text = "; ".join(f"{k}={v}" for k, v in shown.items())
    return redact(text, secrets)[:500]
