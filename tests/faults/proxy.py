"""A loopback HTTP/1.1 reverse proxy that injects faults, for the fault suite.

``FaultProxy(upstream_url).start()`` serves on ``proxy.url`` (127.0.0.1, a free port) from
its own event loop in a daemon thread, so it works whatever loop or thread the client
under test uses, and forwards every request to the upstream emulator unchanged (the
``Host`` header included, so request signatures stay valid; a ``Location`` answer that
points at the upstream is rewritten to point at the proxy).

A *fault plan* is a list of :class:`Rule`\\ s.  A rule matches requests (method, a regex on
the path, a regex on the raw query, a header that must be present, any predicate), may
let the first ``skip`` matches through, and then applies its fault ``times`` times (or
forever).  Every matching request is counted in ``rule.hits`` whether or not the fault
fired (``rule.fired``), so tests can see that a request was retried; ``rule.landed``
counts the faults that took effect where asked (a flip at an offset inside the body, a
cut or stall before the body's end).  The first rule still armed applies its fault;
every matching rule counts the request.

Faults (see each class): :class:`Reset` (TCP RST before forwarding, after part of the
request body went upstream, before the response, or after part of the response body),
:class:`Truncate` (the response's headers unchanged, its ``Content-Length`` included, then
a shorter body and a clean close), :class:`FlipResponse` / :class:`FlipRequest` (one byte
of the body inverted; upstream stores the flipped request body), :class:`Status` (an
answer of the proxy's own, e.g. a 503, without forwarding) and :class:`Stall` (nothing
sent for a while, before the response or in the middle of its body).

How it works (kept simple on purpose): it parses the request line and headers; answers
``Expect: 100-continue`` itself (the header is not forwarded); reads the request body by
``Content-Length`` (streamed upstream as it arrives) or chunked (de-chunked and buffered,
then forwarded with a ``Content-Length``); opens a fresh upstream connection per request
(``Connection: close``); and streams the response back with its own framing
(``Content-Length`` or chunked, re-encoded; a body delimited by the connection's end
closes the client connection too).  Client connections are kept alive otherwise.

Limitations: no TLS, no HTTP/2, no pipelining (a client that pipelines would still be
served in order), no trailers forwarded from chunked bodies, request bodies sent chunked
are buffered whole in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import re
import socket
import struct
import termios
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "FaultProxy",
    "FlipRequest",
    "FlipResponse",
    "LogEntry",
    "ProxiedRequest",
    "Reset",
    "Rule",
    "Stall",
    "Status",
    "Truncate",
]

_PIECE = 64 * 1024
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
    "expect",
    "transfer-encoding",
    "content-length",
}
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}

XML_503 = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Error><Code>ServerBusy</Code><Message>Injected by the fault proxy.</Message></Error>"
)
JSON_503 = b'{"error": {"code": 503, "message": "injected by the fault proxy", "errors": [{"reason": "backendError"}]}}'


# -- faults ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reset:
    """Reset the client connection (TCP RST).

    * default: as soon as the request's headers are read, before anything is forwarded;
    * ``request_bytes=N``: after the first ``N`` bytes of the request body went upstream
      (the upstream connection is reset too, so the emulator sees a body cut short);
    * ``before_response=True``: the whole request is forwarded and answered upstream, then
      the client gets a reset instead of the answer (the write happened);
    * ``response_bytes=N``: after the response headers and ``N`` bytes of its body (a value
      at least the body's size: right after the complete response).
    """

    request_bytes: int | None = None
    response_bytes: int | None = None
    before_response: bool = False


@dataclass(frozen=True)
class Truncate:
    """Forward the response headers unchanged (its ``Content-Length`` included), then only
    ``response_bytes`` bytes of the body, then close the connection normally (FIN)."""

    response_bytes: int


@dataclass(frozen=True)
class FlipResponse:
    """Invert the byte at ``offset`` of the response body (download corruption)."""

    offset: int


@dataclass(frozen=True)
class FlipRequest:
    """Invert the byte at ``offset`` of the request body before it goes upstream (upload
    corruption: the emulator receives, and may store, the flipped body)."""

    offset: int


@dataclass(frozen=True)
class Status:
    """Answer with ``status`` and ``body`` without forwarding (the request body is read and
    dropped, the connection stays usable).  ``retry_after`` adds a ``Retry-After``,
    ``headers`` any other headers (e.g. Azure's ``x-ms-error-code``)."""

    status: int = 503
    body: bytes = XML_503
    content_type: str = "application/xml"
    retry_after: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Stall:
    """Send nothing for ``seconds``: before anything is forwarded (``response_bytes=None``;
    the request is read first, then forwarded after the stall, unless the client left), or
    after the response headers and ``response_bytes`` bytes of its body (the rest follows
    after the stall; the proxy reads the whole answer from upstream first, so the upstream
    is never held during a stall)."""

    seconds: float
    response_bytes: int | None = None


Fault = Reset | Truncate | FlipResponse | FlipRequest | Status | Stall


# -- rules and log ---------------------------------------------------------------------------


@dataclass
class ProxiedRequest:
    """What a rule sees of a request."""

    method: str
    target: str
    path: str
    query: str
    headers: list[tuple[str, str]]

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``None``."""
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return None


@dataclass
class Rule:
    """Which requests get ``fault``, and counters of what happened.

    ``method`` (exact, case-insensitive), ``path`` (regex searched in the path),
    ``query`` (regex searched in the raw query string), ``header`` (must be present),
    ``when`` (any predicate): all given ones must hold.  The first ``skip`` matching
    requests pass untouched; the fault then applies to the next ``times`` ones (``None``:
    to every later one).  ``hits`` counts every matching request, ``fired`` the faults,
    ``landed`` the faults that took effect as asked (a flip, cut or mid-body stall at an
    offset inside the body; any other fault as soon as it fires).
    """

    fault: Fault
    method: str | None = None
    path: str | None = None
    query: str | None = None
    header: str | None = None
    when: Callable[[ProxiedRequest], bool] | None = None
    skip: int = 0
    times: int | None = 1
    hits: int = 0
    fired: int = 0
    landed: int = 0

    def matches(self, request: ProxiedRequest) -> bool:
        if self.method is not None and request.method.upper() != self.method.upper():
            return False
        if self.path is not None and not re.search(self.path, request.path):
            return False
        if self.query is not None and not re.search(self.query, request.query):
            return False
        if self.header is not None and request.header(self.header) is None:
            return False
        return self.when is None or self.when(request)

    @property
    def armed(self) -> bool:
        return self.hits > self.skip and (self.times is None or self.fired < self.times)


@dataclass
class LogEntry:
    """One request the proxy handled: the upstream status (``None`` if none was read) and
    the fault applied (its class name, or ``None``)."""

    method: str
    target: str
    request: ProxiedRequest
    status: int | None = None
    fault: str | None = None


class _Closed(Exception):
    """The client connection was closed by a fault; stop serving it."""


# -- the proxy -------------------------------------------------------------------------------


class FaultProxy:
    """``FaultProxy(upstream).start()`` -> serving on ``proxy.url`` until ``stop()``."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, not {upstream!r}")
        self.upstream = f"http://{parts.hostname}:{parts.port or 80}"
        self._up_host = parts.hostname
        self._up_port = parts.port or 80
        self.rules: list[Rule] = []
        self.log: list[LogEntry] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    # -- plan --------------------------------------------------------------------------------

    def add(self, fault: Fault, **match: object) -> Rule:
        """Append a rule (``match``: the :class:`Rule` fields) and return it."""
        rule = Rule(fault, **match)  # type: ignore[arg-type]
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        """Forget every rule and the log."""
        with self._lock:
            self.rules = []
            self.log = []

    def count(self, **match: object) -> int:
        """How many requests the proxy handled that match ``match`` (the :class:`Rule`
        matching fields: ``method``, ``path``, ``query``, ``header``, ``when``)."""
        probe = Rule(Status(), **match)  # type: ignore[arg-type]
        with self._lock:
            entries = list(self.log)
        return sum(1 for entry in entries if probe.matches(entry.request))

    def _choose(self, request: ProxiedRequest) -> Rule | None:
        chosen: Rule | None = None
        with self._lock:
            for rule in self.rules:
                if not rule.matches(request):
                    continue
                rule.hits += 1
                if chosen is None and rule.armed:
                    rule.fired += 1
                    chosen = rule
            if chosen is not None and _lands_when_fired(chosen.fault):
                chosen.landed += 1
        return chosen

    def _landed(self, rule: Rule | None) -> None:
        if rule is not None:
            with self._lock:
                rule.landed += 1

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FaultProxy:
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
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._client_connected, sock=sock, backlog=1024, limit=1024 * 1024)
                )
            except BaseException as exc:  # pragma: no cover - start-up failure is reported below
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._shutdown())
                loop.close()

        self._thread = threading.Thread(target=run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(30) or failure:
            raise RuntimeError("the fault proxy could not start") from (failure[0] if failure else None)
        return self

    def stop(self) -> None:
        """Stop serving, drop every connection and join the thread.  Idempotent."""
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- serving -----------------------------------------------------------------------------

    async def _client_connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                head = await _read_head(reader)
                if head is None:
                    break
                if not await self._exchange(head, reader, writer):
                    break
        except (_Closed, asyncio.CancelledError):
            pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass  # the client went away (e.g. it timed out during a stall)
        except Exception as exc:  # a proxy bug: recorded so a test can show it
            with self._lock:
                self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            self._tasks.discard(task)
            if not writer.is_closing():
                writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _exchange(self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; return whether the client connection stays open."""
        request_line, headers = _parse_head(head)
        method, target, version = request_line.split(" ", 2)
        path, _, query = target.partition("?")
        request = ProxiedRequest(method, target, path, query, headers)
        rule = self._choose(request)
        fault = rule.fault if rule is not None else None
        entry = LogEntry(method, target, request, fault=type(fault).__name__ if fault is not None else None)
        with self._lock:
            self.log.append(entry)
        keep_alive = _keep_alive(version, request.header("connection"))

        if isinstance(fault, Reset) and fault == Reset():
            _reset(writer)  # before anything is forwarded
            raise _Closed

        expect = request.header("expect")
        if expect is not None and expect.strip().lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()

        body = _request_body(reader, request)
        if isinstance(fault, Status):
            async for _ in body.pieces():
                pass
            await self._answer(writer, fault, method)
            return keep_alive

        if isinstance(fault, Stall) and fault.response_bytes is None:
            await body.buffer()
            await asyncio.sleep(fault.seconds)
            if reader.at_eof() or reader.exception() is not None or writer.is_closing():
                raise _Closed  # the client gave up: forward nothing (no late write upstream)

        up_reader, up_writer = await asyncio.open_connection(self._up_host, self._up_port, limit=1024 * 1024)
        try:
            length = await body.length()
            lines = [f"{method} {target} HTTP/1.1"]
            lines += [f"{k}: {v}" for k, v in headers if k.lower() not in _HOP_BY_HOP]
            if length is not None:
                lines.append(f"Content-Length: {length}")
            lines.append("Connection: close")
            up_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            sent = 0
            async for piece in body.pieces():
                if isinstance(fault, FlipRequest) and sent <= fault.offset < sent + len(piece):
                    self._landed(rule)
                    flipped = bytearray(piece)
                    flipped[fault.offset - sent] ^= 0xFF
                    piece = bytes(flipped)
                if isinstance(fault, Reset) and fault.request_bytes is not None:
                    room = fault.request_bytes - sent
                    if room <= len(piece):
                        up_writer.write(piece[:room])
                        await up_writer.drain()
                        await _flushed(up_writer)
                        _reset(up_writer)
                        _reset(writer)
                        raise _Closed
                up_writer.write(piece)
                sent += len(piece)
                await up_writer.drain()
            if isinstance(fault, Reset) and fault.request_bytes is not None:
                await _flushed(up_writer)
                _reset(up_writer)  # the body was shorter than request_bytes: reset at its end
                _reset(writer)
                raise _Closed

            status_line, up_headers = await _read_response_head(up_reader)
            status = int(status_line.split(" ", 2)[1])
            entry.status = status
            if isinstance(fault, Reset) and fault.before_response:
                await _drain_response(up_reader, method, status, up_headers)
                _reset(writer)
                raise _Closed
            framing, length = _response_framing(method, status, up_headers)
            answer: AsyncIterator[bytes] = _response_body(up_reader, framing, length)
            if isinstance(fault, Stall):
                # Take the whole answer first and let the upstream go: a single-threaded
                # emulator (the GCS one) would otherwise serve nobody during the stall.
                answer = _replay([piece async for piece in answer])
                up_writer.close()
            return await self._relay(rule, fault, status_line, up_headers, framing, length, answer, writer, keep_alive)
        finally:
            if not up_writer.is_closing():
                up_writer.close()

    async def _relay(
        self,
        rule: Rule | None,
        fault: Fault | None,
        status_line: str,
        up_headers: list[tuple[str, str]],
        framing: str,
        length: int | None,
        body: AsyncIterator[bytes],
        writer: asyncio.StreamWriter,
        keep_alive: bool,
    ) -> bool:
        """Send the upstream response to the client, applying ``fault``."""
        out = [status_line]
        for key, value in up_headers:
            lower = key.lower()
            if lower in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                continue
            if lower == "location" and value.startswith(self.upstream):
                value = self.url + value[len(self.upstream) :]
            out.append(f"{key}: {value}")
        if framing == "length" or (framing == "none" and length is not None):
            out.append(f"Content-Length: {length}")
        elif framing == "chunked":
            out.append("Transfer-Encoding: chunked")
        if framing == "eof":
            keep_alive = False
        if not keep_alive:
            out.append("Connection: close")
        writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))

        cut: int | None = None  # stop after this many body bytes
        if isinstance(fault, (Reset, Truncate)) and fault.response_bytes is not None:
            cut = fault.response_bytes
        stall_at = fault.response_bytes if isinstance(fault, Stall) else None
        sent = 0
        if framing != "none":
            async for piece in body:
                if isinstance(fault, FlipResponse) and sent <= fault.offset < sent + len(piece):
                    self._landed(rule)
                    flipped = bytearray(piece)
                    flipped[fault.offset - sent] ^= 0xFF
                    piece = bytes(flipped)
                if stall_at is not None and sent <= stall_at < sent + len(piece):
                    self._landed(rule)
                    before, piece = piece[: stall_at - sent], piece[stall_at - sent :]
                    _write_body(writer, before, framing)
                    sent += len(before)
                    await writer.drain()
                    await asyncio.sleep(fault.seconds)  # type: ignore[union-attr]
                    stall_at = None
                if cut is not None and sent + len(piece) >= cut:
                    if sent + len(piece) > cut or (framing == "length" and length is not None and cut < length):
                        self._landed(rule)  # cut before the body's end
                    _write_body(writer, piece[: cut - sent], framing)
                    await writer.drain()
                    await _flushed(writer)
                    self._cut(writer, fault)
                _write_body(writer, piece, framing)
                sent += len(piece)
                await writer.drain()
        if cut is not None:
            await writer.drain()
            await _flushed(writer)
            self._cut(writer, fault)  # the body was shorter than the cut: cut at its end
        if framing == "chunked":
            writer.write(b"0\r\n\r\n")
        await writer.drain()
        return keep_alive

    @staticmethod
    def _cut(writer: asyncio.StreamWriter, fault: Fault | None) -> None:
        if isinstance(fault, Reset):
            _reset(writer)
        else:
            writer.close()  # Truncate: a clean close, the body shorter than announced
        raise _Closed

    async def _answer(self, writer: asyncio.StreamWriter, fault: Status, method: str) -> None:
        reason = _REASONS.get(fault.status, "Error")
        lines = [
            f"HTTP/1.1 {fault.status} {reason}",
            f"Content-Type: {fault.content_type}",
            f"Content-Length: {len(fault.body)}",
        ]
        lines += [f"{key}: {value}" for key, value in fault.headers]
        if fault.retry_after is not None:
            lines.append(f"Retry-After: {fault.retry_after}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        if method.upper() != "HEAD":
            writer.write(fault.body)
        await writer.drain()


def _lands_when_fired(fault: Fault) -> bool:
    """Whether ``fault`` takes effect as soon as it fires (not at a body offset)."""
    if isinstance(fault, (FlipRequest, FlipResponse, Truncate)):
        return False
    return not (isinstance(fault, (Reset, Stall)) and fault.response_bytes is not None)


# -- HTTP/1.1 helpers --------------------------------------------------------------------------


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    """The request line and headers (``None`` at a clean end of the connection)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise
    return head.lstrip(b"\r\n")  # tolerate stray CRLFs between requests


def _parse_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        key, _, value = line.partition(":")
        headers.append((key.strip(), value.strip()))
    return lines[0], headers


def _get(headers: list[tuple[str, str]], name: str) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _keep_alive(version: str, connection: str | None) -> bool:
    tokens = {t.strip().lower() for t in (connection or "").split(",")}
    if "close" in tokens:
        return False
    return version.strip().upper() != "HTTP/1.0" or "keep-alive" in tokens


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0) instead of a FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _flushed(writer: asyncio.StreamWriter, limit: float = 1.0) -> None:
    """Wait (up to ``limit`` s) until the kernel sent everything written and the peer
    acknowledged it, so a reset right after does not discard bytes still queued here."""
    sock = writer.get_extra_info("socket")
    if sock is None:
        return
    deadline = time.monotonic() + limit
    buf = bytearray(4)
    while time.monotonic() < deadline:
        try:
            fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, buf)
        except OSError:
            return
        if struct.unpack("i", bytes(buf))[0] == 0:
            return
        await asyncio.sleep(0.005)


