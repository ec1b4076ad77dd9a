"""Contract backend: S3Client against moto's S3 server (started once per test session)."""

from __future__ import annotations

from typing import Any

import pytest

from cloud.aws import S3Client, SyncS3Client
from cloud.common.models import CloudCredentials

ASYNC_CLASS = S3Client
SYNC_CLASS = SyncS3Client

CREDENTIALS = CloudCredentials(access_key_id="AKIACONTRACTTEST", secret_access_key="contract-secret-key-not-real")


def client_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    """An S3 client on the session's moto server, with explicit (fake) keys."""
    moto = request.getfixturevalue("moto_server")
    return {"endpoint_url": moto.url, "region": "us-east-1", "credentials": CREDENTIALS}
