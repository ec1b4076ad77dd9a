"""Coda's error table and the retry rules (429 for any method; 5xx and transport errors
only for GET/PUT/DELETE), on MockTransport."""

from __future__ import annotations

import json
import logging
import pickle
from collections.abc import Callable
from types import TracebackType

import httpx
import pytest

from cloud.coda_io import CodaClient, CodaRateLimits
from cloud.common.exceptions import (
    APIError,
    AuthenticationError,
    BadRequestError,
    CloudError,
    ConflictError,
    GoneError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
)
from cloud.common.retry import RetryPolicy

TOKEN = "secret-token-0123456789"
BASE = "https://coda.example/apis/v1"

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A scripted server: answers (or raises) in order, then repeats the last step."""

    def __init__(self, *steps: httpx.Response | Exception) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps[min(len(self.requests), len(self.steps)) - 1]
        if isinstance(step, Exception):
            raise step
        return step


class Sleeps:
    """An injected sleep that only records (retries never wait for real)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def coda_error(status: int, message: str = "something went wrong", **headers: str) -> httpx.Response:
    reason = {404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error"}.get(status, "Error")
    return httpx.Response(
        status, json={"statusCode": status, "statusMessage": reason, "message": message}, headers=headers
    )


def make_client(handler: Handler, *, sleeps: Sleeps | None = None, attempts: int = 4) -> CodaClient:
    retry = RetryPolicy(max_attempts=attempts, sleep=sleeps or Sleeps(), random=lambda: 0.5)
    return CodaClient(
        api_token=TOKEN,
        base_url=BASE,
        transport=httpx.MockTransport(handler),
        rate_limits=CodaRateLimits.unlimited(),
        retry=retry,
    )


# -- the error table ------------------------------------------------------------------------------

STATUS_ERRORS = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
    (409, ConflictError),
    (410, GoneError),
    (412, PreconditionFailedError),
    (422, BadRequestError),
    (429, RateLimitError),
    (500, ServerError),
    (502, ServerError),
    (503, ServerError),
    (504, ServerError),
    (418, APIError),
]


@pytest.mark.parametrize(("status", "error"), STATUS_ERRORS)
async def test_each_status_raises_its_error(status: int, error: type[APIError]) -> None:
    server = Recorder(coda_error(status, "Doc is gone or never was", **{"x-request-id": "rq-77"}))
    async with make_client(server, attempts=1) as client:
        with pytest.raises(error) as info:
            await client.get_doc("d1")
    err = info.value
    assert type(err) is error
    assert err.status_code == status
    assert "Doc is gone or never was" in str(err)
    assert err.provider == "coda" and err.operation == "get_doc"
    assert err.request_id == "rq-77"
    assert err.body is not None and json.loads(err.body)["statusCode"] == status
    assert isinstance(err.__cause__, httpx.HTTPStatusError)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is error and copy.status_code == status and str(copy) == str(err)


async def test_gone_is_a_not_found_error() -> None:
    async with make_client(Recorder(coda_error(410)), attempts=1) as client:
        with pytest.raises(NotFoundError):
            await client.get_row("d", "t", "r")


async def test_coda_status_message_is_kept_as_code() -> None:
    async with make_client(Recorder(coda_error(404, "No doc with that id")), attempts=1) as client:
        with pytest.raises(NotFoundError) as info:
            await client.get_doc("nope")
    assert info.value.code == "Not Found"
    assert "HTTP 404 Not Found: No doc with that id" in str(info.value)


async def test_html_error_page_from_a_proxy_gives_a_typed_error() -> None:
    page = httpx.Response(502, html="<html><body><h1>502 Bad Gateway</h1></body></html>")
    async with make_client(Recorder(page), attempts=1) as client:
        with pytest.raises(ServerError) as info:
            await client.list_categories()
    assert info.value.status_code == 502
    assert "non-JSON body (text/html)" in str(info.value)
    assert info.value.body and "Bad Gateway" in info.value.body


async def test_empty_error_body_still_gives_a_typed_error() -> None:
    async with make_client(Recorder(httpx.Response(403)), attempts=1) as client:
        with pytest.raises(PermissionDeniedError) as info:
            await client.whoami()
    assert info.value.status_code == 403


