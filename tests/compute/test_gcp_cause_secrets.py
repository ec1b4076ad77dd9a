"""A Google REST client's httpx cause (pickled with our error by tblib on Dask workers) keeps no
bearer token."""

from __future__ import annotations

import socket
import uuid

import httpx
import pytest

from cloud.common.exceptions import TransportError
from cloud.common.models import CloudCredentials
from cloud.common.retry import RetryPolicy
from cloud.gcp import ComputeEngineClient
from tests.common.cause_secrets import assert_no_secret

TOKEN = "ya29.a0-compute-" + uuid.uuid4().hex


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_transport_error_cause_keeps_no_bearer_token() -> None:
    client = ComputeEngineClient(
        project="gcp-tests",
        zone="us-central1-a",
        credentials=CloudCredentials(token=TOKEN),
        api_root=f"http://127.0.0.1:{_closed_port()}",
        retry=RetryPolicy.disabled(),
    )
    async with client:
        with pytest.raises(TransportError) as caught:
            await client.get_instance("vm-1")
    cause = caught.value.__cause__
    assert isinstance(cause, httpx.TransportError)
    assert "authorization" in cause.request.headers  # the request did carry the credential
    assert_no_secret(caught.value, [TOKEN], cause_type=httpx.TransportError)
