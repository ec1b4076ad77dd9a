"""The Azure error table: every ``azure.core`` / ``azure.identity`` error mapped into the tree.

This is the one place where Azure exceptions become :mod:`cloud.common.exceptions` errors
(the client's :class:`~cloud.common.operations.OperationRunner` calls :func:`translate`).
Order of precedence: the service's error code (``x-ms-error-code``) when it is in
:data:`ERROR_CODES`, then the HTTP status, then the exception class.

A bad account key is always an :class:`~cloud.common.exceptions.AuthenticationError`
(status 403 kept in ``status_code``): real Azure answers it with ``AuthenticationFailed``
and Azurite with ``AuthorizationFailure`` plus the message "Server failed to authenticate
the request"; both mean "the credentials are not valid".  An ``AuthorizationFailure`` that
is not about authenticating (a firewall, a SAS without the permission...) stays a
:class:`~cloud.common.exceptions.PermissionDeniedError`.

Messages are built from the first line of the service's message, the status and the code;
never from headers, the request, or the string-to-sign details Azure adds to auth errors.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from cloud.common.exceptions import (
    STATUS_ERRORS,
    AlreadyExistsError,
    APIError,
    AuthenticationError,
    BadRequestError,
    CloudError,
    ConfigurationError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    error_class_for_status,
)
from cloud.common.redaction import redact, scrub_exception
from cloud.common.retry import parse_retry_after

__all__ = ["ERROR_CODES", "EXCEPTION_CLASSES", "STATUS_CODES", "error_code_of", "from_status", "translate"]

ERROR_CODES: dict[str, type[APIError]] = {
    # 404
    "ContainerNotFound": NotFoundError,
    "BlobNotFound": NotFoundError,
    "ResourceNotFound": NotFoundError,
    # 409: creating something that exists
    "ContainerAlreadyExists": AlreadyExistsError,
    "BlobAlreadyExists": AlreadyExistsError,
    "ResourceAlreadyExists": AlreadyExistsError,
    # 409: state conflicts
    "ContainerBeingDeleted": ConflictError,
    "ContainerDisabled": ConflictError,
    "ContainerNotEmpty": ConflictError,  # ours: delete_bucket of a non-empty container
    "LeaseAlreadyPresent": ConflictError,
    "LeaseIdMissing": ConflictError,
    "LeaseNotPresentWithBlobOperation": ConflictError,
    "LeaseNotPresentWithContainerOperation": ConflictError,
    "PendingCopyOperation": ConflictError,
    "SnapshotsPresent": ConflictError,
    "BlobArchived": ConflictError,
    # credentials not valid (real Azure: 403 AuthenticationFailed)
    "AuthenticationFailed": AuthenticationError,
    "InvalidAuthenticationInfo": AuthenticationError,
    "NoAuthenticationInformation": AuthenticationError,
    # valid credentials, not allowed (see _refine for Azurite's bad-key AuthorizationFailure)
    "AuthorizationFailure": PermissionDeniedError,
    "AuthorizationPermissionMismatch": PermissionDeniedError,
    "AuthorizationProtocolMismatch": PermissionDeniedError,
    "AuthorizationResourceTypeMismatch": PermissionDeniedError,
    "AuthorizationServiceMismatch": PermissionDeniedError,
    "AuthorizationSourceIPMismatch": PermissionDeniedError,
    "InsufficientAccountPermissions": PermissionDeniedError,
    "AccountIsDisabled": PermissionDeniedError,
    # 412
    "ConditionNotMet": PreconditionFailedError,
    "TargetConditionNotMet": PreconditionFailedError,
    "SourceConditionNotMet": PreconditionFailedError,
    "AppendPositionConditionNotMet": PreconditionFailedError,
    "MaxBlobSizeConditionNotMet": PreconditionFailedError,
    # 400 / 413 / 416: the request itself is wrong (incl. integrity failures on upload)
    "InvalidRange": BadRequestError,
    "InvalidMd5": BadRequestError,
    "InvalidBlockList": BadRequestError,
    "InvalidBlockId": BadRequestError,
    "InvalidBlobOrBlock": BadRequestError,
    "BlockCountExceedsLimit": BadRequestError,
    "InvalidResourceName": BadRequestError,
    "InvalidUri": BadRequestError,
    "InvalidInput": BadRequestError,
    "InvalidHeaderValue": BadRequestError,
    "InvalidQueryParameterValue": BadRequestError,
    "InvalidMetadata": BadRequestError,
    "InvalidXmlDocument": BadRequestError,
    "MissingRequiredHeader": BadRequestError,
    "OutOfRangeInput": BadRequestError,
    "RequestBodyTooLarge": BadRequestError,
    "UnsupportedHeader": BadRequestError,
    # throttling (Azure throttles with 503 ServerBusy) and service failures
    "ServerBusy": RateLimitError,
    "TooManyRequests": RateLimitError,
    "InternalError": ServerError,
    "OperationTimedOut": ServerError,
}
"""Service error codes with a fixed meaning, whatever the status that carried them."""

STATUS_CODES = STATUS_ERRORS
"""HTTP statuses: the one table of :mod:`cloud.common.exceptions` (any other 5xx is a
ServerError, any other status a plain APIError)."""

if TYPE_CHECKING:
    EXCEPTION_CLASSES: dict[type[BaseException], type[CloudError]]
    """Exception classes without a usable status (no response), most specific first."""


@functools.cache
def _exception_classes() -> dict[type[BaseException], type[CloudError]]:
    """:data:`EXCEPTION_CLASSES`, built on first use (azure-core loads with the first client,
    not with this module)."""
    from azure.core.exceptions import (
        AzureError,
        ClientAuthenticationError,
        DecodeError,
        DeserializationError,
        HttpResponseError,
        IncompleteReadError,
        ResponseNotReadError,
        SerializationError,
        ServiceRequestError,
        ServiceRequestTimeoutError,
        ServiceResponseError,
        ServiceResponseTimeoutError,
        StreamClosedError,
        StreamConsumedError,
        TooManyRedirectsError,
    )

    return {
        ServiceRequestTimeoutError: RequestTimeoutError,
        ServiceResponseTimeoutError: RequestTimeoutError,
        ServiceRequestError: TransportError,
        ServiceResponseError: TransportError,
        IncompleteReadError: TransportError,
        StreamClosedError: TransportError,
        StreamConsumedError: TransportError,
        ResponseNotReadError: TransportError,
        DecodeError: ServerError,
        DeserializationError: ServerError,
        SerializationError: ConfigurationError,
        TooManyRedirectsError: TransportError,
        ClientAuthenticationError: AuthenticationError,
        HttpResponseError: APIError,
        AzureError: CloudError,
    }


def __getattr__(name: str) -> object:
    """``EXCEPTION_CLASSES`` (the table of azure-core exception classes) on first access."""
    if name == "EXCEPTION_CLASSES":
        return _exception_classes()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_MAX_MESSAGE = 300


def error_code_of(exc: BaseException) -> str | None:
    """The service's error code of an Azure exception (``BlobNotFound``...), or ``None``."""
    code: Any = getattr(exc, "error_code", None)
    if code is None:
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
        if headers is not None:
            code = headers.get("x-ms-error-code")
    if code is None:
        return None
    return str(getattr(code, "value", code)) or None


