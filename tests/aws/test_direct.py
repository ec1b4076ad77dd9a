"""The S3 direct path (:mod:`cloud.aws.direct`) against the client path, on the wire.

A loopback server records every request and answers from a script; each case runs the
same call with the direct path on and off (botocore's clock frozen, so both sign the same
instant) and compares what reached the server (method, path, every header, the body) and
what the call returned or raised.  Then: when the direct path is not used, and that a
redirect answer is handed to the client.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from cloud.aws import S3Client
from cloud.aws import direct as direct_module
from cloud.aws.direct import DirectS3Client, direct_client, signer_class
from cloud.common.exceptions import CloudError
from cloud.common.models import CloudCredentials
from cloud.common.retry import RetryPolicy

pytestmark = [pytest.mark.timeout(60), pytest.mark.asyncio]

KEY = ("AKIADIRECTTEST", "direct-secret-do-not-log")
BUCKET = "direct-bucket"
DATA = b"0123456789" * 100
DATE = "Fri, 04 Dec 2026 21:00:00 GMT"
ETAG = f'"{hashlib.md5(DATA).hexdigest()}"'


@dataclass
class Seen:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Answer = tuple[int, list[tuple[str, str]], bytes]


@dataclass
class Server:
    """A loopback HTTP/1.1 server that records requests and answers with ``answer``."""

    answer: Callable[[Seen], Answer]
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                if headers.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                seen = Seen(method, path, headers, body)
                self.seen.append(seen)
                status, extra, payload = self.answer(seen)
                out = [f"HTTP/1.1 {status} X", f"Content-Length: {len(payload)}", f"Date: {DATE}"]
                out += [f"{k}: {v}" for k, v in extra]
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + (b"" if method == "HEAD" else payload))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def ok_answer(seen: Seen) -> Answer:
    """What S3 answers to each of the four operations on ``DATA``."""
    common = [("ETag", ETAG), ("Last-Modified", DATE), ("x-amz-request-id", "REQ1"), ("x-amz-meta-k", "v")]
    if seen.method == "PUT":
        return 200, [("ETag", f'"{hashlib.md5(seen.body).hexdigest()}"')], b""
    if seen.method == "DELETE":
        return 204, [], b""
    if seen.method == "HEAD":
        return 200, [*common, ("Content-Type", "text/plain")], DATA
    wanted = seen.headers.get("range")
    if wanted:
        low, high = wanted.removeprefix("bytes=").split("-")
        if not low:  # a suffix range
            first, last = max(0, len(DATA) - int(high)), len(DATA) - 1
        else:
            first, last = int(low), min(int(high) if high else len(DATA) - 1, len(DATA) - 1)
        rng = ("Content-Range", f"bytes {first}-{last}/{len(DATA)}")
        return 206, [*common, rng, ("Content-Type", "text/plain")], DATA[first : last + 1]
    return 200, [*common, ("Content-Type", "text/plain")], DATA


@pytest_asyncio.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server(ok_answer)
    listener = await asyncio.start_server(srv.handle, "127.0.0.1", 0)
    srv.url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
    try:
        yield srv
    finally:
        listener.close()


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.auth

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: datetime.datetime(2026, 12, 4, 21, 0, 0))


def _client(url: str, **options: Any) -> S3Client:
    return S3Client(
        endpoint_url=url,
        region="us-east-1",
        credentials=CloudCredentials(access_key_id=KEY[0], secret_access_key=KEY[1]),
        retry=RetryPolicy(max_attempts=1),
        **options,
    )


async def both_ways(
    server: Server, monkeypatch: pytest.MonkeyPatch, call: Callable[[S3Client], Awaitable[Any]]
) -> tuple[list[tuple[Any, list[Seen]]], list[bool]]:
    """``call`` with the direct path on, then off: (result or exception, requests) each."""
    outcomes: list[tuple[Any, list[Seen]]] = []
    used: list[bool] = []
    for direct in (True, False):
        monkeypatch.setattr(direct_module, "ENABLED", direct)
        server.seen.clear()
        async with _client(server.url) as s3:
            used.append(isinstance(await s3._get_client(), DirectS3Client))
            try:
                result: Any = await call(s3)
            except CloudError as exc:
                result = exc
        outcomes.append((result, list(server.seen)))
    return outcomes, used


def _normal(seen: Seen) -> tuple[str, str, dict[str, str], bytes]:
    headers = dict(seen.headers)
    invocation = headers.pop("amz-sdk-invocation-id")
    assert len(invocation) == 36 and invocation.count("-") == 4
    agent = headers["user-agent"].split(" ")
    # botocore writes the feature set in its set iteration order
    headers["user-agent"] = " ".join(
        ("m/" + ",".join(sorted(part[2:].split(","))) if part.startswith("m/") else part) for part in agent
    )
    return seen.method, seen.path, headers, seen.body


def assert_same(outcomes: list[tuple[Any, list[Seen]]]) -> None:
    (direct, direct_seen), (client, client_seen) = outcomes
    assert [_normal(s) for s in direct_seen] == [_normal(s) for s in client_seen]
    if isinstance(client, BaseException):
        assert type(direct) is type(client)
        assert str(direct) == str(client)
        for attribute in ("status_code", "code", "request_id", "body"):
            assert getattr(direct, attribute, None) == getattr(client, attribute, None)
    else:
        assert direct == client


CALLS: dict[str, Callable[[S3Client], Awaitable[Any]]] = {
    "put_bytes": lambda s3: s3.put_bytes(
        BUCKET, "dir/a b+c~d", DATA, content_type="text/plain", metadata={"Owner": "me", "k": "v"}
    ),
    "put_bytes_if_none_match": lambda s3: s3.put_bytes(BUCKET, "k", DATA, if_none_match="*"),
    "put_bytes_if_match": lambda s3: s3.put_bytes(BUCKET, "k", b"", if_match="abc"),
    "get_bytes": lambda s3: s3.get_bytes(BUCKET, "dir/ü é"),
    "get_bytes_range": lambda s3: s3.get_bytes(BUCKET, "k", start=3, end=40),
    "get_bytes_suffix": lambda s3: s3.get_bytes(BUCKET, "k", start=-5),
    "stat": lambda s3: s3.stat(BUCKET, "k"),
    "delete_object": lambda s3: s3.delete_object(BUCKET, "k"),
}


@pytest.mark.parametrize("name", CALLS)
async def test_direct_requests_and_answers_equal_the_client_path(
    server: Server, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    outcomes, used = await both_ways(server, monkeypatch, CALLS[name])
    assert used == [True, False]
    assert len(outcomes[0][1]) == 1
    assert "authorization" in outcomes[0][1][0].headers
    assert_same(outcomes)


async def test_direct_open_with_version_and_download_equal_the_client_path(
    server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async def read(s3: S3Client) -> tuple[bytes, bytes]:
        async with s3.open(BUCKET, "k", start=10) as reader:
            got = b"".join([chunk async for chunk in reader])
        target = tmp_path / "out"
        await s3.download_file(BUCKET, "k", target)
        return got, target.read_bytes()

    outcomes, used = await both_ways(server, monkeypatch, read)
    assert used == [True, False]
    assert outcomes[0][0] == (DATA[10:], DATA)
    assert_same(outcomes)


ERRORS: dict[str, Answer] = {
    "no_such_key": (
        404,
        [("x-amz-request-id", "R404")],
        b"<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>",
    ),
    "no_such_bucket": (404, [], b"<Error><Code>NoSuchBucket</Code><Message>no bucket</Message></Error>"),
    "access_denied": (403, [], b"<Error><Code>AccessDenied</Code><Message>no</Message></Error>"),
    "signature": (
        403,
        [],
        b"<Error><Code>SignatureDoesNotMatch</Code><Message>bad</Message>"
        b"<StringToSign>AWS4-HMAC-SHA256 secret stuff</StringToSign></Error>",
    ),
    "precondition": (412, [], b"<Error><Code>PreconditionFailed</Code><Message>etag</Message></Error>"),
    "slow_down": (503, [("Retry-After", "1")], b"<Error><Code>SlowDown</Code><Message>slow</Message></Error>"),
    "internal": (500, [], b"<Error><Code>InternalError</Code><Message>oops</Message></Error>"),
    "bare_500": (500, [], b""),
    "not_xml": (502, [], b"<html>bad gateway</html>"),
    "unknown_code": (409, [], b"<Error><Code>SomethingNew</Code><Message>new</Message></Error>"),
}


@pytest.mark.parametrize("answer", ERRORS)
@pytest.mark.parametrize("name", ["put_bytes", "get_bytes", "stat", "delete_object"])
async def test_direct_errors_equal_the_client_path(
    server: Server, monkeypatch: pytest.MonkeyPatch, name: str, answer: str
) -> None:
    server.answer = lambda seen: ERRORS[answer]
    outcomes, _ = await both_ways(server, monkeypatch, CALLS[name])
    assert isinstance(outcomes[0][0], CloudError)
    assert KEY[1] not in str(outcomes[0][0]) and KEY[1] not in repr(outcomes[0][0].body)  # type: ignore[attr-defined]
    assert_same(outcomes)


async def test_a_redirect_is_handed_to_the_client(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    moved = b"<Error><Code>PermanentRedirect</Code><Message>elsewhere</Message></Error>"
    server.answer = lambda seen: (301, [("x-amz-bucket-region", "us-east-1")], moved)
    sent: list[str] = []
    original = DirectS3Client._by_client

    async def handed(self: DirectS3Client, method: str, params: Any) -> dict[str, Any]:
        sent.append(method)
        return await original(self, method, params)

    monkeypatch.setattr(DirectS3Client, "_by_client", handed)
    outcomes, used = await both_ways(server, monkeypatch, CALLS["get_bytes"])
    assert used == [True, False]
    assert sent == ["get_object"]
    direct, client = outcomes[0][0], outcomes[1][0]
    assert type(direct) is type(client) and str(direct) == str(client)
    assert len(outcomes[0][1]) == len(outcomes[1][1]) + 1  # the direct try, then the client's


async def test_a_parameter_outside_the_table_goes_to_the_client(server: Server) -> None:
    async with _client(server.url) as s3:
        raw = await s3._get_client()
        assert isinstance(raw, DirectS3Client)
        sent: list[str] = []
        original = raw._send

        async def counted(*args: Any, **kwargs: Any) -> dict[str, Any]:
            sent.append(args[0])
            return await original(*args, **kwargs)

        raw._send = counted  # type: ignore[method-assign]
        await raw.head_object(Bucket=BUCKET, Key="k", PartNumber=1)
        assert sent == []
        await raw.head_object(Bucket=BUCKET, Key="k")
        assert sent == ["head_object"]
    assert [s.method for s in server.seen] == ["HEAD", "HEAD"]


async def test_direct_path_is_not_used_where_it_does_not_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    async with S3Client(
        region="eu-west-1", credentials=CloudCredentials(access_key_id="a", secret_access_key="b")
    ) as aws:
        assert not isinstance(await aws._get_client(), DirectS3Client)  # AWS: the client's checksums, redirects
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "f")
    async with _client("http://127.0.0.1:9") as lambda_:
        assert not isinstance(await lambda_._get_client(), DirectS3Client)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    async with _client("http://127.0.0.1:9") as plain:
        raw = await plain._get_client()
        assert isinstance(raw, DirectS3Client)
        assert KEY[1] not in repr(raw)
        real = raw.client
        assert await direct_client(real, aws=True, endpoint_url="http://127.0.0.1:9") is real
        real.meta.config.proxies = {"http": "http://127.0.0.1:8"}
        assert await direct_client(real, aws=False, endpoint_url="http://127.0.0.1:9") is real


async def test_refreshable_credentials_keep_the_client_path() -> None:
    async with _client("http://127.0.0.1:9") as s3:
        raw = await s3._get_client()
        real = raw.client
        from aiobotocore.credentials import AioRefreshableCredentials

        refreshing = AioRefreshableCredentials(
            KEY[0], KEY[1], None, datetime.datetime.now(datetime.timezone.utc), None, "test"
        )
        monkey = real._request_signer._credentials
        real._request_signer._credentials = refreshing
        try:
            assert await direct_client(real, aws=False, endpoint_url="http://127.0.0.1:9") is real
        finally:
            real._request_signer._credentials = monkey


async def test_signer_equals_botocores_signer() -> None:
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import ReadOnlyCredentials

    credentials = ReadOnlyCredentials(KEY[0], KEY[1], "session-token")
    cached = signer_class()(credentials, "s3", "eu-central-1")
    for day in (4, 4, 5):  # the cached key, then a new day
        for url, headers, body in [
            ("http://h:1/b/k%20x", {"Content-MD5": "abc==", "x-amz-meta-a": "b", "If-None-Match": "*"}, b"data"),
            ("https://h/b/k", {"Range": "bytes=0-9"}, None),
            ("https://h/b/k", {"Content-MD5": "abc=="}, b"x" * 100),
        ]:
            signed = []
            for signer in (S3SigV4Auth(credentials, "s3", "eu-central-1"), cached):
                request = AWSRequest(method="PUT" if body is not None else "GET", url=url, headers=headers, data=body)
                request.context["has_streaming_input"] = body is not None
                with pytest.MonkeyPatch.context() as patch:
                    import botocore.auth

                    patch.setattr(
                        botocore.auth, "get_current_datetime", lambda day=day: datetime.datetime(2026, 12, day)
                    )
                    signer.add_auth(request)
                signed.append(dict(request.headers.items()))
            assert signed[0] == signed[1]
            assert "Signature=" in signed[0]["Authorization"]
