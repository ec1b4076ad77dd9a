"""The GCS error table: every listed status, reason and transport error maps, with real
GCS JSON bodies and the emulator's empty ones, and no message carries a credential."""

from __future__ import annotations

import asyncio
import json
import pickle
import socket
import ssl
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from cloud.common.exceptions import (
    AlreadyExistsError,
    APIError,
    AuthenticationError,
    CloudError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
)
from cloud.common.retry import RetryPolicy
from cloud.gcp import GCSClient
from cloud.gcp.errors import (
    REASON_ERRORS,
    STATUS_ERRORS,
    TRANSPORT_ERRORS,
    ChecksumMismatchError,
    error_from_response,
    translate,
)

SECRET_TOKEN = "ya29.a0AfH6SMBx-very-secret-token"


def response_error(
    status: int,
    body: str = "",
    *,
    headers: dict[str, str] | None = None,
    url: str = "https://storage.googleapis.com/storage/v1/b/bkt/o/obj",
    reason: str = "Reason",
) -> aiohttp.ClientResponseError:
    """The exception gcloud-aio raises: ``message=f"{reason}: {body}"``."""
    info = aiohttp.RequestInfo(URL(url), "GET", CIMultiDictProxy(CIMultiDict()), URL(url))
    return aiohttp.ClientResponseError(
        info, (), status=status, message=f"{reason}: {body}", headers=CIMultiDictProxy(CIMultiDict(headers or {}))
    )


def gcs_body(status: int, reason: str, message: str = "details") -> str:
    return json.dumps(
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"domain": "global", "reason": reason, "message": message}],
            }
        }
    )


@pytest.mark.parametrize("status", sorted(STATUS_ERRORS))
def test_every_status_maps_with_json_and_with_empty_body(status: int) -> None:
    expected = STATUS_ERRORS[status]
    for body in ("", json.dumps({"error": {"code": status, "message": "real GCS says why"}})):
        err = translate(response_error(status, body, headers={"X-GUploader-UploadID": "up-1"}), "stat")
        assert type(err) is expected, (status, body, err)
        assert isinstance(err, APIError) and err.status_code == status and err.request_id == "up-1"
        assert ("real GCS says why" in err.message) == bool(body)
        assert pickle.loads(pickle.dumps(err)).status_code == status


@pytest.mark.parametrize("reason", sorted(REASON_ERRORS))
def test_every_reason_maps(reason: str) -> None:
    status = 503 if REASON_ERRORS[reason] is ServerError else 403
    err = translate(response_error(status, gcs_body(status, reason)), "stat")
    assert type(err) is REASON_ERRORS[reason]
    assert isinstance(err, APIError) and err.code == reason


def test_unlisted_statuses_fall_back_by_class() -> None:
    assert type(translate(response_error(507), "stat")) is ServerError
    # the one status table of cloud.common.exceptions: an unlisted 4xx is a plain APIError
    assert type(translate(response_error(418), "stat")) is APIError


def _transport_instances() -> list[BaseException]:
    key = aiohttp.client_reqrep.ConnectionKey("h", 443, True, True, None, None, None)
    return [
        aiohttp.ServerTimeoutError("read timed out"),
        asyncio.TimeoutError(),
        aiohttp.InvalidURL("not a url"),
        aiohttp.NonHttpUrlClientError("ftp://x"),
        aiohttp.ClientConnectorError(key, OSError(111, "Connection refused")),
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientOSError(104, "Connection reset by peer"),
        aiohttp.ClientConnectorCertificateError(key, ssl.SSLCertVerificationError("bad cert")),
        aiohttp.ClientPayloadError("Response payload is not completed"),
        aiohttp.ClientError("generic"),
        json.JSONDecodeError("Expecting value", "<html>", 0),
    ]


def test_every_transport_entry_maps() -> None:
    instances = _transport_instances()
    for vendor, ours in TRANSPORT_ERRORS:
        # A sample of exactly this class when there is one (the catch-all rows have none).
        sample = next((e for e in instances if type(e) is vendor), None) or next(
            e for e in instances if isinstance(e, vendor)
        )
        assert isinstance(translate(sample, "stat"), ours), vendor
    for exc in instances:
        assert isinstance(translate(exc, "stat"), CloudError), exc
    assert type(translate(aiohttp.ServerDisconnectedError(), "stat")) is TransportError
    assert type(translate(aiohttp.ServerTimeoutError(), "stat")) is RequestTimeoutError
    assert type(translate(aiohttp.InvalidURL("x"), "stat")).__name__ == "ConfigurationError"


