"""The sliding-window token buckets, on a virtual clock (no real sleeping)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import anyio
import anyio.lowlevel
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud.coda_io import CodaClient, CodaRateLimiter, CodaRateLimits, SlidingWindowLimiter
from cloud.common.exceptions import ConfigurationError
from cloud.common.retry import RetryPolicy

from .virtual_clock import VirtualClock


async def test_a_burst_of_n_goes_at_once_and_the_rest_one_window_later(clock: VirtualClock) -> None:
    limiter = SlidingWindowLimiter(10, 6.0, clock=clock.time, sleep=clock.sleep)
    granted: list[tuple[int, float]] = []

    async def request(number: int) -> None:
        async with limiter.slot():
            granted.append((number, clock.time()))

    async with clock.running(), anyio.create_task_group() as group:
        for number in range(25):
            group.start_soon(request, number)
    assert [t for _, t in granted] == [0.0] * 10 + [6.0] * 10 + [12.0] * 5
    assert [n for n, _ in granted] == list(range(25))  # first come, first served


async def test_tokens_come_back_one_window_after_they_were_spent(clock: VirtualClock) -> None:
    """Unlike a continuously refilled bucket: 5 at t=0 and 5 at t=3 fill the window, so
    the next 5 go at t=6 (when the t=0 tokens return) and the 5 after at t=9."""
    limiter = SlidingWindowLimiter(10, 6.0, clock=clock.time, sleep=clock.sleep)
    granted: list[float] = []

    async def request(start: float) -> None:
        await clock.sleep(start)
        async with limiter.slot():
            granted.append(clock.time())

    async with clock.running(), anyio.create_task_group() as group:
        for start in [0.0] * 5 + [3.0] * 5 + [3.5] * 10:
            group.start_soon(request, start)
    assert Counter(granted) == {0.0: 5, 3.0: 5, 6.0: 5, 9.0: 5}


async def test_a_token_is_spent_when_the_request_ends(clock: VirtualClock) -> None:
    limiter = SlidingWindowLimiter(1, 6.0, clock=clock.time, sleep=clock.sleep)
    granted: list[float] = []

    async def slow_request() -> None:
        async with limiter.slot():
            granted.append(clock.time())
            await clock.sleep(4.0)  # the answer takes 4 s

    async with clock.running(), anyio.create_task_group() as group:
        group.start_soon(slow_request)
        group.start_soon(slow_request)
    assert granted == [0.0, 10.0]


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await anyio.lowlevel.checkpoint()
    raise AssertionError("condition never became true")


async def test_a_cancelled_waiter_does_not_take_a_token(clock: VirtualClock) -> None:
    limiter = SlidingWindowLimiter(1, 6.0, clock=clock.time, sleep=clock.sleep)
    granted: list[str] = []
    finish_a = anyio.Event()
    b_scope = anyio.CancelScope()

    async def request(name: str, hold: anyio.Event | None = None) -> None:
        async with limiter.slot():
            granted.append(f"{name}@{clock.time():g}")
            if hold is not None:
                await hold.wait()

    async def b() -> None:
        with b_scope:
            await request("b")

    async with clock.running(), anyio.create_task_group() as group:
        group.start_soon(request, "a", finish_a)
        await until(lambda: granted == ["a@0"])
        group.start_soon(b)
        await until(lambda: limiter._token_spent is not None)  # b is queued for the token
        b_scope.cancel()
        await until(lambda: limiter._lock is not None and not limiter._lock.locked())
        group.start_soon(request, "c")
        finish_a.set()
    assert granted == ["a@0", "c@6"]


async def test_classes_are_independent_and_limits_shared_by_clients(clock: VirtualClock) -> None:
    limiter = CodaRateLimiter(CodaRateLimits(), clock=clock.time, sleep=clock.sleep)
    log: list[tuple[str, str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        log.append((request.method, request.url.path, clock.time()))
        if request.method == "GET":
            return httpx.Response(200, json={"items": [], "completed": True})
        return httpx.Response(202, json={"requestId": "r"})

    def client() -> CodaClient:
        return CodaClient(
            api_token="tok-123456",
            base_url="https://coda.example/apis/v1",
            transport=httpx.MockTransport(handler),
            rate_limits=limiter,
            retry=RetryPolicy.disabled(),
        )

    first, second = client(), client()
    async with clock.running(), first, second, anyio.create_task_group() as group:
        for number in range(13):  # writes: 10/6 s, shared by both clients
            owner = first if number % 2 else second
            group.start_soon(lambda c=owner: c.upsert_rows("d", "t", rows=[]))
        for _ in range(120):  # reads: 100/6 s, not held back by the writes
            group.start_soon(lambda: first.get_mutation_status("r"))
        for _ in range(9):  # listing docs: 4/6 s
            group.start_soon(lambda: second.list_docs().collect())
        for _ in range(7):  # page canvas writes: 5/10 s
            group.start_soon(lambda: first.create_page("d", name="p"))

    def times(method: str, path: str) -> Counter[float]:
        return Counter(t for m, p, t in log if m == method and p.endswith(path))

    assert times("POST", "/rows") == {0.0: 10, 6.0: 3}
    assert times("GET", "/mutationStatus/r") == {0.0: 100, 6.0: 20}
    assert times("GET", "/apis/v1/docs") == {0.0: 4, 6.0: 4, 12.0: 1}
    assert times("POST", "/pages") == {0.0: 5, 10.0: 2}


async def test_client_pacing_keeps_every_window_within_the_limit(clock: VirtualClock) -> None:
    limiter = CodaRateLimiter(CodaRateLimits(write=(10, 6.0)), clock=clock.time, sleep=clock.sleep)
    sent: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(clock.time())
        return httpx.Response(202, json={"requestId": "r"})

    async with (
        clock.running(),
        CodaClient(api_token="tok-123456", transport=httpx.MockTransport(handler), rate_limits=limiter) as client,
        anyio.create_task_group() as group,
    ):
        for _ in range(45):
            group.start_soon(lambda: client.delete_row("d", "t", "r"))
    assert len(sent) == 45
    for t in sent:
        assert sum(1 for s in sent if t <= s < t + 6.0) <= 10


@settings(max_examples=40, deadline=None)
@given(
    capacity=st.integers(min_value=1, max_value=6),
    period=st.sampled_from([1.0, 2.5, 6.0]),
    requests=st.lists(
        st.tuples(st.floats(min_value=0, max_value=20), st.floats(min_value=0, max_value=3)), min_size=1, max_size=30
    ),
)
def test_no_window_ever_holds_more_than_n(capacity: int, period: float, requests: list[tuple[float, float]]) -> None:
    """Whenever a request is granted, fewer than N others are in flight or were spent less
    than one window ago -- so a server counting at any moment between sending and answering
    never sees more than N in any window."""

    async def scenario() -> list[tuple[float, float]]:
        clock = VirtualClock()
        limiter = SlidingWindowLimiter(capacity, period, clock=clock.time, sleep=clock.sleep)
        spans: list[tuple[float, float]] = []

        async def request(arrival: float, duration: float) -> None:
            await clock.sleep(arrival)
            async with limiter.slot():
                start = clock.time()
                await clock.sleep(duration)
            spans.append((start, clock.time()))

        async with clock.running(), anyio.create_task_group() as group:
            for arrival, duration in requests:
                group.start_soon(request, arrival, duration)
        return spans

    spans = anyio.run(scenario)
    assert len(spans) == len(requests)
    for start, _ in spans:
        busy = sum(1 for s, end in spans if s <= start and end + period > start)
        assert busy <= capacity


def test_rate_limits_are_validated_and_scalable() -> None:
    limits = CodaRateLimits()
    assert limits.read == (100, 6.0) and limits.write == (10, 6.0)
    assert limits.write_doc_content == (5, 10.0) and limits.list_docs == (4, 6.0) and limits.analytics == (100, 6.0)
    fast = limits.scaled(10)
    assert fast.read == (100, 0.6) and fast.write_doc_content == (5, 1.0)
    assert CodaRateLimits.unlimited().read is None
    for bad in [(0, 6.0), (10, 0.0), (10,), (1.5, 6.0)]:
        with pytest.raises(ConfigurationError):
            CodaRateLimits(read=bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        SlidingWindowLimiter(0, 1.0)
    with pytest.raises(ConfigurationError):
        CodaClient(api_token="tok-123456", rate_limits="fast")  # type: ignore[arg-type]


async def test_release_without_acquire_is_an_error() -> None:
    limiter = SlidingWindowLimiter(2, 1.0)
    with pytest.raises(RuntimeError):
        limiter.release()
    await limiter.acquire()
    assert limiter.available == 1
    limiter.release()
    assert limiter.available == 1  # spent, back one window later
