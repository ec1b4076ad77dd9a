"""Credentials: service-account keys, Application Default Credentials, the emulator's
anonymous mode and V4 signed URLs -- all without touching the internet."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from gcloud.aio.auth.token import Type
from yarl import URL

from cloud.common.exceptions import ConfigurationError
from cloud.gcp import GCSClient, SyncGCSClient
from cloud.gcp.signing import string_to_sign
from tests.emulators import Emulator
from tests.gcp.conftest import new_bucket_name

EMAIL = "tester@codomyrmex-test.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    """A throwaway RSA key standing in for a service account's."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def write_key(path: Path, key: rsa.RSAPrivateKey, token_uri: str = "https://oauth2.googleapis.com/token") -> Path:
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "codomyrmex-test",
                "private_key_id": "k1",
                "private_key": pem(key),
                "client_email": EMAIL,
                "client_id": "1",
                "token_uri": token_uri,
            }
        )
    )
    return path


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No emulator, no ADC file, no gcloud config, no project from the environment."""
    for name in ("STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "gcloud-config"
    empty.mkdir()
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(empty))


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail the test if anything resolves a name or opens a connection."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network used: {args[:2]!r}")

    async def refuse_async(*args: Any, **kwargs: Any) -> Any:
        refuse(*args)

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(asyncio.base_events.BaseEventLoop, "create_connection", refuse_async)
    monkeypatch.setattr(asyncio.selector_events.BaseSelectorEventLoop, "sock_connect", refuse_async)
    yield


async def test_service_account_key_is_loaded_without_network(
    clean_env: None, no_network: None, tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    key_file = write_key(tmp_path / "key.json", rsa_key)
    client = GCSClient(service_account_file=key_file)
    assert client.anonymous is False and client.api_root == "https://storage.googleapis.com"
    async with client:
        storage = await client._open()
        assert storage.token.token_type is Type.SERVICE_ACCOUNT
        assert storage.token.service_data["client_email"] == EMAIL
        assert await client._project_for_create() == "codomyrmex-test"
        url = await client.sign_url("bucket-a", "dir/file.txt", expires=600)
    assert url.startswith("https://storage.googleapis.com/bucket-a/dir/file.txt?")
    assert "PRIVATE KEY" not in repr(client) and "key.json" in repr(client)


async def test_adc_user_credentials_are_loaded_without_network(
    clean_env: None, no_network: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    adc = tmp_path / "adc.json"
    adc.write_text(
        json.dumps({"type": "authorized_user", "client_id": "id", "client_secret": "shh", "refresh_token": "rt"})
    )
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(adc))
    async with GCSClient(project="p") as client:
        assert repr(client).endswith("ADC>")
        storage = await client._open()
        assert storage.token.token_type is Type.AUTHORIZED_USER
        assert "shh" in client._secrets() and "rt" in client._secrets()
        with pytest.raises(ConfigurationError, match="service-account key"):
            await client.sign_url("bucket-a", "x")


async def test_adc_falls_back_to_the_metadata_server_without_network(clean_env: None, no_network: None) -> None:
    async with GCSClient() as client:
        storage = await client._open()
        assert storage.token.token_type is Type.GCE_METADATA


async def test_adc_service_account_key_can_sign(
    clean_env: None, no_network: None, tmp_path: Path, rsa_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(write_key(tmp_path / "adc-key.json", rsa_key)))
    async with GCSClient() as client:
        assert "X-Goog-Signature=" in await client.sign_url("bucket-a", "x", method="PUT")


async def test_bad_key_files_fail_on_first_use_not_construction(clean_env: None, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json")
    incomplete = tmp_path / "incomplete.json"
    incomplete.write_text(json.dumps({"type": "service_account", "client_email": EMAIL}))
    for path in (tmp_path / "missing.json", garbage, incomplete):
        client = GCSClient(service_account_file=path)  # construction does no I/O
        with pytest.raises(ConfigurationError, match="service_account_file"):
            await client.stat("bucket-a", "x")
        await client.aclose()


@pytest.fixture
async def token_server(rsa_key: rsa.RSAPrivateKey) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A fake OAuth token endpoint on loopback that checks the signed JWT assertion."""
    seen: list[dict[str, Any]] = []
    public = rsa_key.public_key()

    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
        claims = jwt.decode(str(form["assertion"]), public, algorithms=["RS256"], audience=str(request.url))
        seen.append(claims)
        return web.json_response({"access_token": "ya29.test-access-token", "expires_in": 3600})

    app = web.Application()
    app.router.add_post("/token", token)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/token", seen
    finally:
        await runner.cleanup()


