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
from cloud.aws.direct import DirectS3Client, _aio_body_classes, direct_client, signer_class
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
        assert isinstance(await aws._get_client(), DirectS3Client)  # AWS too (its checksums mirrored)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "f")
    async with _client("http://127.0.0.1:9") as lambda_:
        assert not isinstance(await lambda_._get_client(), DirectS3Client)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    async with _client("http://127.0.0.1:9") as plain:
        raw = await plain._get_client()
        assert isinstance(raw, DirectS3Client)
        assert KEY[1] not in repr(raw)
        real = raw.client
        assert isinstance(await direct_client(real, endpoint_url=None), DirectS3Client)
        real.meta.config.proxies = {"http": "http://127.0.0.1:8"}
        assert await direct_client(real, endpoint_url="http://127.0.0.1:9") is real


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


# -- AWS endpoints: requests recorded as aiohttp is handed them, answered on loopback ------


@dataclass
class Handed:
    """One request as the aiohttp session was handed it (the URL before it is sent to the
    loopback server instead) and as the server read it."""

    method: str
    url: str
    headers: dict[str, str]
    wire: Seen | None = None


@dataclass
class AwsRecorder:
    """Sends every request of every aiohttp session to the loopback server ``server``,
    recording the URL and headers each path handed aiohttp."""

    server: Server
    handed: list[Handed] = field(default_factory=list)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import aiohttp
        from yarl import URL

        original = aiohttp.ClientSession.request
        recorder = self

        def request(session: Any, method: str, url: Any = None, **kwargs: Any) -> Any:
            target = URL(str(url), encoded=True)
            headers = {str(k).lower(): str(v) for k, v in (kwargs.get("headers") or {}).items()}
            recorder.handed.append(Handed(method, str(target), headers))
            local = URL(recorder.server.url + target.raw_path_qs, encoded=True)
            return original(session, method, local, **kwargs)

        monkeypatch.setattr(aiohttp.ClientSession, "request", request)

    def requests(self) -> list[Handed]:
        """Each handed request with what the server read for it."""
        for handed, seen in zip(self.handed, self.server.seen, strict=True):
            handed.wire = seen
        return list(self.handed)


def _aws_normal(handed: Handed) -> tuple[str, str, dict[str, str], dict[str, str], bytes]:
    assert handed.wire is not None
    method, _path, wire, body = _normal(handed.wire)
    wire.pop("host")
    headers = dict(handed.headers)
    headers.pop("amz-sdk-invocation-id")
    headers["user-agent"] = wire["user-agent"]
    return method, handed.url, headers, wire, body


def crc32_b64(data: bytes) -> str:
    import base64
    import zlib

    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def aws_answer(seen: Seen) -> Answer:
    """``ok_answer`` with the CRC32 S3 stored for whole-object answers, as S3 sends it
    when asked with ``x-amz-checksum-mode: ENABLED``."""
    status, headers, payload = ok_answer(seen)
    if seen.method == "GET" and status == 200 and seen.headers.get("x-amz-checksum-mode") == "ENABLED":
        headers = [*headers, ("x-amz-checksum-crc32", crc32_b64(DATA)), ("x-amz-checksum-type", "FULL_OBJECT")]
    return status, headers, payload


def _aws_client(**options: Any) -> S3Client:
    return S3Client(
        region="eu-central-1",
        credentials=CloudCredentials(access_key_id=KEY[0], secret_access_key=KEY[1]),
        retry=RetryPolicy(max_attempts=1),
        **options,
    )


async def aws_both_ways(
    server: Server,
    monkeypatch: pytest.MonkeyPatch,
    call: Callable[[S3Client], Awaitable[Any]],
    prepare: Callable[[Any], None] | None = None,
) -> tuple[list[tuple[Any, list[Handed]]], list[bool]]:
    """``call`` on an AWS-region client with the direct path on, then off."""
    outcomes: list[tuple[Any, list[Handed]]] = []
    used: list[bool] = []
    for direct in (True, False):
        monkeypatch.setattr(direct_module, "ENABLED", direct)
        server.seen.clear()
        recorder = AwsRecorder(server)
        with pytest.MonkeyPatch.context() as patch:
            recorder.install(patch)
            async with _aws_client() as s3:
                raw = await s3._get_client()
                used.append(isinstance(raw, DirectS3Client))
                if prepare is not None:
                    prepare(raw.client if isinstance(raw, DirectS3Client) else raw)
                try:
                    result: Any = await call(s3)
                except CloudError as exc:
                    result = exc
        outcomes.append((result, recorder.requests()))
    return outcomes, used


