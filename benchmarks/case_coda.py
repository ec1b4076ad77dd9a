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
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import time
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

TOKEN = "bench-coda-token-7d2e"
BURST = {"read": 300, "write": 30, "list_docs": 12}
FULL_SPEEDUP = 2.0  # windows of 3 s: the minimum for the burst is 6 s
QUICK_SPEEDUP = 10.0  # windows of 0.6 s, as the integration tests use


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
    sections = [_limiter_section(ctx), _burst_section(ctx)]
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
