"""Sync facade overhead: ``SyncS3Client.get_metadata`` in a loop against the async call.

Each run makes ``N`` ``get_metadata`` calls on one existing object, in a fresh process:
through the blocking facade (every call crosses to the facade's loop thread through the
anyio blocking portal's loop thread) and directly with ``await`` in an ``asyncio.run`` loop.  The extra
cost per call is the difference of the medians divided by ``N``.  The same pair also runs
on the in-memory local store, where there is no network: it isolates the facade mechanism.
"""

from __future__ import annotations

import asyncio
from typing import Any

from benchmarks import backends
from benchmarks.backends import Endpoint
from benchmarks.harness import (
    Context,
    Meter,
    RunResult,
    Section,
    check,
    first_error,
    fmt_us,
    interleave,
    med,
    median,
    spawn,
)

KEY = "facade/object.txt"
BLOCK = 20


def facade(params: dict[str, Any], meter: Meter) -> None:
    """``N`` get_metadata calls through the facade and ``N`` awaited directly, in one process,
    alternating blocks of ``BLOCK`` calls (so that drifting load hits both sides alike)."""
    import resource
    import time

    ep: Endpoint = params["endpoint"]
    n: int = params["n"]
    bucket = params["bucket"]
    local = ep["provider"] == "local"
    loop = asyncio.new_event_loop()
    aclient = backends.ours(ep)
    loop.run_until_complete(aclient.__aenter__())
    totals = {"async": [0.0, 0.0], "sync": [0.0, 0.0], "floor": [0.0, 0.0]}
    from cloud.common.sync import _PORTAL

    async def empty() -> None:
        return None

    def cpu() -> float:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return ru.ru_utime + ru.ru_stime

    async def async_block(count: int) -> None:
        for _ in range(count):
            await aclient.get_metadata(bucket, KEY)

    try:
        with backends.ours_sync(ep) as client:
            if local:
                client.ensure_bucket(bucket)
                client.put_bytes(bucket, KEY, b"hello")
                loop.run_until_complete(aclient.ensure_bucket(bucket))
                loop.run_until_complete(aclient.put_bytes(bucket, KEY, b"hello"))
            client.get_metadata(bucket, KEY)  # warm-up: starts the loop thread and the session
            loop.run_until_complete(async_block(1))
            done = 0
            while done < n:
                count = min(BLOCK, n - done)
                t0, c0 = time.perf_counter(), cpu()
                loop.run_until_complete(async_block(count))
                t1, c1 = time.perf_counter(), cpu()
                for _ in range(count):
                    client.get_metadata(bucket, KEY)
                t2, c2 = time.perf_counter(), cpu()
                # The floor: an empty coroutine sent to the facade's loop thread and back
                # (the facade's own hand-over): the cost of crossing threads at all.
                facade_loop = _PORTAL.get()
                for _ in range(count):
                    facade_loop.call(empty)
                t3, c3 = time.perf_counter(), cpu()
                totals["floor"][0] += t3 - t2
                totals["floor"][1] += c3 - c2
                totals["async"][0] += t1 - t0
                totals["async"][1] += c1 - c0
                totals["sync"][0] += t2 - t1
                totals["sync"][1] += c2 - c1
                done += count
    finally:
        loop.run_until_complete(aclient.aclose())
        loop.close()
    for mode, (wall, cpu_s) in totals.items():
        meter.phases[mode] = {"wall": wall, "cpu": cpu_s, "rss": 0.0}


async def seed(params: dict[str, Any], meter: Meter) -> None:
    """Create the bucket and the object with the raw library."""
    ep: Endpoint = params["endpoint"]
    await backends.create_bucket(ep, params["bucket"])
    async with backends.raw_s3(ep) as s3:
        await s3.put_object(Bucket=params["bucket"], Key=KEY, Body=b"hello", ContentType="text/plain")


