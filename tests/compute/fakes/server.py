"""A loopback HTTP server for the fakes: a ``ThreadingHTTPServer`` on 127.0.0.1 in a daemon
thread (so async clients and the sync facades' loop thread both reach it).  A fake supplies
``handle(request) -> Response``; a request the fake finds invalid against the provider's API
description is answered 400 with ``FAKE REJECTED`` and recorded in ``rejections``."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Request:
    """One request as the fake sees it."""

    method: str
    path: str  # percent-decoded
    raw_path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Response:
    """What the fake answers."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data: Any, headers: Mapping[str, str] | None = None) -> Response:
        return cls(status, json.dumps(data).encode(), {"Content-Type": "application/json", **(headers or {})})


class Rejected(Exception):
    """A request that does not conform to the provider's API description."""


class FakeServer:
    """Serve ``handler`` on 127.0.0.1:<free port> until :meth:`stop`."""

    def __init__(self, handler: Callable[[Request], Response]) -> None:
        self.handler = handler
        self.rejections: list[str] = []
        self.requests: list[Request] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                request = Request(
                    self.command,
                    unquote(split.path),
                    split.path,
                    parse_qs(split.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                fake.requests.append(request)
                try:
                    response = fake.handler(request)
                except Rejected as exc:
                    fake.rejections.append(f"{self.command} {self.path}: {exc}")
                    response = Response.json(400, {"error": {"code": 400, "message": f"FAKE REJECTED: {exc}"}})
                except Exception as exc:  # a bug in the fake: make it loud
                    fake.rejections.append(f"{self.command} {self.path}: fake crashed: {exc!r}")
                    response = Response.json(500, {"error": {"code": 500, "message": f"fake crashed: {exc!r}"}})
                self.send_response(response.status)
                for key, value in response.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
