"""The fault proxy itself, against a tiny upstream of its own (no emulator): framing in both
directions, keep-alive, ``100-continue``, and what each fault does on the wire.

A failure here is a bug of the proxy, never of the product.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar, cast

import pytest

from tests.faults.proxy import FaultProxy, FlipRequest, FlipResponse, Reset, Stall, Status, Truncate

pytestmark = pytest.mark.timeout(60)

BODY = bytes(range(256)) * 4096  # 1 MiB


class _Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    stored: ClassVar[dict[str, bytes]] = {}

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/chunked"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(BODY), 100_000):
                piece = BODY[start : start + 100_000]
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        body = self.stored.get(self.path, BODY)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Location", f"http://127.0.0.1:{cast(ThreadingHTTPServer, self.server).server_port}/next")
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self) -> None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or ""):
            self.send_error(411)  # the proxy must de-chunk request bodies
            return
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.stored[self.path] = body
        answer = hashlib.sha256(body).hexdigest().encode()
        self.send_response(201)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def proxy(upstream: str) -> Iterator[FaultProxy]:
    p = FaultProxy(upstream).start()
    try:
        yield p
    finally:
        p.stop()
        assert not p.errors


def _connection(proxy: FaultProxy, timeout: float = 10) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=timeout)


def _chunks(data: bytes, size: int = 70_000) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_keep_alive_both_framings_and_location(proxy: FaultProxy, upstream: str) -> None:
    conn = _connection(proxy)
    for _ in range(3):  # one client connection, several requests
        conn.request("GET", "/blob")
        response = conn.getresponse()
        assert response.status == 200 and response.read() == BODY
        assert response.getheader("Location") == f"{proxy.url}/next"
        conn.request("GET", "/chunked")
        response = conn.getresponse()
        assert response.getheader("Transfer-Encoding") == "chunked"
        assert response.read() == BODY
    sock = conn.sock
    assert sock is not None  # still the same, open connection
    conn.request("PUT", "/up", body=_chunks(BODY), encode_chunked=True, headers={"Transfer-Encoding": "chunked"})
    response = conn.getresponse()
    assert response.status == 201 and response.read() == hashlib.sha256(BODY).hexdigest().encode()
    assert conn.sock is sock
    conn.close()
    assert proxy.count(method="GET") == 6 and proxy.count(method="PUT") == 1


def test_expect_100_continue(proxy: FaultProxy) -> None:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
        sock.sendall(b"PUT /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(b"hello")
        answer = b""
        while not answer.endswith(hashlib.sha256(b"hello").hexdigest().encode()):
            piece = sock.recv(65536)
            assert piece
            answer += piece
        assert answer.startswith(b"HTTP/1.1 201")


def test_rules_skip_times_and_counts(proxy: FaultProxy) -> None:
    rule = proxy.add(Status(503, retry_after="1"), method="GET", path="^/blob$", skip=1, times=2)
    other = proxy.add(Status(500), method="GET", path="^/blob$", header="Range")
    statuses = []
    for _ in range(5):
        conn = _connection(proxy)
        conn.request("GET", "/blob")
        response = conn.getresponse()
        response.read()
        statuses.append(response.status)
        if response.status == 503:
            assert response.getheader("Retry-After") == "1"
        conn.close()
    assert statuses == [200, 503, 503, 200, 200]
    assert (rule.hits, rule.fired) == (5, 2)
    assert (other.hits, other.fired) == (0, 0)


def test_status_keeps_the_connection(proxy: FaultProxy) -> None:
    proxy.add(Status(503), method="PUT")
    conn = _connection(proxy)
    conn.request("PUT", "/x", body=BODY)
    response = conn.getresponse()
    assert response.status == 503 and b"ServerBusy" in response.read()
    conn.request("GET", "/blob")
    assert conn.getresponse().read() == BODY


def test_reset_before(proxy: FaultProxy) -> None:
    proxy.add(Reset(), method="GET")
    conn = _connection(proxy)
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        conn.request("GET", "/blob")
        conn.getresponse().read()
    assert proxy.log[0].status is None  # nothing went upstream


def test_reset_mid_response(proxy: FaultProxy) -> None:
    proxy.add(Reset(response_bytes=300_000), method="GET")
    conn = _connection(proxy)
    conn.request("GET", "/blob")
    response = conn.getresponse()
    got = b""
    with pytest.raises((ConnectionError, http.client.IncompleteRead)):
        while piece := response.read(65536):
            got += piece
        raise AssertionError("the body was not cut")
    assert len(got) <= 300_000 and BODY.startswith(got)


def test_reset_after_complete_response(proxy: FaultProxy) -> None:
    proxy.add(Reset(response_bytes=len(BODY)), method="GET")
    conn = _connection(proxy)
    conn.request("GET", "/blob")
    assert conn.getresponse().read() == BODY
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        conn.request("GET", "/blob")  # the kept-alive connection is dead
        conn.getresponse().read()


def test_reset_mid_request_body(proxy: FaultProxy) -> None:
    proxy.add(Reset(request_bytes=200_000), method="PUT")
    conn = _connection(proxy)
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        conn.request("PUT", "/cut", body=BODY)
        conn.getresponse().read()
    time.sleep(0.2)
    conn = _connection(proxy)
    conn.request("GET", "/cut")
    assert conn.getresponse().read() == BODY  # the upstream stored nothing under /cut


def test_reset_before_response_after_the_write(proxy: FaultProxy) -> None:
    proxy.add(Reset(before_response=True), method="PUT")
    data = BODY[::-1]
    conn = _connection(proxy)
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        conn.request("PUT", "/written", body=data)
        conn.getresponse().read()
    conn = _connection(proxy)
    conn.request("GET", "/written")
    assert conn.getresponse().read() == data  # the write happened


def test_truncate_keeps_content_length(proxy: FaultProxy) -> None:
    proxy.add(Truncate(response_bytes=1000), method="GET")
    conn = _connection(proxy)
    conn.request("GET", "/blob")
    response = conn.getresponse()
    assert response.getheader("Content-Length") == str(len(BODY))
    with pytest.raises(http.client.IncompleteRead) as info:
        response.read()
    assert info.value.partial == BODY[:1000]


def test_flip_response_and_request(proxy: FaultProxy) -> None:
    response_rule = proxy.add(FlipResponse(offset=123_456), method="GET", path="/blob")
    request_rule = proxy.add(FlipRequest(offset=7), method="PUT")
    beyond = proxy.add(FlipResponse(offset=len(BODY)), method="GET", path="/beyond")
    conn = _connection(proxy)
    conn.request("GET", "/blob")
    got = conn.getresponse().read()
    assert len(got) == len(BODY) and got[123_456] == BODY[123_456] ^ 0xFF
    assert got[:123_456] == BODY[:123_456] and got[123_457:] == BODY[123_457:]
    conn.request("PUT", "/flipped", body=BODY)
    assert conn.getresponse().read() != hashlib.sha256(BODY).hexdigest().encode()
    conn.request("GET", "/flipped")
    stored = conn.getresponse().read()
    assert stored[7] == BODY[7] ^ 0xFF and stored[8:] == BODY[8:]
    conn.request("GET", "/beyond")
    assert conn.getresponse().read() == BODY  # the offset is past the end: nothing flipped
    assert (response_rule.landed, request_rule.landed) == (1, 1)
    assert (beyond.fired, beyond.landed) == (1, 0)


def test_stalls(proxy: FaultProxy) -> None:
    proxy.add(Stall(0.6), method="GET", path="^/blob$")
    proxy.add(Stall(0.6, response_bytes=5000), method="GET", path="^/chunked$")
    conn = _connection(proxy)
    started = time.monotonic()
    conn.request("GET", "/blob")
    assert conn.getresponse().read() == BODY
    assert time.monotonic() - started >= 0.5
    started = time.monotonic()
    conn.request("GET", "/chunked")
    response = conn.getresponse()
    assert time.monotonic() - started < 0.5  # the headers came first
    assert response.read() == BODY
    assert time.monotonic() - started >= 0.5
    short = _connection(proxy, timeout=0.2)
    proxy.add(Stall(3), method="GET", path="^/blob$")
    with pytest.raises(TimeoutError):
        short.request("GET", "/blob")
        short.getresponse()
