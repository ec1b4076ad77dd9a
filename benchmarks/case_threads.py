"""Sync facade under threads: 32 threads share one ``SyncS3Client`` and do put + get of
4 KiB objects, against the same loop on one boto3 client shared by the same 32 threads.

This is how a threaded program (a WSGI app, a thread pool) uses the blocking facade: every
call from every thread crosses to the facade's one event-loop thread; boto3 instead runs
each request in the calling thread on its urllib3 pool.  Wall time and the CPU of the whole
client process (every thread) are measured; each get is checked against what was put.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
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
    fmt_ratio,
    fmt_s,
    fmt_us,
    guarded,
    interleave,
    med,
    ratio,
    spawn,
)

THREADS = 32
SIZE = 4 * 1024
FULL_COUNT = 2000
QUICK_COUNT = 200
TARGET = 1.0


def _payload(i: int) -> bytes:
    head = f"{i:08d}".encode()
    return head + os.urandom(SIZE - len(head))


def workload(params: dict[str, Any], meter: Meter) -> None:
    """``count`` x (put + get) from ``THREADS`` threads with one shared client."""
    ep: Endpoint = params["endpoint"]
    bucket: str = params["bucket"]
    count: int = params["count"]
    variant: str = params["variant"]
    payloads = [_payload(i) for i in range(count)]

    if variant == "ours":
        client = backends.ours_sync(ep)

        def put(key: str, data: bytes) -> None:
            client.put_bytes(bucket, key, data)

        def get(key: str) -> bytes:
            data: bytes = client.get_bytes(bucket, key)
            return data

        close = client.close
    else:
        import boto3
        from botocore.config import Config

        client = boto3.session.Session().client(
            "s3",
            endpoint_url=ep["url"],
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench-secret",
            config=Config(max_pool_connections=THREADS, retries={"max_attempts": 3, "mode": "standard"}),
        )

        def put(key: str, data: bytes) -> None:
            client.put_object(Bucket=bucket, Key=key, Body=data)

        def get(key: str) -> bytes:
            data: bytes = client.get_object(Bucket=bucket, Key=key)["Body"].read()
            return data

        close = client.close

    def one(i: int) -> None:
        key = f"{variant}/{i:06d}"
        put(key, payloads[i])
        if get(key) != payloads[i]:
            raise RuntimeError(f"object {key} differs after the round trip")

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(lambda i: put(f"warm-up/{i}", b"x"), range(THREADS)))  # connections, loop thread
            with meter.phase("roundtrip"):
                list(pool.map(one, range(count)))
    finally:
        close()
    meter.extra["count"] = count


async def seed(params: dict[str, Any], meter: Meter) -> None:
    """Create the bucket with the raw library."""
    await backends.create_bucket(params["endpoint"], params["bucket"])


def run(ctx: Context) -> list[Section]:
    """Run the threaded facade case on S3 (moto)."""
    if not ctx.want_provider("s3"):
        return []
    return [guarded("Sync facade under 32 threads — S3 (moto)", ctx.log, _run, ctx)]


def _run(ctx: Context) -> Section:
    count = QUICK_COUNT if ctx.quick else FULL_COUNT
    runs = ctx.runs(5, 1)
    ctx.log("[threads] s3")
    section = Section(f"Sync facade under {THREADS} threads: {count:,} x (put + get) 4 KiB — S3 (moto)")
    ours_ok, ours_why = backends.ours_available("s3", sync=True)
    boto_ok, boto_why = backends.importable("import boto3")
    if not ours_ok or not boto_ok:
        section.intro = "Not available: " + "; ".join(
            w for ok, w in ((ours_ok, ours_why), (boto_ok, boto_why)) if not ok
        )
        return section
    ep = ctx.emulators.shared("s3")
    bucket = backends.unique_bucket("threads")
    seeded = spawn("case_threads", "seed", {"endpoint": ep, "bucket": bucket}, log=ctx.log)
    if not seeded.ok:
        section.intro = f"Creating the bucket failed: {seeded.error}"
        return section

    def run_one(variant: str, _: int) -> RunResult:
        params = {"variant": variant, "endpoint": ep, "bucket": bucket, "count": count}
        return spawn("case_threads", "workload", params, log=ctx.log)

    results = interleave(["ours", "boto3"], runs, run_one, ctx.log, label="threads/s3")
    ctx.emulators.restart_shared("s3")
    ours_res, boto_res = results["ours"], results["boto3"]
    if not any(r.ok for r in ours_res) or not any(r.ok for r in boto_res):
        section.intro = f"Failed: {first_error(ours_res) or first_error(boto_res)}"
        return section
    section.intro = (
        f"Median of {runs} run(s), interleaved, each in a fresh process: {THREADS} threads of one "
        "`ThreadPoolExecutor` share one client (our `SyncS3Client`, or one boto3 client with a pool of "
        f"{THREADS}); each item is a put then a get of the same key, checked. CPU is the client process's, "
        "every thread included."
    )
    rows = []
    for label, res in (("**SyncS3Client**", ours_res), ("boto3", boto_res)):
        wall, cpu = med(res, "roundtrip", "wall"), med(res, "roundtrip", "cpu")
        rows.append(
            [
                label,
                fmt_s(wall),
                fmt_us(None if cpu is None else cpu / (2 * count)),
                fmt_s(cpu),
                fmt_ratio(ratio(wall, med(boto_res, "roundtrip", "wall"))),
                fmt_ratio(ratio(cpu, med(boto_res, "roundtrip", "cpu"))),
            ]
        )
    section.table(["client", "wall s", "CPU µs / request", "client CPU s", "wall / boto3", "CPU / boto3"], rows)
    w = ratio(med(ours_res, "roundtrip", "wall"), med(boto_res, "roundtrip", "wall"))
    c = ratio(med(ours_res, "roundtrip", "cpu"), med(boto_res, "roundtrip", "cpu"))
    v1 = section.verdict(f"threads s3: wall <= {TARGET:.1f}x boto3", check("wall", w, TARGET))
    v2 = section.verdict(f"threads s3: CPU <= {TARGET:.1f}x boto3", check("cpu", c, TARGET))
    section.table(
        ["target", "ours / boto3", "result"],
        [
            [f"wall <= {TARGET:.1f}x boto3", fmt_ratio(w), v1.cell(ctx.enforce)],
            [f"client CPU <= {TARGET:.1f}x boto3", fmt_ratio(c), v2.cell(ctx.enforce)],
        ],
    )
    return section
