"""The S3 error table: every listed code and botocore error maps, and nothing leaks a secret."""

from __future__ import annotations

import asyncio
import pickle
import re
from typing import Any

import aiohttp
import botocore.exceptions as bexc
import pytest

from cloud.aws.errors import BOTOCORE_ERRORS, S3_ERROR_CODES, translate
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
)

from .conftest import SECRET, TOKEN

# S3's documented error codes (docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html)
# that a storage client can meet, with the class each must become.
KNOWN_S3_ERRORS: dict[str, type[CloudError]] = {
    "AccessDenied": PermissionDeniedError,
    "AccountProblem": PermissionDeniedError,
    "AllAccessDisabled": PermissionDeniedError,
    "AuthorizationHeaderMalformed": AuthenticationError,
    "BadDigest": BadRequestError,
    "BucketAlreadyExists": AlreadyExistsError,
    "BucketAlreadyOwnedByYou": AlreadyExistsError,
    "BucketNotEmpty": ConflictError,
    "ConditionalRequestConflict": ConflictError,
    "EntityTooLarge": BadRequestError,
    "EntityTooSmall": BadRequestError,
    "ExpiredToken": AuthenticationError,
    "IllegalLocationConstraintException": BadRequestError,
    "IncompleteBody": BadRequestError,
    "InternalError": ServerError,
    "InvalidAccessKeyId": AuthenticationError,
    "InvalidArgument": BadRequestError,
    "InvalidBucketName": BadRequestError,
    "InvalidBucketState": ConflictError,
    "InvalidDigest": BadRequestError,
    "InvalidObjectState": PermissionDeniedError,
    "InvalidPart": BadRequestError,
    "InvalidPartOrder": BadRequestError,
    "InvalidRange": BadRequestError,
    "InvalidRequest": BadRequestError,
    "InvalidToken": AuthenticationError,
    "KeyTooLongError": BadRequestError,
    "MalformedXML": BadRequestError,
    "MetadataTooLarge": BadRequestError,
    "MethodNotAllowed": APIError,
    "MissingContentLength": BadRequestError,
    "NoSuchBucket": NotFoundError,
    "NoSuchKey": NotFoundError,
    "NoSuchUpload": NotFoundError,
    "NoSuchVersion": NotFoundError,
    "NotImplemented": APIError,
    "OperationAborted": ConflictError,
    "PermanentRedirect": BadRequestError,
    "PreconditionFailed": PreconditionFailedError,
    "RequestTimeTooSkewed": AuthenticationError,
    "RequestTimeout": RequestTimeoutError,
    "ServiceUnavailable": ServerError,
    "SignatureDoesNotMatch": AuthenticationError,
    "SlowDown": RateLimitError,
    "TemporaryRedirect": BadRequestError,
    "TooManyBuckets": BadRequestError,
    "TooManyParts": BadRequestError,
    "XAmzContentSHA256Mismatch": BadRequestError,
    # HEAD answers carry no body: botocore reports the bare status as the code.
    "404": NotFoundError,
    "403": PermissionDeniedError,
    "412": PreconditionFailedError,
}

STATUS = {
    NotFoundError: 404,
    PermissionDeniedError: 403,
    AuthenticationError: 403,
    ConflictError: 409,
    AlreadyExistsError: 409,
    PreconditionFailedError: 412,
    RateLimitError: 503,
    ServerError: 500,
    BadRequestError: 400,
    APIError: 501,
    RequestTimeoutError: 400,
}


def client_error(code: str, status: int | None, message: str = "message", **extra: Any) -> bexc.ClientError:
    meta: dict[str, Any] = {"RequestId": "REQ123", "HTTPHeaders": {"retry-after": "7"}}
    if status is not None:
        meta["HTTPStatusCode"] = status
    return bexc.ClientError(
        {"Error": {"Code": code, "Message": message, **extra}, "ResponseMetadata": meta}, "GetObject"
    )


def test_every_known_s3_error_is_in_the_table() -> None:
    missing = sorted(set(KNOWN_S3_ERRORS) - set(S3_ERROR_CODES))
    assert not missing, f"S3 error codes without a mapping: {missing}"
    for code, cls in KNOWN_S3_ERRORS.items():
        assert S3_ERROR_CODES[code] is cls, code