class _RequestBody:
    """A request body read by ``Content-Length`` (streamed) or chunked (buffered)."""

    def __init__(self, reader: asyncio.StreamReader, length: int | None, chunked: bool) -> None:
        self._reader = reader
        self._length = length
        self._chunked = chunked
        self._buffered: bytes | None = None

    async def buffer(self) -> None:
        if self._buffered is None:
            self._buffered = b"".join([piece async for piece in self._read()])

    async def length(self) -> int | None:
        if self._chunked:
            await self.buffer()
            assert self._buffered is not None
            return len(self._buffered)
        return self._length

    async def pieces(self) -> AsyncIterator[bytes]:
        if self._buffered is not None:
            view = memoryview(self._buffered)
            for start in range(0, len(view), _PIECE):
                yield bytes(view[start : start + _PIECE])
            return
        async for piece in self._read():
            yield piece

    async def _read(self) -> AsyncIterator[bytes]:
        reader = self._reader
        if self._chunked:
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":
                        pass  # trailers (dropped)
                    return
                yield await reader.readexactly(size)
                await reader.readexactly(2)
        remaining = self._length or 0
        while remaining > 0:
            piece = await reader.read(min(remaining, _PIECE))
            if not piece:
                raise asyncio.IncompleteReadError(b"", remaining)
            remaining -= len(piece)
            yield piece


