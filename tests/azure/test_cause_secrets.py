"""An Azure error's azure-core or httpx cause (pickled with it by tblib on Dask workers) keeps
no SAS signature, no shared-key signature and no function key."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import httpx
import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

from cloud.azure import AzureBlobClient, AzureFunctionsClient
from cloud.common.exceptions import AuthenticationError, NotFoundError, TransportError
from cloud.common.retry import RetryPolicy
from tests.common.cause_secrets import assert_no_secret
from tests.compute.fakes.azure import FUNCTION_KEY, SUBSCRIPTION, AzureFake, FakeCredential
from tests.emulators import AZURITE_KEY, Emulator


async def test_bad_sas_cause_keeps_no_signature(azurite: Emulator) -> None:
    wrong_key = base64.b64encode(uuid.uuid4().bytes * 4).decode()
    sas = generate_account_sas(
        "devstoreaccount1",
        wrong_key,
        resource_types=ResourceTypes(service=True, container=True, object=True),
        permission=AccountSasPermissions(read=True),
        expiry=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    signature = parse_qs(sas)["sig"][0]
    async with AzureBlobClient(account_url=f"{azurite.url}/devstoreaccount1", credential=sas) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.get_bytes(f"az-{uuid.uuid4().hex[:12]}", "key")
    cause = caught.value.__cause__
    assert isinstance(cause, HttpResponseError) and cause.response is not None
    assert "sig=***" in cause.response.request.url  # the request carried the SAS
    assert_no_secret(caught.value, [signature], cause_type=HttpResponseError)


async def test_shared_key_cause_keeps_no_authorization(connection_string: str) -> None:
    async with AzureBlobClient(connection_string=connection_string) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.get_bytes(f"az-{uuid.uuid4().hex[:12]}", "key")
    cause = caught.value.__cause__
    assert isinstance(cause, HttpResponseError) and cause.response is not None
    assert cause.response.request.headers["Authorization"] == "***"  # the request was signed
    assert_no_secret(caught.value, [AZURITE_KEY, "SharedKey devstoreaccount1:"], cause_type=HttpResponseError)


@pytest.fixture(scope="module")
def functions_fake() -> Iterator[AzureFake]:
    """The Azure Resource Manager fake of the compute tests (it lists function keys)."""
    fake = AzureFake()
    try:
        yield fake
    finally:
        fake.server.stop()


async def test_invocation_transport_error_cause_keeps_no_function_key(functions_fake: AzureFake) -> None:
    functions_fake.add_function("rg-keys", "app-keys", "hello", {})

    def refuse(request: httpx.Request) -> httpx.Response:
        assert request.headers["x-functions-key"] == FUNCTION_KEY
        raise httpx.ConnectError("refused", request=request)

    async with AzureFunctionsClient(
        subscription_id=SUBSCRIPTION,
        resource_group="rg-keys",
        function_app="app-keys",
        base_url=functions_fake.server.url,
        credential=FakeCredential(),
        transport=httpx.MockTransport(refuse),
        retry=RetryPolicy(max_attempts=1),
    ) as functions:
        with pytest.raises(TransportError) as caught:
            await functions.invoke_function("hello", b"{}")
    assert_no_secret(caught.value, [FUNCTION_KEY], cause_type=httpx.ConnectError)
