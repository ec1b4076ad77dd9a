"""A loopback proxy in front of gcp-storage-emulator that makes object listings page.

The emulator ignores ``maxResults`` and ``pageToken`` (it never pages), so a client's
paging loop would never be exercised.  This proxy answers ``GET .../b/{bucket}/o`` itself:
it asks the emulator for the whole listing (without the paging parameters), merges items
and prefixes in name order, and returns ``maxResults`` entries per page with a
``nextPageToken`` (GCS's default page is 1,000).  Every other request is forwarded
unchanged, bodies streamed both ways.

For resumable-upload tests it can also inject faults into the chunk ``PUT`` requests of an
upload session (see :class:`UploadFault`) and records what it forwarded.

It runs an ``aiohttp.web`` server on its own event loop in a daemon thread, so it serves
any number of concurrent connections whatever loop (or thread) the client uses.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import threading
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, MultiDict
from yarl import URL

_LIST_PATH = re.compile(r"^(?:/storage/v1)?/b/[^/]+/o$")
_CHUNK_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
}
DEFAULT_PAGE = 1000


def encode_token(name: str) -> str:
    """The page token: the last name of the page, base64url (opaque to clients)."""
    return base64.urlsafe_b64encode(name.encode("utf-8")).decode("ascii")


def decode_token(token: str) -> str:
    """Inverse of :func:`encode_token`."""
    return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")


@dataclass
class UploadFault:
    """Break the ``skip``-th next chunk PUT of a resumable upload (0 = the next one).

    The first ``commit`` bytes of that chunk are forwarded to the emulator (so the server
    commits them, as GCS would after a connection dies mid-chunk), then the client gets
    ``action``: ``"error"`` (a 503 answer) or ``"drop"`` (the connection is closed without
    an answer).  ``action="corrupt"`` instead forwards the whole chunk with one byte flipped.
    """

    commit: int = 0
    action: str = "error"
    skip: int = 0


@dataclass
class ProxyLog:
    """What the proxy saw: listing pages served and chunk ``Content-Range`` headers."""

    pages: list[tuple[int, str | None, int]] = field(default_factory=list)
    chunk_ranges: list[str] = field(default_factory=list)
    faults_fired: int = 0


class PagingProxy:
    """``PagingProxy(upstream_url).start()`` -> serving on ``proxy.url`` until ``stop()``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.log = ProxyLog()
        self.faults: list[UploadFault] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> PagingProxy:
        """Start serving (returns once the socket listens)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._setup(sock))
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._teardown())
                loop.close()

        self._thread = threading.Thread(target=run, name="gcs-paging-proxy", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure:
            raise RuntimeError("the paging proxy could not start") from failure[0]
        return self

    def stop(self) -> None:
        """Stop serving and join the thread.  Idempotent."""
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)

    async def _setup(self, sock: socket.socket) -> None:
        self._client = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256, force_close=True),
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=30),
        )
        app = web.Application(client_max_size=1024**3)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.SockSite(self._runner, sock, backlog=1024)
        await site.start()

    async def _teardown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._client is not None:
            await self._client.close()

    # -- fault injection -------------------------------------------------------------------

    def inject(self, fault: UploadFault) -> None:
        """Arm a fault for the chunk PUTs of resumable uploads."""
        with self._lock:
            self.faults.append(fault)

    def reset(self) -> None:
        """Forget faults and logs."""
        with self._lock:
            self.faults.clear()
            self.log = ProxyLog()

    def _take_fault(self) -> UploadFault | None:
        with self._lock:
            if not self.faults:
                return None
            fault = self.faults[0]
            if fault.skip > 0:
                fault.skip -= 1
                return None
            self.faults.pop(0)
            self.log.faults_fired += 1
            return fault

    # -- handlers --------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.method == "GET" and _LIST_PATH.match(request.rel_url.raw_path):
            return await self._list(request)
        content_range = request.headers.get("Content-Range")
        if request.method == "PUT" and "upload_id" in request.rel_url.query and content_range:
            with self._lock:
                self.log.chunk_ranges.append(content_range)
            match = _CHUNK_RANGE.match(content_range)
            if match:
                fault = self._take_fault()
                if fault is not None:
                    return await self._fault(request, fault, int(match.group(1)))
        return await self._forward(request)

    def _upstream_url(self, raw_path_qs: str) -> URL:
        return URL(self.upstream + raw_path_qs, encoded=True)

    def _headers_out(self, request: web.Request) -> CIMultiDict[str]:
        headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP)
        return headers

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._client is not None
        headers = self._headers_out(request)
        data: Any = None
        length = request.content_length
        if request.body_exists:
            if length is not None:
                headers["Content-Length"] = str(length)
            data = request.content.iter_chunked(256 * 1024)
        async with self._client.request(
            request.method,
            self._upstream_url(request.rel_url.raw_path_qs),
            headers=headers,
            data=data,
            allow_redirects=False,
        ) as upstream:
            response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for key, value in upstream.headers.items():
                if key.lower() in _HOP_BY_HOP:
                    continue
                if key.lower() == "location" and value.startswith(self.upstream):
                    value = self.url + value[len(self.upstream) :]
                response.headers.add(key, value)
            if upstream.content_length is not None:
                response.content_length = upstream.content_length
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(256 * 1024):
                await response.write(chunk)
            await response.write_eof()
            return response

    async def _send_upstream(
        self, request: web.Request, headers: CIMultiDict[str], body: bytes
    ) -> tuple[int, CIMultiDict[str], bytes]:
        assert self._client is not None
        async with self._client.request(
            request.method,
            self._upstream_url(request.rel_url.raw_path_qs),
            headers=headers,
            data=body,
            allow_redirects=False,
        ) as upstream:
            return upstream.status, CIMultiDict(upstream.headers), await upstream.read()

    async def _fault(self, request: web.Request, fault: UploadFault, start: int) -> web.StreamResponse:
        body = await request.read()
        headers = self._headers_out(request)
        if fault.action == "corrupt":
            corrupted = bytearray(body)
            corrupted[len(corrupted) // 2] ^= 0xFF
            status, up_headers, up_body = await self._send_upstream(request, headers, bytes(corrupted))
            answer = web.Response(status=status, body=up_body)
            for key in ("Range", "Content-Type"):
                if key in up_headers:
                    answer.headers[key] = up_headers[key]
            return answer
        if fault.commit > 0:
            part = body[: fault.commit]
            headers["Content-Range"] = f"bytes {start}-{start + len(part) - 1}/*"
            headers.pop("X-Goog-Hash", None)
            await self._send_upstream(request, headers, part)
        if fault.action == "drop":
            transport = request.transport
            if transport is not None:
                transport.abort()
            raise asyncio.CancelledError  # nothing more is sent on this connection
        return web.json_response(
            {"error": {"code": 503, "message": "injected by the test proxy", "errors": [{"reason": "backendError"}]}},
            status=503,
        )

    async def _list(self, request: web.Request) -> web.StreamResponse:
        query = MultiDict(request.rel_url.query)
        max_results = int(query.pop("maxResults", DEFAULT_PAGE) or DEFAULT_PAGE)
        token = query.pop("pageToken", None) or None
        headers = self._headers_out(request)
        url = URL(self.upstream + request.rel_url.raw_path, encoded=True).with_query(query)
        assert self._client is not None
        async with self._client.get(url, headers=headers) as upstream:
            status, body = upstream.status, await upstream.read()
        if status != 200:
            return web.Response(status=status, body=body)
        data = json.loads(body or b"{}")
        entries: list[tuple[str, str, Any]] = [(item["name"], "item", item) for item in data.get("items") or []]
        entries += [(prefix, "prefix", prefix) for prefix in data.get("prefixes") or []]
        entries.sort(key=lambda e: e[0])
        if token:
            after = decode_token(token)
            entries = [e for e in entries if e[0] > after]
        page, rest = entries[:max_results], entries[max_results:]
        out: dict[str, Any] = {"kind": "storage#objects"}
        items = [e[2] for e in page if e[1] == "item"]
        prefixes = [e[2] for e in page if e[1] == "prefix"]
        if items:
            out["items"] = items
        if prefixes:
            out["prefixes"] = prefixes
        if rest and page:
            out["nextPageToken"] = encode_token(page[-1][0])
        with self._lock:
            self.log.pages.append((max_results, token, len(page)))
        return web.json_response(out)
