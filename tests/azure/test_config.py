"""Construction without I/O: argument checks, credentials, environment, repr, lazy session."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from azure.core.credentials import AccessToken, AzureNamedKeyCredential, AzureSasCredential

from cloud.azure import AzureBlobClient, SyncAzureBlobClient
from cloud.azure.config import check_container_name, parse_connection_string, settings_from_environment
from cloud.common.exceptions import ConfigurationError
from cloud.common.models import CloudCredentials
from tests.emulators import AZURITE_KEY

CS = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_KEY};BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;"


@pytest.mark.parametrize("name", ["abc", "a" * 63, "my-container-1", "0abc", "a1-b2-c3", "$root", "$web"])
def test_valid_container_names(name: str) -> None:
    assert check_container_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "ab", "a" * 64, "UPPER", "a--b", "-abc", "abc-", "a_b", "a.b", "a/b", "../etc", "x" * 300, "ünï", "$other"],
)
def test_invalid_container_names(name: str) -> None:
    with pytest.raises(ConfigurationError):
        check_container_name(name)


async def test_invalid_names_fail_before_any_io() -> None:
    # Port 9 (discard) on loopback: any request would fail with a transport error instead.
    async with AzureBlobClient(connection_string=CS) as client:
        for bad in ["", "../etc", "a/b", "x" * 300, "Upper"]:
            with pytest.raises(ConfigurationError):
                await client.ensure_bucket(bad)
            with pytest.raises(ConfigurationError):
                await client.put_bytes(bad, "x", b"1")
        with pytest.raises(ConfigurationError):
            await client.put_bytes("good-name", "x", b"1", metadata={"bad-key": "v"})
        with pytest.raises(ConfigurationError):
            client.iter_objects("good-name", page_size=0)
        assert client._service is None  # nothing was opened
    assert client.stats.requests == 0


def test_connection_string_parsing() -> None:
    info = parse_connection_string(CS)
    assert info.account_url == "http://127.0.0.1:9/devstoreaccount1"
    assert (info.account_name, info.account_key) == ("devstoreaccount1", AZURITE_KEY)
    cloud = parse_connection_string(
        f"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={AZURITE_KEY};EndpointSuffix=core.windows.net"
    )
    assert cloud.account_url == "https://acme.blob.core.windows.net"
    dev = parse_connection_string("UseDevelopmentStorage=true")
    assert dev.account_url == "http://127.0.0.1:10000/devstoreaccount1"
    sas = parse_connection_string("BlobEndpoint=https://acme.blob.core.windows.net;SharedAccessSignature=sv=1&sig=abc")
    assert (sas.account_name, sas.sas_token) == ("acme", "sv=1&sig=abc")
    assert AZURITE_KEY not in repr(info)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "AccountName=a;garbage",
        f"AccountKey={AZURITE_KEY}",
        "AccountName=acme;AccountKey=not base64 !!!",
        f"AccountName=acme;AccountKey={AZURITE_KEY};BlobEndpoint=ftp://x",
    ],
)
def test_bad_connection_strings_do_not_echo_the_key(bad: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        AzureBlobClient(connection_string=bad)
    assert AZURITE_KEY not in str(info.value)
    assert "AccountName=" not in str(info.value)


def test_constructor_arguments_are_checked() -> None:
    with pytest.raises(ConfigurationError):
        AzureBlobClient(connection_string=CS, account_url="https://a.blob.core.windows.net")
    with pytest.raises(ConfigurationError):
        AzureBlobClient(connection_string=CS, credential=AZURITE_KEY)
    with pytest.raises(ConfigurationError):
        AzureBlobClient(account_url="not a url")
    with pytest.raises(ConfigurationError):
        AzureBlobClient(connection_string=CS, block_size=0)
    with pytest.raises(ConfigurationError):
        AzureBlobClient(connection_string=CS, max_concurrency=0)
    with pytest.raises(ConfigurationError):
        AzureBlobClient(account_url="https://a.blob.core.windows.net", credential=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        AzureBlobClient(account_url="https://a.blob.core.windows.net", credential="%%% not a key")


def test_sync_token_credentials_are_refused() -> None:
    class SyncCredential:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            return AccessToken("t", 0)

    with pytest.raises(ConfigurationError, match=r"azure\.identity\.aio"):
        AzureBlobClient(account_url="https://a.blob.core.windows.net", credential=SyncCredential())  # type: ignore[arg-type]


def test_credential_kinds() -> None:
    url = "https://acme.blob.core.windows.net"
    kinds = {
        "key": AzureBlobClient(account_url=url, credential=AZURITE_KEY),
        "named": AzureBlobClient(account_url=url, credential=AzureNamedKeyCredential("acme", AZURITE_KEY)),
        "mapping": AzureBlobClient(account_url=url, credential={"account_name": "acme", "account_key": AZURITE_KEY}),
        "cloud": AzureBlobClient(
            account_url=url, credential=CloudCredentials(account_name="acme", account_key=AZURITE_KEY)
        ),
        "cloud-cs": AzureBlobClient(credential=CloudCredentials(connection_string=CS)),
        "sas": AzureBlobClient(account_url=url, credential="sv=2024&sig=abc"),
        "sas-object": AzureBlobClient(account_url=url, credential=AzureSasCredential("sv=2024&sig=abc")),
        "default": AzureBlobClient(account_url=url),
    }
    assert kinds["key"].account_name == "acme"
    assert kinds["cloud-cs"].account_url == "http://127.0.0.1:9/devstoreaccount1"
    for client in kinds.values():
        text = repr(client)
        assert AZURITE_KEY not in text and "sig=abc" not in text
    assert "DefaultAzureCredential" in repr(kinds["default"])
    assert "SAS" in repr(kinds["sas"])


def test_environment_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT_URL", "AZURE_STORAGE_ACCOUNT"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigurationError, match="AZURE_STORAGE_CONNECTION_STRING"):
        AzureBlobClient()
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT", "acme")
    assert AzureBlobClient().account_url == "https://acme.blob.core.windows.net"
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", CS)
    assert AzureBlobClient().account_url == "http://127.0.0.1:9/devstoreaccount1"
    assert settings_from_environment({"AZURE_STORAGE_ACCOUNT_URL": "https://x.blob.core.windows.net"}) == (
        None,
        "https://x.blob.core.windows.net",
    )


class FakeTokenCredential:
    """Stands in for azure.identity.aio.DefaultAzureCredential: counts creations and closes."""

    created = 0
    closed = 0

    def __init__(self) -> None:
        FakeTokenCredential.created += 1

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("token", 2_000_000_000)

    async def close(self) -> None:
        FakeTokenCredential.closed += 1


async def test_default_credential_is_created_lazily_and_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    import azure.identity.aio

    FakeTokenCredential.created = FakeTokenCredential.closed = 0
    monkeypatch.setattr(azure.identity.aio, "DefaultAzureCredential", FakeTokenCredential)
    client = AzureBlobClient(account_url="https://acme.blob.core.windows.net")
    assert FakeTokenCredential.created == 0  # construction does no I/O and builds no credential
    services = [await client._svc() for _ in range(3)]
    assert FakeTokenCredential.created == 1 and services[0] is services[1] is services[2]
    await client.aclose()
    await client.aclose()  # idempotent
    assert FakeTokenCredential.closed == 1


async def test_a_credential_given_by_the_caller_is_not_closed() -> None:
    credential = FakeTokenCredential()
    FakeTokenCredential.closed = 0
    async with AzureBlobClient(account_url="https://acme.blob.core.windows.net", credential=credential) as client:  # type: ignore[arg-type]
        await client._svc()
    assert FakeTokenCredential.closed == 0


async def test_concurrent_first_calls_open_one_service() -> None:
    client = AzureBlobClient(connection_string=CS)
    built = 0
    original = client._build_service

    def counting() -> Any:
        nonlocal built
        built += 1
        return original()

    client._build_service = counting  # type: ignore[method-assign]
    services: list[Any] = []

    async def open_one() -> None:
        services.append(await client._svc())

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(open_one)
    assert built == 1 and len({id(s) for s in services}) == 1
    await client.aclose()


def test_sync_facade_validates_at_construction() -> None:
    with pytest.raises(ConfigurationError):
        SyncAzureBlobClient(connection_string="AccountName=a;broken")
    sync = SyncAzureBlobClient(connection_string=CS)
    assert AZURITE_KEY not in repr(sync)
    sync.close()


@pytest.mark.parametrize(
    ("env", "trusts_env"),
    [
        ({}, False),  # no proxy: no per-request proxy and ~/.netrc lookups in worker threads
        ({"HTTP_PROXY": "http://proxy.invalid:3128"}, True),  # keeps azure-core's default
        ({"HTTP_PROXY": "http://proxy.invalid:3128", "NO_PROXY": "127.0.0.1"}, False),
        ({"HTTPS_PROXY": "http://proxy.invalid:3128"}, False),  # the account URL is http://
    ],
)
def test_environment_settings_only_when_a_proxy_applies(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], trusts_env: bool
) -> None:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    service = AzureBlobClient(connection_string=CS)._build_service()
    assert service._pipeline._transport._use_env_settings is trusts_env  # type: ignore[attr-defined]
