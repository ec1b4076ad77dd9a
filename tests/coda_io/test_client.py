"""Construction, lazy session, configuration and the public surface of CodaClient."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import cloud.coda_io
from cloud.coda_io import CodaClient, CodaRateLimiter, CodaRateLimits, SyncCodaClient
from cloud.common.base import CloudClient
from cloud.common.exceptions import ConfigurationError
from cloud.common.sync_stubs import render_stub, stub_path

ROOT = Path(__file__).resolve().parents[2]


def test_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODA_API_TOKEN", "env-token-987")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"name": "me"})

    client = CodaClient(transport=httpx.MockTransport(handler))
    assert client.base_url == "https://coda.io/apis/v1"
    import anyio

    async def run() -> None:
        async with client:
            user = await client.whoami()
            assert user.name == "me"

    anyio.run(run)
    assert seen[0].headers["authorization"] == "Bearer env-token-987"
    assert str(seen[0].url) == "https://coda.io/apis/v1/whoami"


def test_construction_does_no_io_and_validates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODA_API_TOKEN", raising=False)
    client = CodaClient(api_token="abc-123-def", base_url="http://127.0.0.1:9/apis/v1/")
    assert client._http is None
    assert client.base_url == "http://127.0.0.1:9/apis/v1"
    assert isinstance(client, CloudClient)
    assert "abc-123-def" not in repr(client)
    for bad in ("ftp://coda.io", "coda.io/apis/v1", "https://user:pw@coda.io", "https://coda.io/?x=1"):
        with pytest.raises(ConfigurationError):
            CodaClient(api_token="abc-123-def", base_url=bad)
    with pytest.raises(ConfigurationError):
        CodaClient(api_token="abc 123")
    with pytest.raises(ConfigurationError):
        CodaClient(api_token="abc-123-def", timeout=0)
    with pytest.raises(TypeError):
        CodaClient("abc-123-def")  # type: ignore[misc]
    with pytest.raises(ConfigurationError):
        SyncCodaClient()  # validated at construction, before any I/O


async def test_one_pooled_session_created_on_first_call_and_closed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": []})

    client = CodaClient(api_token="abc-123-def", transport=httpx.MockTransport(handler))
    assert client._http is None
    await client.list_categories()
    session = client._http
    assert session is not None
    await client.get_doc("d")
    assert client._http is session
    assert client.stats.requests == 2
    await client.aclose()
    assert session.is_closed and client._http is None


def test_rate_limits_accept_config_or_a_shared_limiter() -> None:
    shared = CodaRateLimiter(CodaRateLimits(write=(3, 1.0)))
    first = CodaClient(api_token="abc-123-def", rate_limits=shared)
    second = CodaClient(api_token="abc-123-def", rate_limits=shared)
    assert first.rate_limiter is second.rate_limiter is shared
    own = CodaClient(api_token="abc-123-def", rate_limits=CodaRateLimits(read=(1, 1.0)))
    assert own.rate_limiter.limits.read == (1, 1.0)
    assert CodaClient(api_token="abc-123-def").rate_limiter.limits == CodaRateLimits()


def test_every_public_method_is_documented_and_takes_timeout() -> None:
    names = [n for n, m in inspect.getmembers(CodaClient) if not n.startswith("_") and callable(m)]
    assert len(names) >= 124 + 4
    for name in names:
        member = getattr(CodaClient, name)
        assert member.__doc__ and member.__doc__.strip(), name
        if name not in ("aclose",):
            assert "timeout" in inspect.signature(member).parameters, name
    for name in cloud.coda_io.__all__:
        assert getattr(cloud.coda_io, name) is not None


def test_sync_stub_is_fresh() -> None:
    assert stub_path("cloud.coda_io.sync").read_text(encoding="utf-8") == render_stub("cloud.coda_io.sync")


def test_import_cloud_does_not_load_the_coda_client() -> None:
    code = "import sys, cloud; print('cloud.coda_io' in sys.modules, 'httpx' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.split() == ["False", "False"]


async def test_argument_mistakes_fail_before_io_with_the_operation_named() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    async with CodaClient(api_token="abc-123-def", transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(ConfigurationError) as info:
            await client.get_row("d", "t", "")
        assert info.value.operation == "get_row" and info.value.provider == "coda"
        with pytest.raises(ConfigurationError, match="cannot be sent as JSON"):
            await client.update_row("d", "t", "r", row={"cells": object()})
        with pytest.raises(ConfigurationError):
            await client.list_doc_analytics_summary(since_date=object())  # type: ignore[arg-type]
    assert sent == []