def test_non_vendor_errors_pass_through() -> None:
    assert translate(ValueError("mine"), "stat") is None
    assert translate(OSError("disk"), "upload_stream") is None
    assert translate(KeyError("k"), "stat") is None


def test_special_cases() -> None:
    err = translate(response_error(429, gcs_body(429, "rateLimitExceeded"), headers={"Retry-After": "7"}), "put_bytes")
    assert isinstance(err, RateLimitError) and err.retry_after == 7.0 and err.retryable
    # A 403 "rateLimitExceeded" is throttling, not a permission problem.
    assert isinstance(translate(response_error(403, gcs_body(403, "rateLimitExceeded")), "stat"), RateLimitError)
    # Creating a bucket somebody else owns.
    taken = translate(
        response_error(409, gcs_body(409, "conflict", "The requested bucket name is not available.")), "ensure_bucket"
    )
    assert type(taken) is AlreadyExistsError
    assert type(translate(response_error(409, gcs_body(409, "conflict")), "delete_bucket")) is ConflictError
    # GCS (and the emulator) refusing a hash we sent with the data.
    refused = gcs_body(400, "invalid", 'Provided CRC32C "AAAAAA==" doesn\'t match calculated CRC32C "4waSgw==".')
    assert isinstance(translate(response_error(400, refused), "put_bytes"), ChecksumMismatchError)
    # A token endpoint failure is an authentication problem whatever its status.
    oauth = json.dumps({"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
    bad_token = translate(response_error(400, oauth, url="https://oauth2.googleapis.com/token"), "stat")
    assert isinstance(bad_token, AuthenticationError) and "invalid_grant" in bad_token.message
    assert isinstance(translate(response_error(404), "stat"), NotFoundError)
    assert isinstance(translate(response_error(404), "stat"), FileNotFoundError)


def test_no_credential_in_messages() -> None:
    leaky = gcs_body(401, "authError", f"Invalid Credentials: Bearer {SECRET_TOKEN}")
    err = translate(response_error(401, leaky), "stat")
    assert isinstance(err, AuthenticationError)
    assert SECRET_TOKEN not in str(err) and SECRET_TOKEN not in (err.body or "")
    signed = error_from_response(403, f"https://h/b/o?X-Goog-Signature=deadbeef{SECRET_TOKEN}&x=1", {})
    assert SECRET_TOKEN not in str(signed) and SECRET_TOKEN not in (signed.body or "")
    for exc in _transport_instances():
        err2 = translate(exc, "stat")
        assert err2 is not None and SECRET_TOKEN not in str(err2)


async def _stalled_server() -> tuple[asyncio.AbstractServer, int, list[asyncio.StreamWriter]]:
    writers: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)  # read nothing, answer nothing

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], writers


@pytest.fixture
async def stalled() -> AsyncIterator[str]:
    server, port, writers = await _stalled_server()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_timeouts_and_refused_connections_through_the_client(stalled: str) -> None:
    async with GCSClient(api_root=stalled, timeout=0.2, retry=RetryPolicy.disabled()) as client:
        with pytest.raises(RequestTimeoutError) as caught:
            await client.stat("bucket-a", "x")
        assert caught.value.provider == "gcp" and caught.value.operation == "stat"
        assert isinstance(caught.value, TimeoutError)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    retry = RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0)
    async with GCSClient(api_root=f"http://127.0.0.1:{closed_port}", retry=retry) as client:
        with pytest.raises(TransportError) as refused:
            await client.get_bytes("bucket-a", "x")
        assert client.stats.retries == 1 and refused.value.retryable


def test_error_from_response_handles_odd_bodies() -> None:
    for body in ("", "<html>oops</html>", "{not json", json.dumps(["list"]), json.dumps({"error": 5})):
        err: Any = error_from_response(500, body, {})
        assert isinstance(err, ServerError) and err.status_code == 500
