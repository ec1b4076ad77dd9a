"""The Azure error table: every listed code, status and exception class maps, and no message
carries a credential."""

from __future__ import annotations

import inspect
import pickle
from typing import Any

import azure.core.exceptions as core_exceptions
import pytest
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.identity import AuthenticationRequiredError, CredentialUnavailableError
from azure.storage.blob import PartialBatchErrorException

from cloud.azure import AzureBlobClient
from cloud.azure.errors import ERROR_CODES, EXCEPTION_CLASSES, STATUS_CODES, translate
from cloud.common.exceptions import (
    APIError,
    AuthenticationError,
    CloudError,
    IntegrityError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
)
from tests.emulators import AZURITE_KEY


class FakeResponse:
    """Just enough of an azure-core response for HttpResponseError."""

    def __init__(self, status: int, headers: dict[str, str] | None = None, reason: str = "Reason") -> None:
        self.status_code = status
        self.reason = reason
        self.headers = headers or {}
        self.request = None

    def text(self) -> str:
        return ""


def http_error(
    status: int,
    code: str | None = None,
    message: str = "Something happened.\nRequestId:abc\nTime:2026-01-01",
    cls: type[HttpResponseError] = HttpResponseError,
    headers: dict[str, str] | None = None,
) -> HttpResponseError:
    all_headers = {"x-ms-request-id": "req-1", **(headers or {})}
    if code:
        all_headers["x-ms-error-code"] = code
    exc = cls(message=message, response=FakeResponse(status, all_headers))  # type: ignore[arg-type]
    if code:
        exc.error_code = code
    return exc


STATUS_FOR = {
    NotFoundError: 404,
    PermissionDeniedError: 403,
    AuthenticationError: 403,
    RateLimitError: 503,
    ServerError: 500,
}


@pytest.mark.parametrize("code", sorted(ERROR_CODES))
def test_every_listed_error_code_maps(code: str) -> None:
    expected = ERROR_CODES[code]
    status = STATUS_FOR.get(expected, expected.default_status or 400)
    err = translate(http_error(status, code), "op")
    assert type(err) is expected, (code, type(err))
    assert isinstance(err, APIError)
    assert err.code == code and err.status_code == status and err.request_id == "req-1"
    assert code in str(err)


@pytest.mark.parametrize("status", sorted(STATUS_CODES))
def test_every_listed_status_maps(status: int) -> None:
    err = translate(http_error(status), "op")
    assert type(err) is STATUS_CODES[status]
    assert isinstance(err, APIError) and err.status_code == status


def test_unlisted_statuses() -> None:
    assert type(translate(http_error(507), "op")) is ServerError
    err = translate(http_error(418), "op")
    assert type(err) is APIError and err.status_code == 418


def make(vendor: type[BaseException]) -> BaseException:
    """An instance of an Azure exception class, whatever its constructor wants."""
    for args, kwargs in [(("boom",), {}), ((FakeResponse(200),), {}), (("boom",), {"scopes": ["s"]})]:
        try:
            return vendor(*args, **kwargs)
        except (TypeError, AttributeError):
            continue
    raise AssertionError(f"cannot build {vendor}")


@pytest.mark.parametrize("vendor", list(EXCEPTION_CLASSES), ids=lambda c: c.__name__)
def test_every_listed_exception_class_maps(vendor: type[BaseException]) -> None:
    err = translate(make(vendor), "op")
    assert err is not None
    assert isinstance(err, EXCEPTION_CLASSES[vendor])


def _azure_exception_classes() -> list[type[BaseException]]:
    found: list[type[BaseException]] = []
    for _, obj in inspect.getmembers(core_exceptions, inspect.isclass):
        if issubclass(obj, AzureError) or obj.__name__ in ("SerializationError", "DeserializationError"):
            found.append(obj)
    return [*found, CredentialUnavailableError, AuthenticationRequiredError]


@pytest.mark.parametrize("vendor", _azure_exception_classes(), ids=lambda c: c.__name__)
def test_no_azure_exception_class_is_left_unmapped(vendor: type[BaseException]) -> None:
    err = translate(make(vendor), "op")
    assert isinstance(err, CloudError), vendor


def test_partial_batch_error_maps_by_status() -> None:
    exc = PartialBatchErrorException("partial", FakeResponse(202), [])  # type: ignore[arg-type]
    assert isinstance(translate(exc, "delete_objects"), CloudError)


def test_non_azure_exceptions_are_not_translated() -> None:
    assert translate(ValueError("x"), "op") is None
    assert translate(OSError("x"), "op") is None