async def test_service_account_token_is_fetched_with_a_signed_assertion(
    clean_env: None, tmp_path: Path, rsa_key: rsa.RSAPrivateKey, token_server: tuple[str, list[dict[str, Any]]]
) -> None:
    token_uri, seen = token_server
    key_file = write_key(tmp_path / "key.json", rsa_key, token_uri=token_uri)
    async with GCSClient(service_account_file=key_file) as client:
        headers = await client._auth_headers()
        assert headers == {"Authorization": "Bearer ya29.test-access-token"}
        assert seen[0]["iss"] == EMAIL
        assert "devstorage" in seen[0]["scope"]
        # Secrets known to the client are scrubbed from any error message.
        assert "ya29.test-access-token" in client._secrets()
        err = client._runner.to_cloud_error(ConfigurationError("token ya29.test-access-token leaked"), "stat")
        assert err is not None and "ya29.test-access-token" not in str(err)


async def test_emulator_client_sends_no_credentials_and_honours_storage_emulator_host(
    clean_env: None, gcs_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_emulator.url.removeprefix("http://"))
    async with GCSClient() as client:
        assert client.api_root == gcs_emulator.url and client.anonymous
        assert await client._auth_headers() == {}
        name = new_bucket_name()
        assert await client.ensure_bucket(name) is True
        assert await client.list_objects(name) == []
        with pytest.raises(ConfigurationError, match="service-account key"):
            await client.sign_url(name, "x")
        await client.delete_bucket(name)


def _signed_parts(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return parts.path, {k: v[0] for k, v in parse_qs(parts.query).items()}


async def test_signed_url_signature_verifies_and_the_emulator_serves_it(
    clean_env: None, gcs_emulator: Emulator, tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    key_file = write_key(tmp_path / "key.json", rsa_key)
    async with GCSClient(api_root=gcs_emulator.url, service_account_file=key_file) as client:
        bucket = new_bucket_name()
        await client.ensure_bucket(bucket)
        name = "signed/ü name+1.txt"
        await client.put_bytes(bucket, name, b"signed content")
        url = await client.sign_url(bucket, name, expires=900)
        path, query = _signed_parts(url)
        assert url.startswith(gcs_emulator.url + "/")
        assert query["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
        assert query["X-Goog-Expires"] == "900" and query["X-Goog-SignedHeaders"] == "host"
        assert query["X-Goog-Credential"].startswith(EMAIL + "/")
        scope = query["X-Goog-Credential"].split("/", 1)[1]
        unsigned = {k: v for k, v in query.items() if k != "X-Goog-Signature"}
        # The raw (still percent-encoded) path is what was signed.
        raw_path = url.split("?", 1)[0][len(gcs_emulator.url) :]
        assert raw_path == path == "/" + bucket + "/signed/%C3%BC%20name%2B1.txt"
        message = string_to_sign(
            method="GET",
            host=urlsplit(url).netloc,
            canonical_uri=raw_path,
            query=unsigned,
            timestamp=query["X-Goog-Date"],
            scope=scope,
        )
        rsa_key.public_key().verify(
            bytes.fromhex(query["X-Goog-Signature"]), message.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        assert datetime.strptime(query["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc) <= datetime.now(
            timezone.utc
        )
        # The emulator serves /bucket/object like GCS's XML endpoint (it does not check signatures).
        async with aiohttp.ClientSession() as session, session.get(URL(url, encoded=True)) as response:
            assert response.status == 200
            assert await response.read() == b"signed content"
        await client.delete_bucket(bucket, force=True)


async def test_sign_url_rejects_bad_arguments(clean_env: None, tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    async with GCSClient(service_account_file=write_key(tmp_path / "key.json", rsa_key)) as client:
        with pytest.raises(ConfigurationError, match="seven days"):
            await client.sign_url("bucket-a", "x", expires=8 * 24 * 3600)
        with pytest.raises(ConfigurationError, match="cannot sign method"):
            await client.sign_url("bucket-a", "x", method="PATCH")
        with pytest.raises(ConfigurationError):
            await client.sign_url("Bad_Bucket!", "x")


def test_sync_client_signs_and_refuses_without_key(clean_env: None, tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    with SyncGCSClient(service_account_file=write_key(tmp_path / "key.json", rsa_key)) as client:
        assert client.sign_url("bucket-a", "x").startswith("https://storage.googleapis.com/bucket-a/x?")
    with SyncGCSClient(api_root="http://127.0.0.1:9") as anonymous, pytest.raises(ConfigurationError):
        anonymous.sign_url("bucket-a", "x")


@pytest.mark.parametrize(
    "private_key",
    [
        "not a key",
        "-----BEGIN PRIVATE KEY-----\nanVuaw==\n-----END PRIVATE KEY-----\n",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----\n",
    ],
)
async def test_a_junk_private_key_is_a_configuration_error_on_first_use(
    clean_env: None, no_network: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_key: str
) -> None:
    key_file = tmp_path / "junk.json"
    key_file.write_text(json.dumps({"type": "service_account", "client_email": EMAIL, "private_key": private_key}))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    for client in (GCSClient(service_account_file=key_file, project="p"), GCSClient(project="p")):
        async with client:
            with pytest.raises(ConfigurationError, match="private key"):
                await client.stat("bucket-a", "x")
            with pytest.raises(ConfigurationError, match="private key"):
                await client.sign_url("bucket-a", "x")
