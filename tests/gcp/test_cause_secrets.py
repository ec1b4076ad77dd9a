"""A GCS error's aiohttp cause (pickled with it by tblib on Dask workers) keeps no bearer token."""

from __future__ import annotations

import uuid

import aiohttp
import pytest

from cloud.common.exceptions import NotFoundError
from cloud.gcp import GCSClient
from tests.common.cause_secrets import assert_no_secret
from tests.gcp.paging_proxy import PagingProxy

TOKEN = "ya29.a0-test-" + uuid.uuid4().hex


async def test_not_found_cause_keeps_no_bearer_token(proxy: PagingProxy) -> None:
    async with GCSClient(api_root=proxy.url, project="gcp-tests") as gcs:
        # The emulator gets no credentials by default: make the SDK send a bearer token, as
        # it does to storage.googleapis.com.
        storage = await gcs._open()
        storage._api_is_dev = False

        async def token() -> str:
            return TOKEN

        storage.token.get = token
        with pytest.raises(NotFoundError) as caught:
            await gcs.get_bytes(f"gt-missing-{uuid.uuid4().hex[:12]}", "key")
    cause = caught.value.__cause__
    assert isinstance(cause, aiohttp.ClientResponseError)
    assert cause.request_info.headers["Authorization"] == "***"  # the request was authorized
    assert_no_secret(caught.value, [TOKEN], cause_type=aiohttp.ClientResponseError)
