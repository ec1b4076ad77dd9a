"""A recording azure-core transport for the Azure tests: counts requests by kind, the most
in flight at once, and lets a test hold, fail or corrupt a request before it is sent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from azure.core.pipeline.transport import AioHttpTransport, AsyncHttpTransport


def request_kind(request: Any) -> str:
    """Classify a Blob request: stage_block, commit, ranged_get, get, head, put, other."""
    url: str = request.url
    query = url.split("?", 1)[1] if "?" in url else ""
    params = dict(p.partition("=")[::2] for p in query.split("&") if p)
    if request.method == "PUT" and params.get("comp") == "block":
        return "stage_block"
    if request.method == "PUT" and params.get("comp") == "blocklist":
        return "commit"
    if request.method == "GET" and not params and ("x-ms-range" in request.headers or "Range" in request.headers):
        return "ranged_get"
    return request.method.lower()


Hook = Callable[[Any, str], Awaitable[None]]


class RecordingTransport(AsyncHttpTransport):  # type: ignore[type-arg]
    """Wraps azure-core's aiohttp transport: counts requests by kind and the most in flight
    at once, and lets a test hook run before a request is sent (to hold or fail it)."""

    def __init__(self, hook: Hook | None = None) -> None:
        self.inner = AioHttpTransport()
        self.hook = hook
        self.sent: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self.requests: list[Any] = []

    async def __aenter__(self) -> RecordingTransport:
        await self.inner.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.inner.__aexit__(*exc_info)

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def sleep(self, duration: float) -> None:
        await self.inner.sleep(duration)

    async def send(self, request: Any, **kwargs: Any) -> Any:
        kind = request_kind(request)
        self.sent[kind] += 1
        self.requests.append(request)
        self.in_flight[kind] += 1
        self.max_in_flight[kind] = max(self.max_in_flight[kind], self.in_flight[kind])
        try:
            if self.hook is not None:
                await self.hook(request, kind)
            return await self.inner.send(request, **kwargs)
        finally:
            self.in_flight[kind] -= 1


class Gate:
    """Holds requests of one kind (after the first ``skip``) until ``target`` of them are
    in flight together.  A sequential implementation never gets there: the guard then fails
    the test with an AssertionError (which no retry policy retries)."""

    def __init__(self, kind: str, target: int, *, skip: int = 0) -> None:
        self.kind = kind
        self.target = target
        self.skip = skip
        self.waiting = 0
        self.opened = anyio.Event()

    async def __call__(self, request: Any, kind: str) -> None:
        if kind != self.kind or self.opened.is_set():
            return
        if self.skip > 0:
            self.skip -= 1
            return
        self.waiting += 1
        if self.waiting >= self.target:
            self.opened.set()
        with anyio.move_on_after(30) as scope:  # a guard against hanging, not a timing assertion
            await self.opened.wait()
        if scope.cancelled_caught:
            raise AssertionError(f"only {self.waiting} {self.kind} requests were ever in flight together")