def test_transport_and_timeouts() -> None:
    assert type(translate(ServiceRequestError("connect refused"), "op")) is TransportError
    assert type(translate(ServiceResponseError("reset"), "op")) is TransportError
    assert type(translate(core_exceptions.ServiceResponseTimeoutError("slow"), "op")) is RequestTimeoutError
    assert translate(ServiceRequestError("x"), "op").retryable  # type: ignore[union-attr]


def test_missing_blob_and_container_are_not_found() -> None:
    head = http_error(
        404,
        "BlobNotFound",
        "Operation returned an invalid status 'The specified blob does not exist.'",
        cls=ResourceNotFoundError,
    )
    err = translate(head, "stat")
    assert isinstance(err, NotFoundError) and isinstance(err, FileNotFoundError)
    assert err.message == "The specified blob does not exist. (HTTP 404, BlobNotFound)"
    assert isinstance(translate(http_error(404, "ContainerNotFound", cls=ResourceNotFoundError), "x"), NotFoundError)
    exists = translate(http_error(409, "ContainerAlreadyExists", cls=ResourceExistsError), "x")
    assert exists is not None and exists.code == "ContainerAlreadyExists"


def test_bad_key_is_authentication_error_on_azurite_and_on_azure() -> None:
    azurite = http_error(
        403,
        "AuthorizationFailure",
        "Server failed to authenticate the request. Make sure the value of the Authorization header is formed "
        "correctly including the signature.\nRequestId:1",
    )
    azure = http_error(
        403,
        "AuthenticationFailed",
        "Server failed to authenticate the request.\nRequestId:1\nauthenticationerrordetail:The MAC signature "
        "found in the HTTP request 'c2lnbmF0dXJl' is not the same as any computed signature.",
    )
    for exc in (azurite, azure):
        err = translate(exc, "stat")
        assert type(err) is AuthenticationError
        assert err.status_code == 403
        assert "MAC signature" not in str(err)
    # A real permission problem (firewall, SAS without the permission) stays a 403.
    denied = translate(
        http_error(403, "AuthorizationFailure", "This request is not authorized to perform this operation."), "x"
    )
    assert type(denied) is PermissionDeniedError
    no_response = translate(ClientAuthenticationError("token request failed"), "x")
    assert type(no_response) is AuthenticationError
    assert type(translate(CredentialUnavailableError("no credential in the chain"), "x")) is AuthenticationError


def test_throttling_is_retryable_with_retry_after() -> None:
    err = translate(http_error(429, headers={"Retry-After": "7"}), "op")
    assert isinstance(err, RateLimitError) and err.retry_after == 7.0 and err.retryable
    busy = translate(http_error(503, "ServerBusy"), "op")
    assert isinstance(busy, RateLimitError) and busy.status_code == 503


def test_mapped_messages_carry_no_credential() -> None:
    sas = "sv=2024-01-01&sr=b&sp=r&sig=c2VjcmV0c2lnbmF0dXJl"
    connection_string = f"AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};BlobEndpoint=http://127.0.0.1:9/a"
    runner = AzureBlobClient(connection_string=connection_string)._runner
    nasty = [
        http_error(400, "InvalidInput", f"Bad AccountKey={AZURITE_KEY} here"),
        http_error(403, "AuthorizationFailure", f"Server failed to authenticate https://a/b?{sas}"),
        http_error(500, None, f"echo {AZURITE_KEY}"),
        ServiceRequestError(f"cannot connect to https://a.blob.core.windows.net/c?{sas}"),
        HttpResponseError(f"conn {connection_string}"),
        ClientAuthenticationError(f"token for key {AZURITE_KEY} refused"),
    ]
    for exc in nasty:
        err = runner.to_cloud_error(exc, "op")
        assert err is not None
        text = f"{err} {err.args} {getattr(err, 'body', '')}"
        assert AZURITE_KEY not in text
        assert "c2VjcmV0c2lnbmF0dXJl" not in text
        assert "AccountKey=Eby8" not in text


def test_mapped_errors_pickle() -> None:
    for exc in (
        http_error(404, "BlobNotFound"),
        http_error(429, headers={"Retry-After": "2"}),
        ServiceRequestError("x"),
    ):
        err = translate(exc, "op")
        assert err is not None
        copy: Any = pickle.loads(pickle.dumps(err))
        assert type(copy) is type(err) and str(copy) == str(err)


@pytest.mark.parametrize("code", ["Md5Mismatch", "Crc64Mismatch"])
def test_a_body_the_service_received_corrupted_is_a_retryable_integrity_error(code: str) -> None:
    err = translate(http_error(400, code), "put_bytes")
    assert type(err) is IntegrityError and err.retryable