def assert_same_aws(outcomes: list[tuple[Any, list[Handed]]], *, skip_direct: int = 0) -> None:
    (direct, direct_handed), (client, client_handed) = outcomes
    assert len(direct_handed) - skip_direct == len(client_handed)
    for one, other in zip(direct_handed[skip_direct:], client_handed, strict=True):
        for mine, theirs in zip(_aws_normal(one), _aws_normal(other), strict=True):
            assert mine == theirs
    if isinstance(client, BaseException):
        assert type(direct) is type(client)
        assert str(direct) == str(client)
        for attribute in ("status_code", "code", "request_id", "body"):
            assert getattr(direct, attribute, None) == getattr(client, attribute, None)
    else:
        assert direct == client


@pytest.mark.parametrize("name", CALLS)
async def test_aws_direct_requests_and_answers_equal_the_client_path(
    server: Server, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    server.answer = aws_answer
    outcomes, used = await aws_both_ways(server, monkeypatch, CALLS[name])
    assert used == [True, False]
    (handed,) = outcomes[0][1]
    assert handed.url.startswith(f"https://{BUCKET}.s3.eu-central-1.amazonaws.com/")
    if name.startswith("put"):
        assert handed.headers["x-amz-checksum-crc32"]  # the CRC32 the S3 client passes on AWS
        assert "FLEXIBLE_CHECKSUMS_REQ_CRC32" and " m/" in handed.wire.headers["user-agent"]  # type: ignore[union-attr]
    if name.startswith("get"):
        assert handed.headers["x-amz-checksum-mode"] == "ENABLED"  # botocore adds it to every GetObject
    assert_same_aws(outcomes)


async def test_aws_stream_and_download_verify_the_checksum_as_the_client_does(
    server: Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    server.answer = aws_answer
    bodies: list[str] = []

    async def read(s3: S3Client) -> tuple[bytes, bytes, bytes]:
        raw = await s3._get_client()
        answer = await raw.get_object(Bucket=BUCKET, Key="k", ChecksumMode="ENABLED")
        bodies.append(type(answer["Body"]).__name__)
        whole = await answer["Body"].read()
        async with s3.open(BUCKET, "k") as reader:
            got = b"".join([chunk async for chunk in reader])
        target = tmp_path / "out"
        await s3.download_file(BUCKET, "k", target)
        return whole, got, target.read_bytes()

    outcomes, used = await aws_both_ways(server, monkeypatch, read)
    assert used == [True, False]
    assert outcomes[0][0] == (DATA, DATA, DATA)
    checked = _aio_body_classes()[1].__name__  # AioStreamingChecksumBody (StreamingChecksumBody in 2.x)
    assert bodies == [checked, checked]
    assert_same_aws(outcomes)


@pytest.mark.parametrize("name", ["get_bytes", "open", "get_object"])
async def test_aws_checksum_mismatch_fails_as_on_the_client_path(
    server: Server, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    def corrupted(seen: Seen) -> Answer:
        status, headers, payload = aws_answer(seen)
        return status, [(k, crc32_b64(b"other") if k == "x-amz-checksum-crc32" else v) for k, v in headers], payload

    server.answer = corrupted

    async def call(s3: S3Client) -> Any:
        if name == "get_bytes":
            return await s3.get_bytes(BUCKET, "k")
        if name == "open":
            async with s3.open(BUCKET, "k") as reader:
                return b"".join([chunk async for chunk in reader])
        raw = await s3._get_client()
        answer = await raw.get_object(Bucket=BUCKET, Key="k")
        try:
            return await answer["Body"].read()
        except Exception as exc:
            return type(exc).__name__, str(exc)

    outcomes, used = await aws_both_ways(server, monkeypatch, call)
    assert used == [True, False]
    from cloud.common.exceptions import TransportError

    if name == "get_object":  # botocore's own error, raised by the body where it would be
        assert outcomes[0][0][0] == "FlexibleChecksumError"
    else:
        assert isinstance(outcomes[0][0], TransportError)
        assert "checksum" in str(outcomes[0][0])
    assert_same_aws(outcomes)


async def test_aws_multipart_checksum_is_not_verified_as_on_the_client_path(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    def composite(seen: Seen) -> Answer:
        status, headers, payload = aws_answer(seen)
        return status, [(k, "AAAAAA==-3" if k == "x-amz-checksum-crc32" else v) for k, v in headers], payload

    server.answer = composite
    outcomes, _ = await aws_both_ways(server, monkeypatch, CALLS["get_bytes"])
    assert outcomes[0][0] == DATA
    assert_same_aws(outcomes)


@pytest.mark.parametrize("status", [301, 307, 400])
async def test_aws_region_redirect_is_followed_by_the_client_and_then_sent_directly(
    server: Server, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    bodies = {
        301: b"<Error><Code>PermanentRedirect</Code><Message>elsewhere</Message></Error>",
        307: b"<Error><Code>TemporaryRedirect</Code><Message>elsewhere</Message></Error>",
        400: b"<Error><Code>AuthorizationHeaderMalformed</Code><Message>region</Message>"
        b"<Region>eu-west-1</Region></Error>",
    }
    recorders: list[AwsRecorder] = []
    original_install = AwsRecorder.install

    def install(self: AwsRecorder, patch: pytest.MonkeyPatch) -> None:
        recorders.append(self)
        original_install(self, patch)

    monkeypatch.setattr(AwsRecorder, "install", install)

    def answer(seen: Seen) -> Answer:
        if ".s3.eu-central-1." in recorders[-1].handed[-1].url:
            return status, [("x-amz-bucket-region", "eu-west-1")], bodies[status]
        return aws_answer(seen)

    server.answer = answer

    async def twice(s3: S3Client) -> tuple[bytes, bytes, Any]:
        first = await s3.get_bytes(BUCKET, "k")
        second = await s3.get_bytes(BUCKET, "k")
        return first, second, await s3.stat(BUCKET, "k")

    outcomes, used = await aws_both_ways(server, monkeypatch, twice)
    assert used == [True, False]
    assert outcomes[0][0][:2] == (DATA, DATA)
    direct_handed, client_handed = outcomes[0][1], outcomes[1][1]
    # the direct try meets the redirect, the client follows it (as it alone does), and
    # from then on the direct path sends to the bucket's region as the client does
    assert ".s3.eu-central-1." in direct_handed[0].url
    assert all(".s3.eu-west-1." in h.url for h in client_handed[1:])
    if status == 307:
        # a temporary redirect is not remembered by botocore: every call is redirected
        assert_same_aws(outcomes, skip_direct=1)
        return
    assert len(direct_handed) == len(client_handed) + 1
    assert_same_aws(outcomes, skip_direct=1)
    agent = direct_handed[-1].wire.headers["user-agent"]  # type: ignore[union-attr]
    assert agent == client_handed[-1].wire.headers["user-agent"]  # type: ignore[union-attr]


async def test_aws_put_that_botocore_would_checksum_goes_to_the_client(server: Server) -> None:
    server.answer = aws_answer
    recorder = AwsRecorder(server)
    with pytest.MonkeyPatch.context() as patch:
        recorder.install(patch)
        async with _aws_client() as s3:
            raw = await s3._get_client()
            assert isinstance(raw, DirectS3Client)
            sent: list[str] = []
            original = raw._send

            async def counted(*args: Any, **kwargs: Any) -> dict[str, Any]:
                sent.append(args[0])
                return await original(*args, **kwargs)

            raw._send = counted  # type: ignore[method-assign]
            await raw.put_object(Bucket=BUCKET, Key="k", Body=DATA)  # botocore adds a CRC32 trailer
            await raw.put_object(Bucket=BUCKET, Key="k", Body=DATA, ChecksumAlgorithm="SHA256")
            await raw.put_object(Bucket=BUCKET, Key="k", Body=DATA, ChecksumCRC32=crc32_b64(DATA))
            assert sent == ["put_object"]
    wire = [h.wire for h in recorder.requests()]
    assert "aws-chunked" in wire[0].headers["content-encoding"]  # type: ignore[union-attr]
    assert wire[1].headers["x-amz-sdk-checksum-algorithm"] == "SHA256"  # type: ignore[union-attr]


async def test_aws_direct_sends_the_algorithm_param_with_its_checksum_as_the_client_does(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.answer = aws_answer

    async def put(s3: S3Client) -> Any:
        raw = await s3._get_client()
        answer = await raw.put_object(
            Bucket=BUCKET, Key="k", Body=DATA, ChecksumAlgorithm="CRC32", ChecksumCRC32=crc32_b64(DATA)
        )
        return answer["ETag"]

    outcomes, used = await aws_both_ways(server, monkeypatch, put)
    assert used == [True, False]
    assert outcomes[0][1][0].headers["x-amz-sdk-checksum-algorithm"] == "CRC32"
    assert_same_aws(outcomes)


# -- refreshable credentials -----------------------------------------------------------------


def _refreshing(start: int) -> Any:
    """Credentials that refresh on every use (they are always within botocore's mandatory
    refresh window), each refresh giving new keys and registering a User-Agent feature
    as botocore's assume-role fetcher does."""
    from aiobotocore.credentials import AioRefreshableCredentials
    from botocore.useragent import register_feature_id

    counter = [start]

    async def refresh() -> dict[str, str]:
        counter[0] += 1
        register_feature_id("CREDENTIALS_STS_ASSUME_ROLE")
        expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
        return {
            "access_key": f"AKIAREFRESH{counter[0]}",
            "secret_key": f"refreshed-secret-{counter[0]}",
            "token": f"token-{counter[0]}",
            "expiry_time": expiry.isoformat(),
        }

    return AioRefreshableCredentials.create_from_metadata(
        {
            "access_key": f"AKIAREFRESH{start}",
            "secret_key": f"refreshed-secret-{start}",
            "token": f"token-{start}",
            "expiry_time": (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)).isoformat(),
        },
        refresh,
        "assume-role",
    )


@pytest.mark.parametrize("aws", [False, True])
async def test_refreshable_credentials_sign_each_request_with_the_current_ones(
    server: Server, monkeypatch: pytest.MonkeyPatch, aws: bool
) -> None:
    def swap(client: Any) -> None:
        client._request_signer._credentials = _refreshing(0)

    async def three(s3: S3Client) -> Any:
        await s3.put_bytes(BUCKET, "k", DATA)
        return await s3.get_bytes(BUCKET, "k"), await s3.stat(BUCKET, "k")

    if aws:
        server.answer = aws_answer
        outcomes, used = await aws_both_ways(server, monkeypatch, three, prepare=swap)
        assert_same_aws(outcomes)
        wire = [h.wire for h in outcomes[0][1]]
    else:
        outcomes_local: list[tuple[Any, list[Seen]]] = []
        used = []
        for direct in (True, False):
            monkeypatch.setattr(direct_module, "ENABLED", direct)
            server.seen.clear()
            async with _client(server.url) as s3:
                raw = await s3._get_client()
                used.append(isinstance(raw, DirectS3Client))
                swap(raw.client if isinstance(raw, DirectS3Client) else raw)
                outcomes_local.append((await three(s3), list(server.seen)))
        assert_same(outcomes_local)
        wire = outcomes_local[0][1]
    assert used == [True, False]
    keys = [w.headers["authorization"].split("Credential=")[1].split("/")[0] for w in wire]  # type: ignore[union-attr]
    assert keys == ["AKIAREFRESH1", "AKIAREFRESH2", "AKIAREFRESH3"]
    assert [w.headers["x-amz-security-token"] for w in wire] == ["token-1", "token-2", "token-3"]  # type: ignore[union-attr]
    assert all("m/" in w.headers["user-agent"] for w in wire)  # type: ignore[union-attr]


async def test_static_credentials_swapped_on_the_signer_are_used_next_request(server: Server) -> None:
    from aiobotocore.credentials import AioCredentials

    async with _client(server.url) as s3:
        raw = await s3._get_client()
        assert isinstance(raw, DirectS3Client)
        await s3.stat(BUCKET, "k")
        raw.client._request_signer._credentials = AioCredentials("AKIASECOND", "second-secret")
        await s3.stat(BUCKET, "k")
    keys = [s.headers["authorization"].split("Credential=")[1].split("/")[0] for s in server.seen]
    assert keys == [KEY[0], "AKIASECOND"]
