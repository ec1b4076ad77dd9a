"""Bucket listing for ``cloud ls s3://`` (the provider registry's ``buckets`` entry)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from .client import S3Client

__all__ = ["iter_buckets"]


async def iter_buckets(client: S3Client) -> AsyncIterator[str]:
    """The names of the buckets the credentials own, in name order."""
    token: str | None = None
    while True:
        params: dict[str, Any] = {"ContinuationToken": token} if token else {}
        answer = await client._request("list_buckets", "list_buckets", params)
        for bucket in answer.get("Buckets") or ():
            yield str(bucket["Name"])
        token = answer.get("ContinuationToken")
        if not token:
            return