async def test_success_with_a_non_json_body_is_a_typed_error() -> None:
    answer = httpx.Response(200, text="<html>login page</html>", headers={"content-type": "text/html"})
    async with make_client(Recorder(answer), attempts=1) as client:
        with pytest.raises(ServerError, match="not JSON"):
            await client.whoami()


async def test_transport_failures_are_typed() -> None:
    async with make_client(Recorder(httpx.ConnectError("connection refused")), attempts=1) as client:
        with pytest.raises(TransportError) as info:
            await client.whoami()
    assert not isinstance(info.value, RequestTimeoutError)
    async with make_client(Recorder(httpx.ReadTimeout("too slow")), attempts=1) as client:
        with pytest.raises(RequestTimeoutError):
            await client.whoami()


async def test_rate_limit_error_carries_retry_after() -> None:
    async with make_client(Recorder(coda_error(429, "slow down", **{"Retry-After": "7"})), attempts=1) as client:
        with pytest.raises(RateLimitError) as info:
            await client.whoami()
    assert info.value.retry_after == 7.0


# -- secrets ---------------------------------------------------------------------------------------


async def test_token_never_appears_in_errors_logs_or_repr(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="cloud")
    echo = coda_error(401, f"token {TOKEN} is not valid; Authorization: Bearer {TOKEN}")
    sleeps = Sleeps()
    server = Recorder(coda_error(503, f"overloaded for {TOKEN}"), echo)
    async with make_client(server, sleeps=sleeps) as client:
        assert TOKEN not in repr(client) and TOKEN not in str(client)
        with pytest.raises(AuthenticationError) as info:
            await client.get_doc("d")
    err = info.value
    for text in (str(err), repr(err), err.message, err.body or "", *map(str, err.args)):
        assert TOKEN not in text
    assert TOKEN not in pickle.dumps(err).decode("latin-1")
    assert len(sleeps.delays) == 1  # the 503 was retried and logged
    assert caplog.records
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in repr(record.__dict__)


async def test_the_token_stays_out_of_a_pickled_error_and_its_cause() -> None:
    # Where tblib's pickling support is installed (Dask does it), an exception is pickled with
    # its __cause__ (here httpx's error, with its request and response) and traceback.
    import copyreg

    from tblib.pickling_support import pickle_exception, pickle_traceback

    echo = coda_error(401, f"token {TOKEN} is not valid; Authorization: Bearer {TOKEN}")
    async with make_client(Recorder(echo)) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.get_doc("d")
    err = info.value
    cause = err.__cause__
    assert cause is not None
    types = [type(err), type(cause), TracebackType]
    saved = {t: copyreg.dispatch_table.get(t) for t in types}
    copyreg.pickle(type(err), pickle_exception)
    copyreg.pickle(type(cause), pickle_exception)
    copyreg.pickle(TracebackType, pickle_traceback)
    try:
        dumped = pickle.dumps(err).decode("latin-1")
    finally:
        for t, reducer in saved.items():
            if reducer is None:
                copyreg.dispatch_table.pop(t, None)
            else:
                copyreg.dispatch_table[t] = reducer
    assert "Authorization" in dumped or "authorization" in dumped  # the cause was pickled...
    assert TOKEN not in dumped  # ...without the token