def _first_line(message: object) -> str:
    text = str(message or "").strip()
    line = text.splitlines()[0] if text else ""
    prefix = "Operation returned an invalid status "
    if line.startswith(prefix):  # HEAD answers have no body: the SDK quotes the reason
        line = line[len(prefix) :].strip("'\"")
    return redact(line[:_MAX_MESSAGE])


def _header(exc: BaseException, name: str) -> str | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        value = headers.get(name)
    except Exception:
        return None
    return str(value) if value is not None else None


def _refine(cls: type[APIError], code: str | None, text: str) -> type[APIError]:
    # Azurite answers a bad key with 403 AuthorizationFailure "Server failed to authenticate
    # the request": the same situation as real Azure's AuthenticationFailed.
    if code == "AuthorizationFailure" and "authenticate" in text.lower():
        return AuthenticationError
    return cls


def from_status(
    status: int | None,
    code: str | None,
    message: str,
    *,
    request_id: str | None = None,
    retry_after: str | None = None,
) -> APIError:
    """Build the typed error for a service answer (also used for batch sub-responses)."""
    cls: type[APIError] | None = ERROR_CODES.get(code) if code else None
    if cls is None and status is not None:
        cls = error_class_for_status(status)
    if cls is None:
        cls = APIError
    cls = _refine(cls, code, message)
    detail = ", ".join(p for p in (f"HTTP {status}" if status else "", code or "") if p)
    text = f"{message} ({detail})" if detail else message
    kwargs: dict[str, Any] = {"status_code": status, "code": code, "request_id": request_id, "body": message or None}
    if cls is RateLimitError:
        return RateLimitError(text, retry_after=parse_retry_after(retry_after), **kwargs)
    return cls(text, **kwargs)