def run(ctx: Context) -> list[Section]:
    """Run the facade pairs on S3 (moto) and on the in-memory local store."""
    runs = ctx.runs(7, 1)
    section = Section("Sync facade overhead: `get_metadata` in a loop, blocking facade vs `await`")
    rows = []
    targets = []
    for provider, n in (("s3", 100 if ctx.quick else 2000), ("local", 2000 if ctx.quick else 20000)):
        ctx.log(f"[sync] {provider}")
        ok, why = backends.ours_available(provider, sync=True)
        label = "S3 (moto)" if provider == "s3" else "local, in memory (no I/O)"
        if not ok:
            rows.append([label, f"not available: {why}", "", "", "", "", "", "", ""])
            continue
        bucket = backends.unique_bucket("facade")
        if provider == "s3":
            ep = ctx.emulators.shared("s3")
            seeded = spawn("case_sync", "seed", {"endpoint": ep, "bucket": bucket}, log=ctx.log)
            if not seeded.ok:
                rows.append([label, f"seeding failed: {seeded.error}", "", "", "", "", "", "", ""])
                continue
        else:
            ep = {"provider": "local", "url": ""}

        def run_one(_: str, __: int, ep: Endpoint = ep, bucket: str = bucket, n: int = n) -> RunResult:
            return spawn("case_sync", "facade", {"endpoint": ep, "bucket": bucket, "n": n}, log=ctx.log)

        res = interleave(["paired"], runs, run_one, ctx.log, label=f"sync/{provider}")["paired"]
        if not any(r.ok for r in res):
            rows.append([label, f"failed: {first_error(res)}", "", "", "", "", "", "", ""])
            continue
        a_wall, s_wall = med(res, "async", "wall"), med(res, "sync", "wall")
        a_cpu, s_cpu = med(res, "async", "cpu"), med(res, "sync", "cpu")
        assert a_wall is not None and s_wall is not None and a_cpu is not None and s_cpu is not None
        # median of the per-run differences (each run pairs its own blocks)
        diffs = [(r.phases["sync"]["wall"] - r.phases["async"]["wall"]) / n for r in res if r.ok]
        extra = median(diffs)
        assert extra is not None
        floor = median([r.phases["floor"]["wall"] / n for r in res if r.ok and "floor" in r.phases])
        own = median(
            [
                (r.phases["sync"]["wall"] - r.phases["async"]["wall"] - r.phases["floor"]["wall"]) / n
                for r in res
                if r.ok
            ]
        )
        rows.append(
            [
                label,
                f"{n:,}",
                fmt_us(a_wall / n),
                fmt_us(s_wall / n),
                f"**{fmt_us(extra)}**",
                fmt_us(floor) if floor is not None else "—",
                fmt_us(own) if own is not None else "—",
                fmt_us(a_cpu / n),
                fmt_us(s_cpu / n),
            ]
        )
        if provider == "s3":  # the target: SyncS3Client.get_metadata
            verdict = section.verdict("sync facade (S3): < 100 µs extra per call", check("< 100 us", extra, 100e-6))
            targets.append([f"{label}: < 100 µs extra per call", f"{fmt_us(extra)} µs", verdict.cell(ctx.enforce)])
        else:
            targets.append([f"for reference: {label}, extra per call", f"{fmt_us(extra)} µs", "—"])
    section.intro = (
        f"Median of {runs} run(s), each in a fresh process that alternates blocks of {BLOCK} awaited calls and "
        f"{BLOCK} facade calls (both clients open side by side, so load drift hits both alike); the first call "
        "of each (loop thread, session) is outside the measurement. Per-call figures are the summed block "
        "times divided by N; extra = median over runs of (facade - async) / N."
    )
    section.table(
        [
            "backend",
            "calls",
            "async µs / call",
            "sync facade µs / call",
            "extra µs / call",
            "thread round trip (floor) µs",
            "extra above the floor µs",
            "async CPU µs / call",
            "sync CPU µs / call",
        ],
        rows,
    )
    section.table(["target", "ours", "result"], targets)
    section.notes.append(
        "The S3 row is the issue's target; the local row shows the facade's own cost without network noise "
        "(for reference: an in-memory call takes ~10 µs, so the facade's cost is almost all hand-over). "
        "The floor column is an empty coroutine sent to the same loop thread and back in the same blocks: no "
        "thread-based facade can cost less per call on this machine (its cross-thread wake-ups dominate)."
    )
    return [section]
