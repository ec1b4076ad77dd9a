"""The one typed exception tree shared by every client.

Each provider translates its vendor errors into these classes in exactly one place (its
error table) and raises them ``from`` the vendor error, so the original is kept as
``__cause__``.  Messages never carry credentials or tokens.  Every exception pickles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "APIError",
    "AlreadyExistsError",
    "AuthenticationError",
    "BadRequestError",
    "CloudError",
    "ConfigurationError",
    "ConflictError",
    "FunctionError",
    "GoneError",
    "IntegrityError",
    "MissingDependencyError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "RateLimitError",
    "RequestTimeoutError",
    "ServerError",
    "TransportError",
    "ValidationIssue",
    "STATUS_ERRORS",
    "error_class_for_status",
    "error_for_status",
]


class CloudError(Exception):
    """Base of every error raised by this SDK.

    Raised (as one of its subclasses) whenever an operation fails.  ``provider`` names the
    backend (``"aws"``, ``"gcp"``, ...), ``operation`` the client method that failed.
    """

    retryable: bool = False
    """Whether retrying the same request may succeed."""

    def __init__(
        self,
        message: str = "",
        *,
        provider: str | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.operation = operation

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only attributes live in __dict__; rebuild from the message and restore them.
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))

    def __str__(self) -> str:
        where = ".".join(p for p in (self.provider, self.operation) if p)
        return f"[{where}] {self.message}" if where else self.message


def _rebuild(cls: type[CloudError], message: str, state: dict[str, Any]) -> CloudError:
    exc = cls.__new__(cls, message)
    CloudError.__init__(exc, message)
    exc.__dict__.update(state)
    return exc


class ConfigurationError(CloudError, ValueError):
    """Raised before any I/O when arguments or settings are invalid (bad bucket name,
    missing token, unsafe object name, unknown URL scheme...)."""


class MissingDependencyError(CloudError, ImportError):
    """Raised when a provider module is imported without its optional extra installed.

    The message names the command that installs it, e.g.
    ``pip install 'codomyrmex-cloud[aws]'``.
    """

    def __init__(self, message: str = "", *, extra: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.extra = extra


class TransportError(CloudError):
    """Raised when no response arrived: connection refused, DNS, TLS or reset.  Retryable."""

    retryable = True


class RequestTimeoutError(TransportError, TimeoutError):
    """Raised when an operation did not finish within its timeout.  Retryable."""


class IntegrityError(TransportError):
    """Raised when the bytes sent or received do not match the checksum (MD5, CRC32C,
    CRC32) or length the service reports: the data was corrupted or cut short on the way.
    Nothing is kept (no file at the destination; an upload is not committed or is deleted).
    Retryable: a new transfer may succeed."""

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = "ChecksumMismatch",
        status_code: int | None = None,
        request_id: str | None = None,
        body: str | None = None,
        provider: str | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(message, provider=provider, operation=operation)
        self.code = code
        self.status_code = status_code
        self.request_id = request_id
        self.body = body


class APIError(CloudError):
    """Raised when the service answered with an error status.

    ``status_code`` is the HTTP status, ``code`` the service's own error code
    (``NoSuchKey``, ``BlobNotFound``...), ``request_id`` the service's request id and
    ``body`` a short, redacted excerpt of the error body.
    """

    default_status: int | None = None

    def __init__(
        self,
        message: str = "",
        *,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        body: str | None = None,
        provider: str | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(message, provider=provider, operation=operation)
        self.status_code = status_code if status_code is not None else self.default_status
        self.code = code
        self.request_id = request_id
        self.body = body


@dataclass(frozen=True)
class ValidationIssue:
    """Why the service rejected one field of a request: ``path`` names the field (Coda writes
    OGNL, ``rows[0].cells[1].value``), ``message`` says what was wrong."""

    path: str
    message: str


class BadRequestError(APIError):
    """Raised on HTTP 400/422 (and 416 for ranges): the request itself is invalid.

    ``validation_errors`` lists the fields the service named as invalid (Coda's
    ``codaDetail.validationErrors``), empty when it named none; the message repeats them.
    """

    default_status = 400

    def __init__(
        self, message: str = "", *, validation_errors: list[ValidationIssue] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.validation_errors: list[ValidationIssue] = list(validation_errors or [])


class AuthenticationError(APIError):
    """Raised on HTTP 401 or a rejected signature/key: the credentials are not valid."""

    default_status = 401


class PermissionDeniedError(APIError):
    """Raised on HTTP 403: the credentials are valid but not allowed to do this."""

    default_status = 403


class NotFoundError(APIError, FileNotFoundError):
    """Raised on HTTP 404: the bucket, object, doc or row does not exist."""

    default_status = 404


class GoneError(NotFoundError):
    """Raised on HTTP 410: the resource existed but has been deleted."""

    default_status = 410


class ConflictError(APIError):
    """Raised on HTTP 409: the request conflicts with the resource's current state."""

    default_status = 409


