"""The GCS error table: the one place where aiohttp / gcloud-aio errors become our tree.

Real GCS answers errors with a JSON body (``{"error": {"code": 404, "message": "...",
"errors": [{"reason": "notFound", ...}]}}``); gcp-storage-emulator often answers with an empty
body.  Both are handled: the HTTP status decides the class, a known ``reason`` refines it
(``rateLimitExceeded`` on a 403 is a rate limit, not a permission problem).
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Mapping
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

__all__ = [
    "REASON_ERRORS",
    "STATUS_ERRORS",
    "TRANSPORT_ERRORS",
    "ChecksumMismatchError",
    "error_from_response",
    "translate",
]

_BODY_LIMIT = 1000

# STATUS_ERRORS, the HTTP status table, is the one of cloud.common.exceptions.

REASON_ERRORS: dict[str, type[APIError]] = {
    "rateLimitExceeded": RateLimitError,
    "userRateLimitExceeded": RateLimitError,
    "authError": AuthenticationError,
    "required": AuthenticationError,  # 401 "Login Required"
    "forbidden": PermissionDeniedError,
    "insufficientPermissions": PermissionDeniedError,
    "accountDisabled": PermissionDeniedError,
    "billingNotEnabled": PermissionDeniedError,
    "userProjectAccountProblem": PermissionDeniedError,
    "notFound": NotFoundError,
    "conflict": ConflictError,
    "conditionNotMet": PreconditionFailedError,
    "invalid": BadRequestError,
    "invalidArgument": BadRequestError,
    "badRequest": BadRequestError,
    "requestedRangeNotSatisfiable": BadRequestError,
    "backendError": ServerError,
    "internalError": ServerError,
}
"""GCS JSON ``errors[0].reason`` -> class, applied on top of the status."""

if TYPE_CHECKING:
    import aiohttp

    TRANSPORT_ERRORS: tuple[tuple[type[BaseException], type[CloudError]], ...]
    """Exceptions raised without an HTTP error status -> class (first match wins)."""


@functools.cache
def _transport_errors() -> tuple[tuple[type[BaseException], type[CloudError]], ...]:
    """:data:`TRANSPORT_ERRORS`, built on first use (aiohttp loads with the first client,
    not with this module)."""
    import aiohttp

    return (
        (aiohttp.ServerTimeoutError, RequestTimeoutError),
        (asyncio.TimeoutError, RequestTimeoutError),
        (aiohttp.InvalidURL, ConfigurationError),
        (aiohttp.NonHttpUrlClientError, ConfigurationError),
        (aiohttp.ClientConnectionError, TransportError),  # refused, DNS, TLS, reset, disconnected
        (aiohttp.ClientPayloadError, TransportError),  # body cut short
        (aiohttp.ClientError, TransportError),
        (json.JSONDecodeError, ServerError),  # a 2xx answer whose JSON is malformed
    )


def __getattr__(name: str) -> object:
    """``TRANSPORT_ERRORS`` (the table of aiohttp exception classes) on first access."""
    if name == "TRANSPORT_ERRORS":
        return _transport_errors()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# GCS's (and the emulator's) answer when a hash sent with an upload does not match the data.
_HASH_REJECTED = re.compile(r"Provided (?:MD5|CRC32C)\b.*doesn't match calculated", re.IGNORECASE)

# Hosts answering token requests: a failure there is a credentials problem.
_TOKEN_HOSTS = ("oauth2.googleapis.com", "accounts.google.com", "metadata.google.internal", "sts.googleapis.com")


class ChecksumMismatchError(IntegrityError):
    """Raised when the CRC32C or MD5 of the bytes sent or received differs from the one GCS
    reports for the object: the data was corrupted on the way.  The downloaded file is not
    kept; an uploaded object is deleted.  Retryable (a new transfer may succeed)."""

    def __init__(self, message: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("code", "ChecksumMismatch")
        super().__init__(message, **kwargs)


def _parse_body(body: str) -> tuple[str | None, str | None]:
    """``(message, reason)`` from a GCS JSON error body, or ``(None, None)``."""
    start = body.find("{")
    if start < 0:
        return None, None
    try:
        data = json.loads(body[start:])
    except ValueError:
        return None, None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, str):  # OAuth token endpoints: {"error": "invalid_grant", ...}
        description = data.get("error_description")
        return (f"{error}: {description}" if description else error), error
    if not isinstance(error, dict):
        return None, None
    message = error.get("message") if isinstance(error.get("message"), str) else None
    reason = None
    errors = error.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0].get("reason")
        reason = first if isinstance(first, str) else None
    if reason is None and isinstance(error.get("status"), str):
        reason = error["status"]
    return message, reason


def error_from_response(
    status: int,
    body: str,
    headers: Mapping[str, str] | None = None,
    *,
    operation: str | None = None,
    reason_phrase: str | None = None,
    token_request: bool = False,
) -> APIError | IntegrityError:
    """Build the typed error for an HTTP error answer (status, body text, headers)."""
    message, reason = _parse_body(body)
    if token_request:
        cls: type[APIError | IntegrityError] = AuthenticationError
    elif status == 400 and message and _HASH_REJECTED.search(message):
        cls = ChecksumMismatchError
    elif reason in REASON_ERRORS:
        cls = REASON_ERRORS[reason]
    else:
        cls = error_class_for_status(status)
    if cls is ConflictError and operation == "ensure_bucket":
        cls = AlreadyExistsError
    headers = headers or {}
    text = message or reason_phrase or "no details (empty body)"
    full = (
        f"HTTP {status}: {text}" if not token_request else f"could not obtain a GCS access token: HTTP {status}: {text}"
    )
    kwargs: dict[str, Any] = {
        "status_code": status,
        "code": reason,
        "request_id": headers.get("x-guploader-uploadid") or headers.get("X-GUploader-UploadID"),
        "body": redact(body[:_BODY_LIMIT]) if body else None,
        "operation": operation,
    }
    if cls is RateLimitError:
        kwargs["retry_after"] = parse_retry_after(headers.get("Retry-After"))
    return cls(redact(full), **kwargs)


def _reason_and_body(exc: aiohttp.ClientResponseError) -> tuple[str | None, str]:
    # gcloud-aio raises ClientResponseError(message=f"{reason}: {body}"); plain aiohttp
    # raise_for_status() gives just the reason phrase.
    text = exc.message or ""
    phrase, sep, rest = text.partition(": ")
    if sep and (rest.lstrip().startswith("{") or not phrase.strip().startswith("{")):
        return phrase or None, rest
    return text or None, ""


def _is_token_request(exc: aiohttp.ClientResponseError) -> bool:
    info = getattr(exc, "request_info", None)
    url = getattr(info, "real_url", None) or getattr(info, "url", None)
    host = getattr(url, "host", None) or ""
    path = getattr(url, "path", "") or ""
    return host in _TOKEN_HOSTS or path.endswith("/token") or "/service-accounts/" in path


def translate(exc: BaseException, operation: str) -> CloudError | None:
    """The GCS error table: map an aiohttp/gcloud-aio exception raised by ``operation`` to our
    tree, or return ``None`` when ``exc`` is not a vendor error (it then propagates)."""
    error = _translate(exc, operation)
    if error is not None:
        # The vendor exception becomes the error's __cause__: it must not carry the
        # request's credentials (it is pickled with the error where tblib is installed).
        scrub_exception(exc)
    return error


def _translate(exc: BaseException, operation: str) -> CloudError | None:
    import aiohttp  # loaded already: the error came from a client

    if isinstance(exc, aiohttp.ClientResponseError):
        phrase, body = _reason_and_body(exc)
        headers = dict(exc.headers) if exc.headers else {}
        return error_from_response(
            exc.status,
            body,
            headers,
            operation=operation,
            reason_phrase=phrase,
            token_request=_is_token_request(exc),
        )
    for vendor, ours in _transport_errors():
        if isinstance(exc, vendor):
            detail = type(exc).__name__
            if ours is RequestTimeoutError:
                return RequestTimeoutError(f"{operation} timed out ({detail})")
            if ours is ConfigurationError:
                return ConfigurationError(f"invalid GCS endpoint URL ({detail})")
            if ours is ServerError:
                return ServerError(f"GCS sent a malformed answer ({detail})", code="MalformedResponse")
            return ours(f"no answer from GCS: {detail}: {redact(str(exc))[:300]}")
    return None
