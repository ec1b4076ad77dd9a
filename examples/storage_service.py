"""A small HTTP service that streams objects in and out of storage (Starlette).

    GET /objects/{bucket}/{key}   the object, streamed, with Content-Length, Content-Type and
                                  ETag known before the first byte; a missing object is a 404
                                  (never a 200 with a cut body); ``Range: bytes=a-b`` -> 206
    PUT /objects/{bucket}/{key}   the request body streamed into the object (201), stored only
                                  when the whole body arrived

``client.open`` sends its one GET when entered, so the status line is decided by the
storage answer; a client that goes away mid-download cancels the response, which closes
the storage response at once.  ``client.open_write`` streams the request body through a
multipart / block / resumable upload with bounded memory and aborts it if the body breaks.

    python examples/storage_service.py [STORAGE_URL]    # a self-check, default memory://demo
    uvicorn "examples.storage_service:create_app_from_env" --factory   # STORAGE_URL=s3://...
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

import cloud
from cloud.common.base import StorageClient
from cloud.common.exceptions import APIError, CloudError, ConfigurationError
from cloud.common.objects import ObjectReader

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class ObjectResponse(StreamingResponse):
    """Streams an opened :class:`ObjectReader` and closes it however the response ends
    (finished, failed, or cancelled because the HTTP client went away)."""

    def __init__(self, reader: ObjectReader, *, status_code: int = 200, headers: dict[str, str] | None = None) -> None:
        sent = {"Content-Length": str(reader.size), "Accept-Ranges": "bytes", **(headers or {})}
        if reader.etag:
            sent["ETag"] = f'"{reader.etag}"'
        if reader.content_type:
            sent["Content-Type"] = reader.content_type  # as stored (no charset added)
        super().__init__(reader, status_code=status_code, headers=sent)
        self.reader = reader

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.reader.aclose()


def error_response(exc: CloudError) -> Response:
    """A storage error as an HTTP answer: the service's own status, 400 for bad names."""
    if isinstance(exc, ConfigurationError):
        return PlainTextResponse(str(exc), status_code=400)
    status = exc.status_code if isinstance(exc, APIError) and exc.status_code else 502
    return PlainTextResponse(type(exc).__name__, status_code=status)


def create_app(storage: StorageClient) -> Starlette:
    """The service on ``storage`` (closed with the app)."""

    async def get_object(request: Request) -> Response:
        bucket, key = request.path_params["bucket"], request.path_params["key"]
        start = end = None
        wanted = _RANGE.match(request.headers.get("range", ""))
        if wanted and (wanted[1] or wanted[2]):
            if wanted[1]:
                start, end = int(wanted[1]), int(wanted[2]) + 1 if wanted[2] else None
            else:
                start = -int(wanted[2])
        try:
            reader = storage.open(bucket, key, start=start, end=end)
            await reader.open()  # the status is decided here, before any body byte
        except CloudError as exc:
            return error_response(exc)
        if not wanted:
            return ObjectResponse(reader)
        first = (
            reader.object_size - reader.size if start is not None and start < 0 else min(start or 0, reader.object_size)
        )
        if reader.size == 0:
            await reader.aclose()
            return Response(status_code=416, headers={"Content-Range": f"bytes */{reader.object_size}"})
        content_range = f"bytes {first}-{first + reader.size - 1}/{reader.object_size}"
        return ObjectResponse(reader, status_code=206, headers={"Content-Range": content_range})

    async def put_object(request: Request) -> Response:
        bucket, key = request.path_params["bucket"], request.path_params["key"]
        try:
            writer = storage.open_write(bucket, key, content_type=request.headers.get("content-type"))
            async with writer:  # committed only if the whole body arrived
                async for chunk in request.stream():
                    if chunk:
                        await writer.write(chunk)
        except CloudError as exc:
            return error_response(exc)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is listening; the upload was aborted
        return JSONResponse({"bucket": bucket, "key": key, "size": writer.bytes_written}, status_code=201)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with storage:
            yield

    return Starlette(
        routes=[
            Route("/objects/{bucket}/{key:path}", get_object, methods=["GET"]),
            Route("/objects/{bucket}/{key:path}", put_object, methods=["PUT"]),
        ],
        lifespan=lifespan,
    )


def create_app_from_env() -> Starlette:
    """The service on ``$STORAGE_URL`` (default ``memory://``), for ``uvicorn --factory``."""
    return create_app(cloud.open_storage(os.environ.get("STORAGE_URL", "memory://")))


async def self_check(url: str) -> None:
    """Drive the service in process (no server): PUT, GET, a range, a 404."""
    location = cloud.parse_storage_url(url)
    storage = cloud.open_storage(url)
    bucket = location.bucket
    await storage.ensure_bucket(bucket)
    app = create_app(storage)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:

        async def body() -> AsyncIterator[bytes]:
            for i in range(64):
                yield bytes([65 + i % 26]) * 4096

        put = await http.put(
            f"/objects/{bucket}/demo/letters.txt", content=body(), headers={"content-type": "text/plain"}
        )
        print("PUT", put.status_code, put.json())
        got = await http.get(f"/objects/{bucket}/demo/letters.txt")
        print("GET", got.status_code, got.headers["content-length"], got.headers["content-type"], len(got.content))
        part = await http.get(f"/objects/{bucket}/demo/letters.txt", headers={"range": "bytes=4094-4097"})
        print("GET range", part.status_code, part.headers["content-range"], part.content)
        missing = await http.get(f"/objects/{bucket}/demo/absent.txt")
        print("GET missing", missing.status_code, len(missing.content))
    await storage.delete_bucket(bucket, force=True)
    await storage.aclose()


if __name__ == "__main__":
    anyio.run(self_check, sys.argv[1] if len(sys.argv) > 1 else "memory://demo")