class AlreadyExistsError(ConflictError):
    """Raised when creating something that already exists (and is not yours to reuse)."""


class PreconditionFailedError(APIError):
    """Raised on HTTP 412: a conditional request (``if_match``/``if_none_match``) failed."""

    default_status = 412


class RateLimitError(APIError):
    """Raised on HTTP 429 (or a provider's throttling code).  Retryable.

    ``retry_after`` is the server's ``Retry-After`` in seconds, when it sent one.
    """

    default_status = 429
    retryable = True

    def __init__(self, message: str = "", *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    """Raised on HTTP 5xx: the service failed.  Retryable."""

    default_status = 500
    retryable = True


class FunctionError(CloudError):
    """Raised by ``invoke_function`` when the function itself ran and failed (Lambda's
    ``FunctionError``, an HTTP function answering 5xx).  The service worked: this is the
    function's error, so it is never retried.

    ``function`` names the function, ``error_type`` is the provider's kind of failure
    (``Unhandled``, ``Handled``, ``HTTP 500``...), ``payload`` the bytes the function
    answered (e.g. Lambda's ``{"errorMessage": ..., "errorType": ...}``), ``status_code``
    the HTTP status of the answer when there was one.
    """

    def __init__(
        self,
        message: str = "",
        *,
        function: str | None = None,
        error_type: str | None = None,
        payload: bytes = b"",
        status_code: int | None = None,
        provider: str | None = None,
        operation: str | None = None,
    ) -> None:
        super().__init__(message, provider=provider, operation=operation)
        self.function = function
        self.error_type = error_type
        self.payload = payload
        self.status_code = status_code


STATUS_ERRORS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: ServerError,  # request timeout: the server gave up waiting, retry
    409: ConflictError,
    410: GoneError,  # existed, now deleted (e.g. an expired GCS resumable upload session)
    411: BadRequestError,  # length required
    412: PreconditionFailedError,
    413: BadRequestError,  # payload too large
    416: BadRequestError,  # range not satisfiable
    422: BadRequestError,
    429: RateLimitError,
    499: ConflictError,  # client closed request: a cancelled (GCS resumable) upload
}
"""The one HTTP status -> exception table of every provider (their own tables map only
service error codes).  Any other 5xx is a :class:`ServerError`, any other status a plain
:class:`APIError`."""


def error_class_for_status(status_code: int) -> type[APIError]:
    """Return the exception class for an HTTP status (:data:`STATUS_ERRORS`; other 5xx ->
    ServerError, anything else APIError)."""
    found = STATUS_ERRORS.get(status_code)
    if found is not None:
        return found
    if 500 <= status_code <= 599:
        return ServerError
    return APIError


def error_for_status(
    status_code: int,
    message: str,
    *,
    code: str | None = None,
    request_id: str | None = None,
    body: str | None = None,
    retry_after: float | None = None,
    provider: str | None = None,
    operation: str | None = None,
) -> APIError:
    """Build the typed error for an HTTP status code."""
    cls = error_class_for_status(status_code)
    kwargs: dict[str, Any] = {
        "status_code": status_code,
        "code": code,
        "request_id": request_id,
        "body": body,
        "provider": provider,
        "operation": operation,
    }
    if cls is RateLimitError:
        kwargs["retry_after"] = retry_after
    return cls(message, **kwargs)