def _request_body(reader: asyncio.StreamReader, request: ProxiedRequest) -> _RequestBody:
    encoding = (request.header("transfer-encoding") or "").lower()
    if "chunked" in encoding:
        return _RequestBody(reader, None, True)
    length = request.header("content-length")
    return _RequestBody(reader, int(length) if length else None, False)


async def _read_response_head(reader: asyncio.StreamReader) -> tuple[str, list[tuple[str, str]]]:
    """The first final (non-1xx) response head."""
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, headers = _parse_head(head)
        status = int(status_line.split(" ", 2)[1])
        if not 100 <= status < 200:
            return status_line, headers


def _response_framing(method: str, status: int, headers: list[tuple[str, str]]) -> tuple[str, int | None]:
    """``("none"|"length"|"chunked"|"eof", Content-Length)`` of a response."""
    raw_length = _get(headers, "content-length")
    length = int(raw_length) if raw_length is not None else None
    if method.upper() == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return "none", length
    if "chunked" in (_get(headers, "transfer-encoding") or "").lower():
        return "chunked", None
    if length is not None:
        return "length", length
    return "eof", None


async def _response_body(reader: asyncio.StreamReader, framing: str, length: int | None) -> AsyncIterator[bytes]:
    if framing == "chunked":
        async for piece in _RequestBody(reader, None, True)._read():
            yield piece
    elif framing == "length":
        async for piece in _RequestBody(reader, length, False)._read():
            yield piece
    elif framing == "eof":
        while piece := await reader.read(_PIECE):
            yield piece


async def _drain_response(
    reader: asyncio.StreamReader, method: str, status: int, headers: list[tuple[str, str]]
) -> None:
    framing, length = _response_framing(method, status, headers)
    if framing != "none":
        async for _ in _response_body(reader, framing, length):
            pass


async def _replay(pieces: list[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


def _write_body(writer: asyncio.StreamWriter, piece: bytes, framing: str) -> None:
    if not piece:
        return
    if framing == "chunked":
        writer.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
    else:
        writer.write(piece)
