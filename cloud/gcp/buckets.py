"""Bucket listing for ``cloud ls gs://`` (the provider registry's ``buckets`` entry)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from .client import GCSClient

__all__ = ["iter_buckets"]


async def iter_buckets(client: GCSClient) -> AsyncIterator[str]:
    """The names of the project's buckets, in name order (the project as for
    ``ensure_bucket``: ``project=``, ``GOOGLE_CLOUD_PROJECT``, the credentials')."""
    await client._open()
    project = await client._project_for_create()
    token: str | None = None
    while True:
        params = {"project": project, **({"pageToken": token} if token else {})}

        async def page(params: dict[str, str] = params) -> dict[str, Any]:
            _, _, body = await client._send("GET", f"{client.api_root}/storage/v1/b", params=params)
            answer: dict[str, Any] = json.loads(body or b"{}")
            return answer

        answer = await client._runner.call("list_buckets", page)
        for item in answer.get("items") or ():
            yield str(item["name"])
        token = answer.get("nextPageToken")
        if not token:
            return
