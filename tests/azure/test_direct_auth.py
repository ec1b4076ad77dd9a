"""The direct blob requests with a SAS token or a token credential (cloud/azure/direct.py):
against a loopback recording server over TLS, each request is the SDK path's (every header
but the date and request id, the URL, the body), a bearer token is taken, cached and
refreshed as the SDK's policy does, and 401/403 answers become the SDK path's errors."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp.connector
import pytest
from aiohttp import web
from azure.core.credentials import AccessToken, AzureSasCredential
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cloud.azure import AzureBlobClient
from cloud.common.exceptions import CloudError, ConfigurationError

ACCOUNT = "acct"
SAS = "sv=2025-01-05&ss=b&srt=sco&sp=rwdc&se=2099-01-01T00%3A00%3A00Z&sig=c2VjcmV0LXNpZ25hdHVyZQ%3D%3D"
SCOPE = "https://storage.azure.com/.default"
VOLATILE = {"x-ms-date", "x-ms-client-request-id", "date"}
ERROR_BODY = (
    b'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
    b"<Message>Server failed to authenticate the request.</Message></Error>"
)


@dataclass
class Recorder:
    """What the server saw, and how it answers."""

    seen: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)
    fail: tuple[int, str, bool] | None = None  # status, error code, with a bearer challenge

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.seen.append((request.method, request.path_qs, dict(request.headers), body))
        if self.fail is not None:
            status, code, challenge = self.fail
            headers = {"x-ms-error-code": code, "Content-Type": "application/xml"}
            if challenge:
                headers["WWW-Authenticate"] = (
                    "Bearer authorization_uri=https://login.microsoftonline.com/tenant-id/oauth2/authorize "
                    "resource_id=https://storage.azure.com"
                )
            return web.Response(status=status, body=ERROR_BODY.replace(b"{code}", code.encode()), headers=headers)
        common = {
            "ETag": '"0x8D0000000000001"',
            "Last-Modified": "Fri, 04 Dec 2026 23:41:36 GMT",
            "x-ms-request-id": "r",
            "x-ms-version": request.headers.get("x-ms-version", ""),
        }
        key = request.path
        if request.method == "PUT":
            self.blobs[key] = body
            return web.Response(status=201, headers={**common, "Content-MD5": request.headers["Content-MD5"]})
        if request.method == "DELETE":
            self.blobs.pop(key, None)
            return web.Response(status=202, headers=common)
        if key not in self.blobs:
            headers = {"x-ms-error-code": "BlobNotFound", "Content-Type": "application/xml"}
            return web.Response(status=404, body=ERROR_BODY.replace(b"{code}", b"BlobNotFound"), headers=headers)
        data = self.blobs[key]
        headers = {**common, "Content-Type": "text/x", "x-ms-blob-type": "BlockBlob", "x-ms-meta-k": "v"}
        if request.method == "HEAD":
            return web.Response(status=200, headers={**headers, "Content-Length": str(len(data))})
        wanted = request.headers.get("x-ms-range")
        if wanted:
            first, last = (int(x) for x in wanted.split("=", 1)[1].split("-"))
            part = data[first : last + 1]
            headers["Content-Range"] = f"bytes {first}-{first + len(part) - 1}/{len(data)}"
            return web.Response(status=206, body=part, headers=headers)
        return web.Response(status=200, body=data, headers=headers)


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
async def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[str, Recorder]]:
    """A TLS server on 127.0.0.1 that both paths trust (aiohttp's default verified context,
    which both use, is swapped for one that trusts its certificate)."""
    cert, key = _certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr(aiohttp.connector, "_SSL_CONTEXT_VERIFIED", client_context)
    recorder = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"https://127.0.0.1:{port}/{ACCOUNT}", recorder
    finally:
        await runner.cleanup()


class Tokens:
    """An async token credential handing out ``tok-1``, ``tok-2``, ... with the lifetimes
    given (the last one repeated), recording the scopes asked for."""

    def __init__(self, lifetimes: list[float]) -> None:
        self.lifetimes = lifetimes
        self.asked: list[tuple[str, ...]] = []

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.asked.append(scopes)
        lifetime = self.lifetimes[min(len(self.asked), len(self.lifetimes)) - 1]
        return AccessToken(f"tok-{len(self.asked)}", int(time.time() + lifetime))

    async def close(self) -> None:
        return None


def _comparable(seen: list[tuple[str, str, dict[str, str], bytes]]) -> list[object]:
    return [
        (method, path, {k.lower(): v for k, v in headers.items() if k.lower() not in VOLATILE}, body)
        for method, path, headers, body in seen
    ]


async def _operations(client: AzureBlobClient) -> list[object]:
    out: list[object] = []
    await client.put_bytes("box", "dir/a b", b"hello world", content_type="text/x", metadata={"k": "v"})
    out.append(await client.get_bytes("box", "dir/a b"))
    out.append(await client.get_bytes("box", "dir/a b", start=3, end=7))
    async with client.open("box", "dir/a b") as reader:
        out.append((await reader.read(), reader.content_type, reader.metadata, reader.etag, reader.last_modified))
    meta = await client.stat("box", "dir/a b")
    out.append((meta.name, meta.size, meta.content_type, meta.metadata, meta.etag))
    await client.delete_object("box", "dir/a b")
    return out


async def _both(
    url: str, recorder: Recorder, make: Callable[[], dict[str, Any]], run: Callable[[AzureBlobClient], Awaitable[Any]]
) -> list[tuple[Any, list[object], bool]]:
    """``run`` on the direct path and on the SDK path: (result, requests, direct used)."""
    results = []
    for enabled in (True, False):
        recorder.seen.clear()
        async with AzureBlobClient(account_url=url, retry=None, **make()) as client:
            client._direct_enabled = enabled
            result = await run(client)
            results.append((result, _comparable(recorder.seen), client._direct is not None))
    return results


AUTHS: dict[str, Callable[[str], dict[str, Any]]] = {
    "sas-string": lambda url: {"credential": SAS},
    "sas-credential": lambda url: {"credential": AzureSasCredential(SAS)},
    "token": lambda url: {"credential": Tokens([3600])},
}


@pytest.mark.parametrize("auth", AUTHS)
async def test_requests_are_the_sdk_path_s(server: tuple[str, Recorder], auth: str) -> None:
    url, recorder = server
    (direct, by_direct, used), (sdk, by_sdk, sdk_used) = await _both(
        url, recorder, lambda: AUTHS[auth](url), _operations
    )
    assert used and not sdk_used
    assert direct == sdk
    assert by_direct == by_sdk
    assert len(by_direct) >= 5
    for _, path, headers, _ in by_direct:
        if auth == "token":
            assert headers["authorization"] == "Bearer tok-1"
        else:
            assert "authorization" not in headers
            assert path.split("?", 1)[1].startswith("sv=2025-01-05&") and "&sig=" in path


async def test_a_sas_in_the_url_is_the_sdk_path_s(server: tuple[str, Recorder]) -> None:
    url, recorder = server
    (direct, by_direct, used), (sdk, by_sdk, _) = await _both(f"{url}?{SAS}", recorder, dict, _operations)
    assert used and direct == sdk and by_direct == by_sdk
    assert all("sig=" in path for _, path, _, _ in by_direct)


async def test_a_token_is_asked_for_once_with_the_sdk_scope_and_refreshed_near_expiry(
    server: tuple[str, Recorder],
) -> None:
    url, recorder = server
    credentials: list[Tokens] = []

    def make() -> dict[str, Any]:
        # The first token is inside the policy's refresh window: the next request asks again.
        credentials.append(Tokens([200, 3600]))
        return {"credential": credentials[-1]}

    async def run(client: AzureBlobClient) -> None:
        await client.put_bytes("box", "x", b"1")
        await client.stat("box", "x")
        await client.get_bytes("box", "x")
        await client.delete_object("box", "x")

    (_, by_direct, used), (_, by_sdk, _) = await _both(url, recorder, make, run)
    assert used and by_direct == by_sdk
    tokens = [headers["authorization"] for _, _, headers, _ in by_direct]
    assert tokens[0] == "Bearer tok-1" and set(tokens[1:]) == {"Bearer tok-2"} and len(tokens) >= 4
    assert credentials[0].asked == credentials[1].asked == [(SCOPE,), (SCOPE,)]


def _described(error: BaseException | None) -> object:
    if error is None:
        return None
    assert isinstance(error, CloudError)
    return (type(error), str(error), getattr(error, "status_code", None), getattr(error, "code", None))


async def _outcomes(client: AzureBlobClient) -> list[object]:
    out: list[object] = []
    for call in (
        lambda: client.put_bytes("box", "x", b"1"),
        lambda: client.get_bytes("box", "x"),
        lambda: client.stat("box", "x"),
        lambda: client.delete_object("box", "x"),
    ):
        try:
            await call()
            out.append(None)
        except CloudError as exc:
            out.append(_described(exc))
            for secret in ("tok-", "c2VjcmV0", SAS):
                assert secret not in str(exc) and secret not in repr(exc)
                assert secret not in str(getattr(exc, "body", "") or "")
    return out


@pytest.mark.parametrize(
    ("auth", "fail"),
    [
        ("token", (401, "InvalidAuthenticationInfo", False)),
        ("token", (401, "InvalidAuthenticationInfo", True)),
        ("token", (403, "AuthorizationPermissionMismatch", False)),
        ("sas-string", (403, "AuthenticationFailed", False)),
        ("sas-credential", (403, "AuthorizationFailure", False)),
    ],
)
async def test_401_and_403_are_the_sdk_path_s_errors(
    server: tuple[str, Recorder], auth: str, fail: tuple[int, str, bool]
) -> None:
    url, recorder = server
    recorder.fail = fail
    credentials: list[dict[str, Any]] = []

    def make() -> dict[str, Any]:
        credentials.append(AUTHS[auth](url))
        return credentials[-1]

    (direct, by_direct, used), (sdk, by_sdk, _) = await _both(url, recorder, make, _outcomes)
    assert used
    assert direct == sdk
    assert all(outcome is not None for outcome in direct)
    if fail[2]:
        # With a bearer challenge the direct path leaves the request to the SDK's policy
        # (which asks for a token for the challenge's resource and sends it again): one
        # request more than the SDK path, each operation ending as the SDK path's does.
        assert len(by_direct) == len(by_sdk) + 4
    else:
        assert by_direct == by_sdk
    if auth == "token":
        asked = [credential["credential"].asked for credential in credentials]
        assert asked[0] and asked[1] and set(asked[0]) == set(asked[1]) == {(SCOPE,)}


async def test_bearer_tokens_over_http_are_refused_before_any_request() -> None:
    tokens = Tokens([3600])
    async with AzureBlobClient(account_url=f"http://127.0.0.1:9/{ACCOUNT}", credential=tokens, retry=None) as client:
        with pytest.raises(ConfigurationError, match="https"):
            await client.stat("box", "x")
        assert client._direct is None
    assert tokens.asked == []


async def test_reprs_show_no_token_or_sas(server: tuple[str, Recorder]) -> None:
    url, _ = server
    for auth in AUTHS:
        async with AzureBlobClient(account_url=url, **AUTHS[auth](url)) as client:
            await client.put_bytes("box", "x", b"1")
            assert client._direct is not None
            for shown in (repr(client), repr(client._direct)):
                assert "sig=" not in shown and "c2VjcmV0" not in shown and "tok-" not in shown
