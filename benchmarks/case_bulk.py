"""Bulk transfer: N x 16 KiB files up then down at concurrency 64.

Ours: ``upload_many`` / ``download_many``.  Baselines: the raw library with a hand-written
``asyncio.gather`` + ``Semaphore`` (aiobotocore, gcloud-aio-storage, azure-storage-blob
aio), and on S3 also aioboto3 (``upload_file``/``download_file``), s3fs (``_put``/``_get``
of the file lists) and obstore; obstore on Azure too.  Every variant reads the source
files from disk and writes the downloaded objects to files, as ours does.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from benchmarks import backends
from benchmarks.backends import Endpoint
from benchmarks.harness import (
    Context,
    KiB,
    Meter,
    RunResult,
    Section,
    check,
    first_error,
    fmt_mib,
    fmt_ratio,
    fmt_s,
    guarded,
    interleave,
    med,
    ratio,
    reference_rows,
    spawn,
)

SIZE = 16 * KiB
CONCURRENCY = 64
FULL_COUNT = 2000
QUICK_COUNT = 200

Pairs = list[tuple[str, str]]
Transfer = Callable[[Pairs], Awaitable[None]]


# --------------------------------------------------------------------------------------
# worker side


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _write(path: str, data: bytes | memoryview) -> None:
    with open(path, "wb") as f:
        f.write(data)


async def _gather_bounded(items: Pairs, fn: Callable[[str, str], Awaitable[None]], concurrency: int) -> None:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(a: str, b: str) -> None:
        async with semaphore:
            await fn(a, b)

    await asyncio.gather(*(one(a, b) for a, b in items))


@contextlib.asynccontextmanager
async def _ours(ep: Endpoint, bucket: str, conc: int) -> AsyncIterator[tuple[Transfer, Transfer]]:
    async with backends.ours(ep) as client:
        await client.list_objects(bucket)  # warm-up: opens the session

        async def up(pairs: Pairs) -> None:
            results = await client.upload_many(bucket, pairs, concurrency=conc)
            failed = [r for r in results if not r.ok]
            if failed:
                raise RuntimeError(f"{len(failed)} uploads failed, first: {failed[0].error!r}")

        async def down(items: Pairs) -> None:
            results = await client.download_many(bucket, items, concurrency=conc)
            failed = [r for r in results if not r.ok]
            if failed:
                raise RuntimeError(f"{len(failed)} downloads failed, first: {failed[0].error!r}")

        yield up, down


@contextlib.asynccontextmanager
async def _raw_s3(ep: Endpoint, bucket: str, conc: int) -> AsyncIterator[tuple[Transfer, Transfer]]:
    async with backends.raw_s3(ep) as s3:
        await s3.list_objects_v2(Bucket=bucket, MaxKeys=1)

        async def put(path: str, key: str) -> None:
            await s3.put_object(Bucket=bucket, Key=key, Body=_read(path))

        async def get(key: str, path: str) -> None:
            response = await s3.get_object(Bucket=bucket, Key=key)
            async with response["Body"] as body:
                _write(path, await body.read())

        yield (lambda pairs: _gather_bounded(pairs, put, conc)), (lambda items: _gather_bounded(items, get, conc))


@contextlib.asynccontextmanager
async def _aioboto3(ep: Endpoint, bucket: str, conc: int) -> AsyncIterator[tuple[Transfer, Transfer]]:
    import aioboto3
    from aiobotocore.config import AioConfig

    session = aioboto3.Session()
    async with session.client(
        "s3",
        endpoint_url=ep["url"],
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench-secret",
        config=AioConfig(max_pool_connections=backends.POOL),
    ) as s3:
        await s3.list_objects_v2(Bucket=bucket, MaxKeys=1)

        async def put(path: str, key: str) -> None:
            await s3.upload_file(path, bucket, key)

        async def get(key: str, path: str) -> None:
            await s3.download_file(bucket, key, path)

        yield (lambda pairs: _gather_bounded(pairs, put, conc)), (lambda items: _gather_bounded(items, get, conc))


@contextlib.asynccontextmanager
async def _s3fs(ep: Endpoint, bucket: str, conc: int) -> AsyncIterator[tuple[Transfer, Transfer]]:
    import s3fs

    fs = s3fs.S3FileSystem(
        key="bench",
        secret="bench-secret",
        endpoint_url=ep["url"],
        asynchronous=True,
        skip_instance_cache=True,
        client_kwargs={"region_name": "us-east-1"},
        config_kwargs={"max_pool_connections": backends.POOL},
    )
    session = await fs.set_session()
    try:
        await fs._ls(bucket)

        async def up(pairs: Pairs) -> None:
            await fs._put([p for p, _ in pairs], [f"{bucket}/{k}" for _, k in pairs], batch_size=conc)

        async def down(items: Pairs) -> None:
            await fs._get([f"{bucket}/{k}" for k, _ in items], [p for _, p in items], batch_size=conc)

        yield up, down
    finally:
        await session.close()


@contextlib.asynccontextmanager
async def _obstore(ep: Endpoint, bucket: str, conc: int) -> AsyncIterator[tuple[Transfer, Transfer]]:
    import obstore

    store = backends.obstore_store(ep, bucket)
    await obstore.list(store, prefix="warm-up/").collect_async()

    async def put(path: str, key: str) -> None:
        await obstore.put_async(store, key, _read(path))

    async def get(key: str, path: str) -> None:
        result = await obstore.get_async(store, key)
        _write(path, memoryview(await result.bytes_async()))

    yield (lambda pairs: _gather_bounded(pairs, put, conc)), (lambda items: _gather_bounded(items, get, conc))


@contextlib.asynccontextmanager
async def _raw_gcs(ep: Endpoint, bucket: str, conc: int) -> AsyncIterator[tuple[Transfer, Transfer]]:
    async with backends.raw_gcs(ep) as storage:
        await storage.list_objects(bucket, params={"maxResults": "1"})

        async def put(path: str, key: str) -> None:
            await storage.upload(bucket, key, _read(path), content_type="application/octet-stream", timeout=300)

        async def get(key: str, path: str) -> None:
            _write(path, await storage.download(bucket, key, timeout=300))

        yield (lambda pairs: _gather_bounded(pairs, put, conc)), (lambda items: _gather_bounded(items, get, conc))


@contextlib.asynccontextmanager
async def _raw_gcs_crc32c(ep: Endpoint, bucket: str, conc: int) -> AsyncIterator[tuple[Transfer, Transfer]]:
    """gcloud-aio doing the integrity work ours does: the CRC32C sent in the upload's
    metadata (so GCS checks it: a multipart request), and checked on every download."""
    import base64

    import google_crc32c

    def crc32c(data: bytes) -> str:
        return base64.b64encode(google_crc32c.Checksum(data).digest()).decode()

    async with backends.raw_gcs(ep) as storage:
        await storage.list_objects(bucket, params={"maxResults": "1"})

        async def put(path: str, key: str) -> None:
            data = _read(path)
            await storage.upload(
                bucket,
                key,
                data,
                content_type="application/octet-stream",
                metadata={"crc32c": crc32c(data)},
                timeout=300,
            )

        async def get(key: str, path: str) -> None:
            async with await storage.download_stream(bucket, key, timeout=300) as response:
                expected = response.headers.get("X-Goog-Hash", "")
                data = await response.read()
            if f"crc32c={crc32c(data)}" not in expected:
                raise RuntimeError(f"CRC32C mismatch for {key}")
            _write(path, data)

        yield (lambda pairs: _gather_bounded(pairs, put, conc)), (lambda items: _gather_bounded(items, get, conc))


@contextlib.asynccontextmanager
async def _raw_azure(
    ep: Endpoint, bucket: str, conc: int, *, md5: bool = False
) -> AsyncIterator[tuple[Transfer, Transfer]]:
    async with backends.raw_azure(ep) as service:
        container = service.get_container_client(bucket)
        async for _ in container.list_blobs():
            break

        async def put(path: str, key: str) -> None:
            await container.upload_blob(key, _read(path), overwrite=True, validate_content=md5)

        async def get(key: str, path: str) -> None:
            downloader = await container.download_blob(key, validate_content=md5)
            _write(path, await downloader.readall())

        yield (lambda pairs: _gather_bounded(pairs, put, conc)), (lambda items: _gather_bounded(items, get, conc))


def _raw_azure_md5(
    ep: Endpoint, bucket: str, conc: int
) -> contextlib.AbstractAsyncContextManager[tuple[Transfer, Transfer]]:
    """azure-aio with the integrity checks ours makes (each body's MD5 sent, and checked on
    the way back)."""
    return _raw_azure(ep, bucket, conc, md5=True)


VARIANTS: dict[
    str, Callable[[Endpoint, str, int], contextlib.AbstractAsyncContextManager[tuple[Transfer, Transfer]]]
] = {
    "ours": _ours,
    "aiobotocore": _raw_s3,
    "aioboto3": _aioboto3,
    "s3fs": _s3fs,
    "obstore": _obstore,
    "gcloud-aio": _raw_gcs,
    "gcloud-aio+crc32c": _raw_gcs_crc32c,
    "azure-aio": _raw_azure,
    "azure-aio+md5": _raw_azure_md5,
}


async def workload(params: dict[str, Any], meter: Meter) -> None:
    """Upload every file of ``src``, then download them all, with one variant."""
    ep: Endpoint = params["endpoint"]
    src = Path(params["src"])
    count: int = params["count"]
    names = sorted(os.listdir(src))[:count]
    bucket = backends.unique_bucket("bulk")
    await backends.create_bucket(ep, bucket)
    dst = Path(tempfile.mkdtemp(prefix="bulk-dst-", dir=params["tmp"]))
    try:
        uploads = [(str(src / n), f"bulk/{n}") for n in names]
        downloads = [(f"bulk/{n}", str(dst / n)) for n in names]
        async with VARIANTS[params["variant"]](ep, bucket, params["concurrency"]) as (up, down):
            with meter.phase("upload"):
                await up(uploads)
            with meter.phase("download"):
                await down(downloads)
        got = sorted(os.listdir(dst))
        if got != names:
            raise RuntimeError(f"downloaded {len(got)} files, expected {len(names)}")
        for n in names[:: max(1, len(names) // 20)]:
            if (dst / n).read_bytes() != (src / n).read_bytes():
                raise RuntimeError(f"content of {n} differs after the round trip")
        await backends.delete_bucket(ep, bucket)
    finally:
        shutil.rmtree(dst, ignore_errors=True)


# --------------------------------------------------------------------------------------
# orchestrator side


def make_files(directory: Path, count: int, size: int) -> Path:
    """``count`` distinct files of ``size`` random bytes (created once, reused)."""
    directory.mkdir(parents=True, exist_ok=True)
    existing = sorted(directory.iterdir())
    if len(existing) >= count and all(p.stat().st_size == size for p in existing[:count]):
        return directory
    block = os.urandom(size)
    for i in range(count):
        prefix = f"{i:08d}".encode()
        (directory / f"f{i:05d}.bin").write_bytes(prefix + block[len(prefix) :])
    return directory


CPU_TARGETS = {"s3": 0.75, "azure": 0.60}
"""Client CPU of ours / the raw library, at most (issue #17)."""


def _variants(provider: str) -> list[tuple[str, bool, str]]:
    names = {
        "s3": ["aiobotocore", "aioboto3", "s3fs", "obstore"],
        "gcs": ["gcloud-aio", "gcloud-aio+crc32c"],
        "azure": ["azure-aio", "azure-aio+md5", "obstore"],
    }[provider]
    ok, why = backends.ours_available(provider)
    out = [("ours", ok, why)]
    for name in names:
        ok, why = backends.peer_available(name)
        out.append((name, ok, why))
    return out


def run(ctx: Context) -> list[Section]:
    """Run the bulk case on every storage provider."""
    count = QUICK_COUNT if ctx.quick else FULL_COUNT
    src = make_files(ctx.tmp / f"bulk-src-{count}", count, SIZE)
    runs = ctx.runs(5, 1)
    sections = []
    for provider in backends.STORAGE_PROVIDERS:
        if not ctx.want_provider(provider):
            continue
        title = f"Bulk upload + download — {backends.PROVIDER_NAMES[provider]}"
        sections.append(guarded(title, ctx.log, _run_provider, ctx, provider, src, count, runs))
    return sections


def _run_provider(ctx: Context, provider: str, src: Path, count: int, runs: int) -> Section:
    title = (
        f"Bulk upload + download, {count:,} x 16 KiB, concurrency {CONCURRENCY} — {backends.PROVIDER_NAMES[provider]}"
    )
    ctx.log(f"[bulk] {provider}")
    variants = _variants(provider)
    runnable = [v for v, ok, _ in variants if ok and (ctx.want_variant(v) or v == backends.RAW[provider])]
    fresh = provider == "gcs"

    def run_one(variant: str, _: int) -> RunResult:
        params = {"variant": variant, "src": str(src), "count": count, "concurrency": CONCURRENCY, "tmp": str(ctx.tmp)}
        if fresh:
            with ctx.emulators.fresh(provider) as ep:
                return spawn("case_bulk", "workload", {**params, "endpoint": ep}, log=ctx.log)
        return spawn("case_bulk", "workload", {**params, "endpoint": ctx.emulators.shared(provider)}, log=ctx.log)

    results = interleave(runnable, runs, run_one, ctx.log, label=f"bulk/{provider}")
    if provider == "s3":
        ctx.emulators.restart_shared("s3")  # give moto's memory back before the next case

    section = Section(title)
    section.intro = (
        f"Median of {runs} run(s), interleaved; each run in a fresh process"
        + (" against a fresh emulator" if fresh else "")
        + ". Client CPU is user+system seconds of the client process only (the emulator runs elsewhere)."
    )
    raw = backends.RAW[provider]
    raw_res = results.get(raw, [])
    rows = []
    for variant, ok, why in variants:
        if not ok:
            rows.append([variant, f"not available: {why}", "", "", "", "", "", ""])
            continue
        if variant not in results:
            continue  # not selected by --variants
        res = results[variant]
        if not any(r.ok for r in res):
            rows.append([variant, f"failed: {first_error(res)}", "", "", "", "", "", ""])
            continue
        wall = med(res, "upload+download", "wall")
        cpu = med(res, "upload+download", "cpu")
        rows.append(
            [
                f"**{variant}**" if variant == "ours" else variant,
                fmt_s(med(res, "upload", "wall")),
                fmt_s(med(res, "download", "wall")),
                fmt_s(wall),
                fmt_ratio(ratio(wall, med(raw_res, "upload+download", "wall"))),
                fmt_s(cpu),
                fmt_ratio(ratio(cpu, med(raw_res, "upload+download", "cpu"))),
                fmt_mib(med(res, "upload+download", "rss")),
            ]
        )
    section.table(
        [
            "variant",
            "upload wall s",
            "download wall s",
            "total wall s",
            f"wall / {raw}",
            "client CPU s",
            f"CPU / {raw}",
            "peak RSS growth MiB",
        ],
        rows,
    )

    ours_res = results.get("ours", [])
    targets = []
    wall_ratio = ratio(med(ours_res, "upload+download", "wall"), med(raw_res, "upload+download", "wall"))
    cpu_ratio = ratio(med(ours_res, "upload+download", "cpu"), med(raw_res, "upload+download", "cpu"))
    v1 = section.verdict(f"bulk {provider}: wall <= 1.05x {raw}", check("wall <= 1.05x raw", wall_ratio, 1.05))
    v2 = section.verdict(f"bulk {provider}: CPU <= 1.05x {raw}", check("CPU <= 1.05x raw", cpu_ratio, 1.05))
    targets.append([f"wall <= 1.05x {raw}", fmt_ratio(wall_ratio), v1.cell(ctx.enforce)])
    targets.append([f"client CPU <= 1.05x {raw}", fmt_ratio(cpu_ratio), v2.cell(ctx.enforce)])
    cpu_limit = CPU_TARGETS.get(provider)
    if cpu_limit is not None:  # issue #17: a leaner client than the raw library
        v5 = section.verdict(
            f"bulk {provider}: CPU <= {cpu_limit:.2f}x {raw}",
            check(f"CPU <= {cpu_limit:.2f}x raw", cpu_ratio, cpu_limit),
        )
        targets.append([f"client CPU <= {cpu_limit:.2f}x {raw}", fmt_ratio(cpu_ratio), v5.cell(ctx.enforce)])
    if provider == "s3":
        s3fs_res = results.get("s3fs", [])
        w = ratio(med(ours_res, "upload+download", "wall"), med(s3fs_res, "upload+download", "wall"))
        c = ratio(med(ours_res, "upload+download", "cpu"), med(s3fs_res, "upload+download", "cpu"))
        v3 = section.verdict("bulk s3: faster than s3fs (wall)", check("wall < s3fs", w, 0.999))
        v4 = section.verdict("bulk s3: less CPU than s3fs", check("CPU < s3fs", c, 0.999))
        targets.append(["faster than s3fs (wall)", fmt_ratio(w), v3.cell(ctx.enforce)])
        targets.append(["less client CPU than s3fs", fmt_ratio(c), v4.cell(ctx.enforce)])
    both = "upload+download"
    targets += reference_rows(
        results,
        backends.LIKE_FOR_LIKE.get(provider),
        [("wall", both, "wall", False), ("client CPU", both, "cpu", False)],
        "same integrity checks",
    )
    section.table(["target", "ours / baseline", "result"], targets)
    return section
