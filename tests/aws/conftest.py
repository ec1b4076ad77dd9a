"""Fixtures of the S3 tests: clients on the session's moto server, fresh buckets, wrappers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from cloud.aws import S3Client
from cloud.aws.client import MIN_PART_SIZE
from cloud.common.models import CloudCredentials
from cloud.common.retry import RetryPolicy

SECRET = "aws-tests-secret-Zq8v0x"
TOKEN = "aws-tests-session-token-Pk2m"
CREDENTIALS = CloudCredentials(access_key_id="AKIAAWSTESTS", secret_access_key=SECRET)


async def no_sleep(_: float) -> None:
    return None


FAST_RETRY = RetryPolicy(max_attempts=3, sleep=no_sleep)


@pytest.fixture
def moto_url(request: pytest.FixtureRequest) -> str:
    """Base URL of the session's moto server."""
    return str(request.getfixturevalue("moto_server").url)


def new_bucket_name() -> str:
    return f"aws-{uuid.uuid4().hex[:16]}"


@pytest.fixture
def make_client(moto_url: str) -> Callable[..., S3Client]:
    """Build an S3Client on moto (small parts, 3 in flight, retries without sleeping)."""

    def make(**overrides: Any) -> S3Client:
        options: dict[str, Any] = {
            "endpoint_url": moto_url,
            "region": "us-east-1",
            "credentials": CREDENTIALS,
            "part_size": MIN_PART_SIZE,
            "max_concurrency": 3,
            "retry": FAST_RETRY,
        }
        options.update(overrides)
        return S3Client(**options)

    return make


@pytest.fixture
async def s3(make_client: Callable[..., S3Client]) -> AsyncIterator[S3Client]:
    async with make_client() as client:
        yield client


@pytest.fixture
async def bucket(s3: S3Client) -> AsyncIterator[str]:
    name = new_bucket_name()
    assert await s3.ensure_bucket(name) is True
    yield name
    try:
        await s3.delete_bucket(name, force=True)
    except Exception:
        pass


Wrapper = Callable[[Callable[..., Awaitable[Any]], dict[str, Any]], Awaitable[Any]]


async def wrap(s3: S3Client, method: str, wrapper: Wrapper) -> None:
    """Route the raw aiobotocore client's ``method`` through ``wrapper(original, params)``."""
    raw = await s3._get_client()
    original = getattr(raw, method)

    async def wrapped(**params: Any) -> Any:
        return await wrapper(original, params)

    setattr(raw, method, wrapped)


def client_error(code: str, status: int, operation: str = "UploadPart", message: str = "injected") -> Exception:
    from botocore.exceptions import ClientError

    error: Exception = ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
        },
        operation,
    )
    return error