_CORRUPTED_ON_THE_WAY = frozenset({"Md5Mismatch", "Crc64Mismatch"})


def translate(exc: BaseException, operation: str) -> CloudError | None:
    """Map an Azure exception raised by ``operation`` to our tree (``None``: not Azure's)."""
    error = _translate(exc, operation)
    if error is not None:
        # The vendor exception becomes the error's __cause__: it must not carry the
        # request's credentials (it is pickled with the error where tblib is installed).
        scrub_exception(exc)
    return error


def _translate(exc: BaseException, operation: str) -> CloudError | None:
    from azure.core.exceptions import AzureError, DeserializationError, HttpResponseError, SerializationError

    if not isinstance(exc, (AzureError, SerializationError, DeserializationError)):
        return None
    status = getattr(exc, "status_code", None)
    if isinstance(exc, HttpResponseError) and isinstance(status, int) and status >= 300:
        code = error_code_of(exc)
        if code in _CORRUPTED_ON_THE_WAY or (code == "InvalidOperation" and "md5" in str(exc).lower()):
            # (Azurite answers a Content-MD5 mismatch with InvalidOperation "...contentMD5...")
            # The service refused a body whose MD5/CRC64 differs from the one we sent with it.
            return IntegrityError(
                f"{operation}: the service received other bytes than were sent ({code}); nothing was stored"
            )
        message = _first_line(getattr(exc, "message", None) or exc) or (getattr(exc, "reason", None) or "")
        return from_status(
            status,
            error_code_of(exc),
            message,
            request_id=_header(exc, "x-ms-request-id"),
            retry_after=_header(exc, "Retry-After"),
        )
    if type(exc) is AzureError and str(getattr(exc, "message", None) or exc).startswith("MD5 mismatch"):
        # The SDK's check of a range against the MD5 the service sent with it.
        return IntegrityError(
            f"{operation}: the bytes received do not match the MD5 the service sent for them "
            f"(corrupted in transit?): {_first_line(getattr(exc, 'message', None) or exc)}"
        )
    for vendor, ours in _exception_classes().items():
        if isinstance(exc, vendor):
            return _from_class(exc, ours, operation)
    return None  # pragma: no cover - AzureError is in the table


def _from_class(exc: BaseException, ours: type[CloudError], operation: str) -> CloudError:
    name = type(exc).__name__
    detail = _first_line(getattr(exc, "message", None) or exc)
    if ours is AuthenticationError:
        text = f"Azure authentication failed ({name}): {detail}" if detail else f"Azure authentication failed ({name})"
        return AuthenticationError(text, status_code=401, code=name)
    if ours is RequestTimeoutError:
        return RequestTimeoutError(f"{operation} timed out talking to Azure ({name})")
    if ours is TransportError:
        return TransportError(f"no complete answer from Azure ({name}): {detail}")
    if issubclass(ours, APIError):
        return ours(f"{detail or name} ({name})", code=name)
    return ours(f"{detail or name} ({name})")
