"""scrub_exception on httpx errors (the Coda client and the Google REST clients' vendor)."""

from __future__ import annotations

import httpx
import pytest

from cloud.common.exceptions import APIError, CloudError, TransportError
from cloud.common.redaction import scrub_exception
from tests.common.cause_secrets import assert_no_secret

TOKEN = "secret-token-0123456789abcdef"
SIG = "c2lnbmF0dXJl%2Bc2VjcmV0%3D"


def _client(handler: httpx.MockTransport) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=handler, headers={"Authorization": f"Bearer {TOKEN}"})


def _raise_from(error: CloudError, cause: BaseException) -> CloudError:
    try:
        raise error from cause
    except CloudError as raised:
        return raised


async def test_status_error_keeps_no_token_in_request_or_echoed_body() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(401, text=f"bad token {TOKEN}"))
    async with _client(transport) as client:
        response = await client.get(f"https://api.example.com/x?sig={SIG}&sv=1")
        with pytest.raises(httpx.HTTPStatusError) as caught:
            response.raise_for_status()
    exc = caught.value
    scrub_exception(exc, [TOKEN])
    assert exc.request.headers["authorization"] == "***"
    assert "sig=***" in str(exc.request.url) and exc.response.request is exc.request
    assert TOKEN not in exc.response.text
    assert_no_secret(_raise_from(APIError("HTTP 401"), exc), [TOKEN, SIG], cause_type=httpx.HTTPStatusError)


async def test_transport_error_keeps_no_token() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused {request.url}", request=request)

    async with _client(httpx.MockTransport(refuse)) as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.get(f"https://api.example.com/x?sig={SIG}")
    exc = caught.value
    scrub_exception(exc)  # no known secret: found in the request's header and query
    assert_no_secret(_raise_from(TransportError("no answer"), exc), [TOKEN, SIG], cause_type=httpx.ConnectError)


def test_exception_of_no_known_shape_is_left_alone() -> None:
    exc = ValueError("plain")
    scrub_exception(exc, ["unrelated"])
    assert exc.args == ("plain",)
