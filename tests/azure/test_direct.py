"""The direct blob requests (cloud/azure/direct.py): signed as the SDK signs, addressed as the
SDK addresses, sent with the SDK's headers, giving the same results and errors as the SDK
path, and used only where they can do exactly what it does."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import anyio
import pytest
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.pipeline.transport import AioHttpTransport, HttpRequest
from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas
from azure.storage.blob._shared.authentication import SharedKeyCredentialPolicy
from azure.storage.blob.aio import BlobServiceClient
from yarl import URL

import cloud.azure.client as azure_client
import cloud.azure.direct as direct_module
from cloud.azure import AzureBlobClient
from cloud.azure.blob_handles import lazy_blob_service as _lazy_blob_service
from cloud.azure.direct import blob_url
from cloud.azure.sharedkey import SharedKeySigner
from cloud.common.exceptions import APIError, CloudError, ConfigurationError
from tests.emulators import AZURITE_ACCOUNT, AZURITE_KEY, Emulator

PREFIX = f"http://127.0.0.1:10000/{AZURITE_ACCOUNT}/"

HOSTILE = [
    "a?b",
    "a#b",
    "%2e%2e",
    "%2e%2e/x",
    "a%2Fb",
    "..x",
    "x/..y",
    "a//b",
    "~tilde",
    " lead and trail ",
    "ü/é",
    "日本/語",
    "emoji-😀",
    "semi;colon=eq&amp+plus",
    "quote'\"",
]
"""Names that pass the name checks and must still stay inside their container."""


def _sdk_authorization(method: str, url: str, headers: dict[str, str]) -> str:
    policy = SharedKeyCredentialPolicy(AZURITE_ACCOUNT, AZURITE_KEY)
    request = PipelineRequest(HttpRequest(method, url, headers=dict(headers)), PipelineContext(AioHttpTransport()))
    policy.on_request(request)
    value: str = request.http_request.headers["Authorization"]
    return value


COMMON = {
    "x-ms-version": "2026-10-06",
    "Accept": "application/xml",
    "User-Agent": "azsdk-python-storage-blob/12 Python/3.11",
    "x-ms-date": "Fri, 04 Dec 2026 23:41:36 GMT",
    "x-ms-client-request-id": "3eb09d58-f03c-11f1-8f26-02fc00000001",
}

REQUESTS = {
    "put": (
        "PUT",
        {
            "x-ms-meta-foo": "bar",
            "x-ms-meta-b_key": "",
            "x-ms-meta-a-key": "v",
            "x-ms-blob-type": "BlockBlob",
            "Content-Length": "5",
            "Content-MD5": "XUFAKrxLKna5cZ2REBfFkg==",
            "x-ms-blob-content-type": "text/x",
            "x-ms-blob-content-md5": "XUFAKrxLKna5cZ2REBfFkg==",
            "Content-Type": "application/octet-stream",
        },
    ),
    "put-empty": (
        "PUT",
        {"Content-Length": "0", "Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg==", "x-ms-blob-type": "BlockBlob"},
    ),
    "get": ("GET", {"x-ms-range": "bytes=0-8388607", "x-ms-range-get-content-md5": "true", "If-Match": '"0x1"'}),
    "get-whole": ("GET", {}),
    "head": ("HEAD", {}),
    "delete": ("DELETE", {"x-ms-delete-snapshots": "include"}),
}


@pytest.mark.parametrize("name", ["plain", *HOSTILE])
@pytest.mark.parametrize("shape", REQUESTS)
def test_authorization_equals_the_sdk_policy(shape: str, name: str) -> None:
    method, extra = REQUESTS[shape]
    headers = {**extra, **COMMON}
    url = blob_url(PREFIX, "container", name)
    ours = SharedKeySigner(AZURITE_ACCOUNT, AZURITE_KEY).authorization(method, url, headers)
    assert ours == _sdk_authorization(method, url, headers)
    assert ours.startswith(f"SharedKey {AZURITE_ACCOUNT}:")


@pytest.mark.parametrize("name", ["plain", *HOSTILE])
def test_blob_url_is_the_sdk_url_and_stays_in_its_container(name: str) -> None:
    service = BlobServiceClient(f"http://127.0.0.1:10000/{AZURITE_ACCOUNT}", credential=AZURITE_KEY)
    assert blob_url(PREFIX, "container", name) == service.get_blob_client("container", name).url
    # What aiohttp puts on the wire is under the container, and names this blob.
    sent = URL(blob_url(PREFIX, "container", name))
    assert sent.raw_path.startswith(f"/{AZURITE_ACCOUNT}/container/")
    assert sent.path[len(f"/{AZURITE_ACCOUNT}/container/") :] == name
    assert not sent.raw_query_string and not sent.fragment


def test_signer_and_requests_show_no_key() -> None:
    signer = SharedKeySigner(AZURITE_ACCOUNT, AZURITE_KEY)
    assert AZURITE_KEY not in repr(signer) and AZURITE_KEY[:20] not in repr(signer)


# -- against Azurite -----------------------------------------------------------------------------


@contextmanager
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, str, dict[str, str]]]]:
    """Every request either path sends: (path, method, url, headers)."""
    seen: list[tuple[str, str, str, dict[str, str]]] = []
    open_direct = direct_module.DirectBlobs.open
    send_sdk = AioHttpTransport.send

    async def direct_open(self: Any, method: str, url: str, headers: dict[str, str], data: Any = None) -> Any:
        response = await open_direct(self, method, url, headers, data)
        seen.append(("direct", method, url, dict(headers)))
        return response

    async def sdk_send(self: Any, request: Any, **kwargs: Any) -> Any:
        seen.append(("sdk", request.method, request.url, dict(request.headers)))
        return await send_sdk(self, request, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(direct_module.DirectBlobs, "open", direct_open)
        patch.setattr(AioHttpTransport, "send", sdk_send)
        yield seen


VOLATILE = {"x-ms-date", "x-ms-client-request-id", "authorization"}


def _comparable(request: tuple[str, str, str, dict[str, str]]) -> tuple[str, str, dict[str, str]]:
    _, method, url, headers = request
    return method, url, {k.lower(): v for k, v in headers.items() if k.lower() not in VOLATILE}


@pytest.fixture
async def pair(connection_string: str) -> AsyncIterator[tuple[AzureBlobClient, AzureBlobClient]]:
    """A client on the direct path and one with it switched off, on the same account."""
    fast = AzureBlobClient(connection_string=connection_string)
    slow = AzureBlobClient(connection_string=connection_string)
    slow._direct_enabled = False
    async with fast, slow:
        yield fast, slow


async def _hot_operations(client: AzureBlobClient, container: str, name: str) -> list[object]:
    out: list[object] = []
    await client.put_bytes(container, name, b"hello world", content_type="text/x", metadata={"Foo": " bar ", "k": ""})
    out.append(await client.get_bytes(container, name))
    out.append(await client.get_bytes(container, name, start=3, end=7))
    out.append(await client.get_bytes(container, name, start=100))
    meta = await client.stat(container, name)
    out.append((meta.name, meta.bucket, meta.size, meta.content_type, meta.metadata, meta.provider))
    out.append(await client.object_exists(container, name))
    for start, end in ((None, None), (2, 9)):
        async with client.open(container, name, start=start, end=end) as reader:
            out.append((await reader.read(), reader.size, reader.object_size, reader.content_type, reader.metadata))
    await client.delete_object(container, name)
    out.append(await client.object_exists(container, name))
    await client.delete_object(container, name)  # missing: not an error
    await client.put_bytes(container, name, b"")
    out.append(await client.get_bytes(container, name))
    await client.delete_object(container, name)
    return out


async def test_the_hot_operations_send_what_the_sdk_sends(
    pair: tuple[AzureBlobClient, AzureBlobClient], container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = pair
    for name in ["plain", *HOSTILE]:
        with recorded(monkeypatch) as by_direct:
            direct_results = await _hot_operations(fast, container, name)
        with recorded(monkeypatch) as by_sdk:
            sdk_results = await _hot_operations(slow, container, name)
        assert direct_results == sdk_results
        # (object_exists asks about the container of a missing blob: not a hot request)
        by_direct = [r for r in by_direct if "restype=container" not in r[2]]
        by_sdk = [r for r in by_sdk if "restype=container" not in r[2]]
        assert {path for path, *_ in by_direct} == {"direct"}, "a blob request took the SDK path"
        assert {path for path, *_ in by_sdk} == {"sdk"}
        assert [_comparable(r) for r in by_direct] == [_comparable(r) for r in by_sdk], name
        for _, _, _, headers in by_direct:
            assert headers["Authorization"].startswith(f"SharedKey {AZURITE_ACCOUNT}:")
    assert fast._direct is not None and slow._direct is None


async def test_metadata_of_stat_is_the_sdk_path_s(
    pair: tuple[AzureBlobClient, AzureBlobClient], container: str
) -> None:
    fast, slow = pair
    await slow.put_bytes(container, "m", b"x" * 1000, content_type="image/png", metadata={"Mixed": "Case", "e": ""})
    assert await fast.stat(container, "m") == await slow.stat(container, "m")
    await fast.put_bytes(container, "n", b"y" * 10, metadata={"a": "1"})
    assert await fast.stat(container, "n") == await slow.stat(container, "n")
    assert await fast.get_metadata(container, "n") == await slow.get_metadata(container, "n")
    for name, start, end in (("m", None, None), ("m", 10, 20), ("n", 3, None)):
        described = []
        for client in (fast, slow):
            async with client.open(container, name, start=start, end=end) as reader:
                described.append((reader._meta, reader.size, reader.etag, await reader.read()))
        assert described[0] == described[1]
    assert fast._direct is not None and slow._direct is None


def _described(error: BaseException | None) -> object:
    if error is None:
        return None
    assert isinstance(error, CloudError)
    return (
        type(error),
        str(error),
        getattr(error, "status_code", None),
        getattr(error, "code", None),
        error.operation,
        type(error.__cause__),
    )


async def _outcome(call: Any) -> BaseException | None:
    try:
        await call
    except CloudError as exc:
        return exc
    return None


async def _open_and_read(client: AzureBlobClient, container: str, name: str) -> bytes:
    async with client.open(container, name) as reader:
        return await reader.read()


async def test_errors_are_the_sdk_path_s(pair: tuple[AzureBlobClient, AzureBlobClient], container: str) -> None:
    fast, slow = pair
    missing = f"az-{uuid.uuid4().hex[:12]}"
    cases = [
        lambda c: c.stat(container, "nope"),
        lambda c: c.stat(missing, "nope"),
        lambda c: c.get_bytes(container, "nope"),
        lambda c: c.get_bytes(missing, "nope"),
        lambda c: c.get_bytes(container, "nope", start=5, end=9),
        lambda c: c.delete_object(container, "nope"),
        lambda c: c.delete_object(missing, "nope"),
        lambda c: c.put_bytes(missing, "x", b"data"),
        lambda c: c.download_file(container, "nope", "/nonexistent-dir/never"),
        lambda c: _open_and_read(c, container, "nope"),
        lambda c: _open_and_read(c, missing, "nope"),
    ]
    for case in cases:
        ours, sdk = await _outcome(case(fast)), await _outcome(case(slow))
        assert _described(ours) == _described(sdk)
    error = await _outcome(fast.stat(missing, "nope"))
    assert isinstance(error, APIError) and error.code == "ContainerNotFound"
    error = await _outcome(fast.stat(container, "nope"))
    assert isinstance(error, APIError) and error.code == "BlobNotFound"


async def test_a_bad_key_is_the_same_error(connection_string: str, container: str) -> None:
    bad = connection_string.replace(AZURITE_KEY, "A" * 86 + "==")
    outcomes = []
    for enabled in (True, False):
        async with AzureBlobClient(connection_string=bad) as client:
            client._direct_enabled = enabled
            outcomes.append(
                [
                    _described(await _outcome(client.stat(container, "x"))),
                    _described(await _outcome(client.put_bytes(container, "x", b"1"))),
                    _described(await _outcome(client.get_bytes(container, "x"))),
                ]
            )
            assert AZURITE_KEY not in repr(client)
    assert outcomes[0] == outcomes[1]


async def test_hostile_names_stay_in_their_container(
    pair: tuple[AzureBlobClient, AzureBlobClient], container: str
) -> None:
    fast, _ = pair
    for i, name in enumerate(HOSTILE):
        await fast.put_bytes(container, name, str(i).encode())
    assert sorted(await fast.list_objects(container)) == sorted(HOSTILE)
    for i, name in enumerate(HOSTILE):
        assert await fast.get_bytes(container, name) == str(i).encode()
        assert (await fast.stat(container, name)).name == name
        await fast.delete_object(container, name)
    assert await fast.list_objects(container) == []
    for name in ["../x", "a/../b", "./x"]:
        with pytest.raises(ConfigurationError):
            await fast.put_bytes(container, name, b"x")


async def test_direct_only_where_it_does_what_the_sdk_does(
    azurite: Emulator, account_url: str, connection_string: str, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with AzureBlobClient(account_url=account_url, credential=AZURITE_KEY) as keyed:
        await keyed.put_bytes(container, "k", b"key")
        assert keyed._direct is not None
    # A SAS: the direct path too (its query on the URL); a custom transport: the SDK path.
    sas = generate_account_sas(
        AZURITE_ACCOUNT,
        AZURITE_KEY,
        resource_types=ResourceTypes(service=True, container=True, object=True),
        permission=AccountSasPermissions(read=True, write=True, create=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    async with AzureBlobClient(account_url=account_url, credential=sas) as signed:
        assert await signed.get_bytes(container, "k") == b"key"
        assert signed._direct is not None
    async with AzureBlobClient(connection_string=connection_string, transport=AioHttpTransport()) as custom:
        assert await custom.get_bytes(container, "k") == b"key"
        assert custom._direct is None
    # A proxy from the environment: the SDK path (decided when the service is built).
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.delenv("no_proxy", raising=False)
    proxied = AzureBlobClient(connection_string=connection_string)
    assert not isinstance(proxied._build_service(), _lazy_blob_service())
    monkeypatch.delenv("HTTP_PROXY")
    plain = AzureBlobClient(connection_string=connection_string)
    assert isinstance(plain._build_service(), _lazy_blob_service())


async def test_a_cancelled_direct_read_closes_its_response_at_once(
    monkeypatch: pytest.MonkeyPatch, connection_string: str, container: str
) -> None:
    reading: list[Any] = []
    started = anyio.Event()

    async def stuck(stream: Any) -> bytes:  # the body never arrives: the caller gives up
        reading.append(stream)
        started.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async with AzureBlobClient(connection_string=connection_string) as client:
        await client.put_bytes(container, "slow", b"x" * 1000)
        with monkeypatch.context() as patch:
            patch.setattr(azure_client, "read_body", stuck)
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.get_bytes, container, "slow")
                await started.wait()
                tg.cancel_scope.cancel()
        assert isinstance(reading[0], direct_module.DirectStream)
        assert reading[0].response.internal_response.closed  # given back now, not at aclose


async def test_a_cancelled_direct_put_and_head_close_their_response(
    monkeypatch: pytest.MonkeyPatch, connection_string: str, container: str
) -> None:
    responses: list[aiohttp.ClientResponse] = []
    started = anyio.Event()

    async def stuck(self: aiohttp.ClientResponse) -> bytes:
        responses.append(self)
        started.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async with AzureBlobClient(connection_string=connection_string) as client:
        await client.put_bytes(container, "h", b"x")
        for call in (lambda: client.stat(container, "h"), lambda: client.put_bytes(container, "h", b"y")):
            started = anyio.Event()
            with monkeypatch.context() as patch:
                patch.setattr(aiohttp.ClientResponse, "read", stuck)
                async with anyio.create_task_group() as tg:
                    tg.start_soon(call)
                    await started.wait()
                    tg.cancel_scope.cancel()
            assert responses[-1].closed
        assert len(responses) == 2
        assert await client.get_bytes(container, "h") in {b"x", b"y"}  # the client goes on