@pytest.mark.parametrize("code", sorted(S3_ERROR_CODES))
def test_every_code_in_the_table_maps(code: str) -> None:
    expected = S3_ERROR_CODES[code]
    status = int(code) if code.isdigit() else STATUS.get(expected, 400)
    err = translate(client_error(code, status), "get_bytes")
    assert type(err) is expected, code
    if isinstance(err, APIError):
        assert err.status_code == status
        assert err.code and err.request_id == "REQ123"
    assert pickle.loads(pickle.dumps(err)).args == err.args


def test_bare_head_404_and_status_fallbacks() -> None:
    err = translate(client_error("404", 404, message=""), "stat")
    assert isinstance(err, NotFoundError) and isinstance(err, FileNotFoundError)
    assert err.code == "NotFound" and "not found" in err.message
    assert type(translate(client_error("SomethingNew", 502), "x")) is ServerError
    assert type(translate(client_error("SomethingNew", 418), "x")) is APIError
    assert type(translate(client_error("SomethingNew", 429), "x")) is RateLimitError
    assert type(translate(client_error("SomethingNew", None), "x")) is APIError


def test_retryable_classes_and_retry_after() -> None:
    slow = translate(client_error("SlowDown", 503), "put_bytes")
    assert isinstance(slow, RateLimitError) and slow.retryable and slow.retry_after == 7.0
    assert translate(client_error("InternalError", 500), "x").retryable  # type: ignore[union-attr]
    assert translate(client_error("RequestTimeout", 400), "x").retryable  # type: ignore[union-attr]
    assert not translate(client_error("NoSuchKey", 404), "x").retryable  # type: ignore[union-attr]
    assert not translate(client_error("NotImplemented", 501), "x").retryable  # type: ignore[union-attr]


def _instance(cls: type[BaseException]) -> BaseException:
    if issubclass(cls, bexc.BotoCoreError):
        fields = re.findall(r"{(\w+)}", str(getattr(cls, "fmt", "")))
        return cls(**{f: "http://127.0.0.1:1" for f in fields})
    return cls()


@pytest.mark.parametrize("vendor", [entry[0] for entry in BOTOCORE_ERRORS], ids=lambda c: c.__name__)
def test_every_botocore_error_in_the_table_maps(vendor: type[BaseException]) -> None:
    expected = next(cls for v, cls, _ in BOTOCORE_ERRORS if issubclass(vendor, v))
    err = translate(_instance(vendor), "get_bytes")
    assert type(err) is expected


def test_transport_errors_and_configuration_errors() -> None:
    assert type(translate(bexc.EndpointConnectionError(endpoint_url="http://x"), "x")) is TransportError
    assert type(translate(bexc.ConnectTimeoutError(endpoint_url="http://x"), "x")) is RequestTimeoutError
    assert type(translate(bexc.ReadTimeoutError(endpoint_url="http://x"), "x")) is RequestTimeoutError
    assert type(translate(aiohttp.ServerDisconnectedError(), "x")) is TransportError
    assert type(translate(asyncio.TimeoutError(), "x")) is RequestTimeoutError
    assert type(translate(bexc.NoCredentialsError(), "x")) is ConfigurationError
    assert type(translate(bexc.ParamValidationError(report="bad"), "x")) is ConfigurationError
    assert translate(ValueError("not a vendor error"), "x") is None


def test_no_mapped_error_carries_a_credential() -> None:
    secrets = [SECRET, TOKEN]
    leaky_text = f"key {SECRET} token {TOKEN} aws_secret_access_key={SECRET}"
    for code in S3_ERROR_CODES:
        exc = client_error(
            code,
            404,
            message=leaky_text,
            StringToSign=f"AWS4 {SECRET}",
            CanonicalRequest=f"x-amz-security-token:{TOKEN}",
            AWSAccessKeyId="AKIA",
        )
        err = translate(exc, "get_bytes", secrets=secrets)
        assert err is not None
        rendered = " ".join([str(err), repr(err), str(getattr(err, "body", "")), repr(pickle.dumps(err))])
        assert SECRET not in rendered and TOKEN not in rendered, code
    for vendor, _, _ in BOTOCORE_ERRORS:
        err = translate(_instance(vendor), "x", secrets=secrets)
        assert err is not None and SECRET not in str(err)
    leaky = bexc.EndpointConnectionError(endpoint_url=f"http://h/?X-Amz-Signature=abc&X-Amz-Security-Token={TOKEN}")
    assert TOKEN not in str(translate(leaky, "x"))