def test_missing_token_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from cloud.common.exceptions import ConfigurationError

    monkeypatch.delenv("CODA_API_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="CODA_API_TOKEN"):
        CodaClient()
    with pytest.raises(ConfigurationError):
        CodaClient(api_token="   ")


# -- retries ---------------------------------------------------------------------------------------


async def test_post_is_not_replayed_after_a_500() -> None:
    server = Recorder(coda_error(500), httpx.Response(202, json={"requestId": "r"}))
    async with make_client(server) as client:
        with pytest.raises(ServerError):
            await client.upsert_rows("d", "t", rows=[{"cells": []}])
    assert len(server.requests) == 1


async def test_post_is_not_replayed_after_a_lost_connection() -> None:
    server = Recorder(httpx.ReadError("connection reset"), httpx.Response(202, json={"requestId": "r"}))
    async with make_client(server) as client:
        with pytest.raises(TransportError):
            await client.push_button("d", "t", "r", "c")
    assert len(server.requests) == 1


async def test_patch_is_not_retried_after_a_5xx() -> None:
    server = Recorder(coda_error(503), httpx.Response(200, json={}))
    async with make_client(server) as client:
        with pytest.raises(ServerError):
            await client.update_doc("d", title="x")
    assert len(server.requests) == 1


async def test_429_is_retried_for_a_post_honouring_retry_after() -> None:
    sleeps = Sleeps()
    server = Recorder(coda_error(429, **{"Retry-After": "3"}), httpx.Response(202, json={"requestId": "req-9"}))
    async with make_client(server, sleeps=sleeps) as client:
        result = await client.upsert_rows("d", "t", rows=[{"cells": []}])
    assert result.request_id == "req-9"
    assert len(server.requests) == 2
    assert sleeps.delays == [3.0]
    assert server.requests[0].content == server.requests[1].content


async def test_429_without_retry_after_backs_off() -> None:
    sleeps = Sleeps()
    server = Recorder(coda_error(429), coda_error(429), httpx.Response(200, json={"completed": True}))
    async with make_client(server, sleeps=sleeps) as client:
        status = await client.get_mutation_status("r1")
    assert status.completed
    assert sleeps.delays == [0.1, 0.2]  # full jitter with random() = 0.5, base 0.2


@pytest.mark.parametrize(
    ("call", "success"),
    [
        (lambda c: c.get_doc("d"), httpx.Response(200, json={"id": "d"})),
        (lambda c: c.update_row("d", "t", "r", row={"cells": []}), httpx.Response(202, json={"requestId": "r"})),
        (lambda c: c.delete_row("d", "t", "r"), httpx.Response(202, json={"requestId": "r"})),
        (lambda c: c.publish_doc("d"), httpx.Response(202, json={"requestId": "r"})),
    ],
    ids=["GET", "PUT row", "DELETE", "PUT publish"],
)
async def test_safe_methods_are_retried_after_5xx_and_lost_connections(call: Callable, success: httpx.Response) -> None:  # type: ignore[type-arg]
    server = Recorder(coda_error(503), httpx.ConnectError("refused"), coda_error(500), success)
    async with make_client(server) as client:
        await call(client)
    assert len(server.requests) == 4
    assert client.stats.retries == 3


async def test_after_the_last_attempt_the_typed_error_is_raised() -> None:
    server = Recorder(coda_error(503, "still down"))
    async with make_client(server, attempts=3) as client:
        with pytest.raises(ServerError, match="still down"):
            await client.list_categories()
    assert len(server.requests) == 3


async def test_client_errors_are_not_retried() -> None:
    server = Recorder(coda_error(404))
    async with make_client(server) as client:
        with pytest.raises(NotFoundError):
            await client.get_doc("d")
    assert len(server.requests) == 1


async def test_each_retry_is_a_new_request_with_the_same_content() -> None:
    server = Recorder(coda_error(502), httpx.Response(200, json={"id": "x"}))
    async with make_client(server) as client:
        await client.get_table("d", "Tasks", use_updated_table_layouts=True)
    first, second = server.requests
    assert first.url == second.url
    assert first.headers["authorization"] == second.headers["authorization"]


async def test_per_call_timeout_raises_request_timeout_error() -> None:
    import anyio

    async def slow(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(5)
        return httpx.Response(200, json={})

    client = CodaClient(
        api_token=TOKEN,
        base_url=BASE,
        transport=httpx.MockTransport(slow),
        retry=RetryPolicy.disabled(),
    )
    async with client:
        with pytest.raises(RequestTimeoutError):
            await client.whoami(timeout=0.05)


async def test_closed_client_refuses_calls() -> None:
    client = make_client(Recorder(httpx.Response(200, json={})))
    await client.whoami()
    await client.aclose()
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await client.whoami()


def test_error_classes_are_cloud_errors() -> None:
    for _, error in STATUS_ERRORS:
        assert issubclass(error, CloudError)
