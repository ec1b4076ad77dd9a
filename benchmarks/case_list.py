"""Listing 10,000 objects: ``iter_objects`` against the raw library's paginator.

Objects are seeded once per provider (unmeasured, with the raw library) into a dedicated
emulator; each measured run then walks the whole listing in a fresh process.  Baselines:
aiobotocore's ``list_objects_v2`` paginator, gcloud-aio-storage ``list_objects`` following
``nextPageToken``, azure-storage-blob aio ``list_blobs``; obstore's ``list`` stream on S3
and Azure, and s3fs ``_find`` on S3 (which gathers the whole listing, for reference).
"""

from __future__ import annotations

import asyncio
from typing import Any

from benchmarks import backends
from benchmarks.backends import Endpoint
from benchmarks.harness import (
    Context,
    Meter,
    MiB,
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

FULL_COUNT = 10_000
QUICK_COUNT = 1_000
PAGE = 1000


def object_name(i: int) -> str:
    """Names spread over a few folders, as listings usually are."""
    return f"list/d{i // 1000:02d}/obj-{i:06d}.txt"


# --------------------------------------------------------------------------------------
# worker side


async def seed(params: dict[str, Any], meter: Meter) -> None:
    """Create the bucket and ``count`` small objects with the raw library (unmeasured)."""
    ep: Endpoint = params["endpoint"]
    bucket, count = params["bucket"], params["count"]
    await backends.create_bucket(ep, bucket)
    semaphore = asyncio.Semaphore(64)
    body = b"x" * 16
    provider = ep["provider"]

    async def each(put: Any) -> None:
        async def one(i: int) -> None:
            async with semaphore:
                await put(object_name(i))

        await asyncio.gather(*(one(i) for i in range(count)))

    if provider == "s3":
        async with backends.raw_s3(ep) as s3:
            await each(lambda key: s3.put_object(Bucket=bucket, Key=key, Body=body))
    elif provider == "gcs":
        async with backends.raw_gcs(ep) as storage:
            await each(lambda key: storage.upload(bucket, key, body, content_type="text/plain", timeout=300))
    elif provider == "azure":
        async with backends.raw_azure(ep) as service:
            container = service.get_container_client(bucket)
            await each(lambda key: container.upload_blob(key, body, overwrite=True))


async def _list_ours(ep: Endpoint, bucket: str, meter: Meter) -> int:
    async with backends.ours(ep) as client:
        await client.object_exists(bucket, "warm-up")
        n = 0
        with meter.phase("list"):
            async for meta in client.iter_objects(bucket):
                n += 1 if meta.name else 0
        return n


async def _list_aiobotocore(ep: Endpoint, bucket: str, meter: Meter) -> int:
    async with backends.raw_s3(ep) as s3:
        await s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
        n = 0
        with meter.phase("list"):
            paginator = s3.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=bucket, PaginationConfig={"PageSize": PAGE}):
                for obj in page.get("Contents", []):
                    n += 1 if obj["Key"] else 0
        return n


async def _list_obstore(ep: Endpoint, bucket: str, meter: Meter) -> int:
    import obstore

    store = backends.obstore_store(ep, bucket)
    await obstore.list(store, prefix="warm-up/").collect_async()
    n = 0
    with meter.phase("list"):
        async for batch in obstore.list(store, chunk_size=PAGE):
            for obj in batch:
                n += 1 if obj["path"] else 0
    return n


async def _list_s3fs(ep: Endpoint, bucket: str, meter: Meter) -> int:
    import s3fs

    fs = s3fs.S3FileSystem(
        key="bench",
        secret="bench-secret",
        endpoint_url=ep["url"],
        asynchronous=True,
        skip_instance_cache=True,
        use_listings_cache=False,
        client_kwargs={"region_name": "us-east-1"},
    )
    session = await fs.set_session()
    try:
        await fs._ls(bucket, refresh=True)
        with meter.phase("list"):
            found = await fs._find(bucket)
        return len(found)
    finally:
        await session.close()


async def _list_gcloud(ep: Endpoint, bucket: str, meter: Meter) -> int:
    async with backends.raw_gcs(ep) as storage:
        await storage.list_objects(bucket, params={"maxResults": "1", "prefix": "warm-up/"})
        n = 0
        with meter.phase("list"):
            token: str | None = None
            while True:
                params = {"maxResults": str(PAGE)}
                if token:
                    params["pageToken"] = token
                page = await storage.list_objects(bucket, params=params)
                for obj in page.get("items", []):
                    n += 1 if obj["name"] else 0
                token = page.get("nextPageToken")
                if not token:
                    break
        return n


async def _list_azure(ep: Endpoint, bucket: str, meter: Meter, include: list[str] | None = None) -> int:
    async with backends.raw_azure(ep) as service:
        container = service.get_container_client(bucket)
        async for _ in container.list_blobs(name_starts_with="warm-up/"):
            break
        n = 0
        with meter.phase("list"):
            async for blob in container.list_blobs(include=include):
                n += 1 if blob.name else 0
        return n


async def _list_azure_metadata(ep: Endpoint, bucket: str, meter: Meter) -> int:
    """azure-aio listing what ours lists: each blob's user metadata too."""
    return await _list_azure(ep, bucket, meter, include=["metadata"])


LISTERS = {
    "ours": _list_ours,
    "aiobotocore": _list_aiobotocore,
    "obstore": _list_obstore,
    "s3fs": _list_s3fs,
    "gcloud-aio": _list_gcloud,
    "azure-aio": _list_azure,
    "azure-aio+metadata": _list_azure_metadata,
}


async def listing(params: dict[str, Any], meter: Meter) -> None:
    """Walk the whole listing with one variant (measured) and check the count."""
    n = await LISTERS[params["variant"]](params["endpoint"], params["bucket"], meter)
    if n != params["count"]:
        raise RuntimeError(f"listed {n} objects, expected {params['count']}")


# --------------------------------------------------------------------------------------
# orchestrator side

VARIANTS = {
    "s3": ["aiobotocore", "obstore", "s3fs"],
    "gcs": ["gcloud-aio"],
    "azure": ["azure-aio", "azure-aio+metadata", "obstore"],
}
CPU_TARGETS = {"s3": 0.3, "gcs": 1.0, "azure": 1.0}
"""Client CPU of ours / the raw library, at most (issue #17)."""
PAGING = {
    "s3": "moto pages by 1,000",
    "gcs": "the emulator ignores `maxResults` and answers every listing in one page, for ours and raw alike",
    "azure": "Azurite pages by 5,000 by default",
}


def run(ctx: Context) -> list[Section]:
    """Run the listing case on every storage provider."""
    count = QUICK_COUNT if ctx.quick else FULL_COUNT
    runs = ctx.runs(5, 1)
    return [
        guarded(
            f"List objects — {backends.PROVIDER_NAMES[provider]}", ctx.log, _run_provider, ctx, provider, count, runs
        )
        for provider in backends.STORAGE_PROVIDERS
        if ctx.want_provider(provider)
    ]


def _run_provider(ctx: Context, provider: str, count: int, runs: int) -> Section:
    ctx.log(f"[list] {provider}")
    ours_ok, ours_why = backends.ours_available(provider)
    variants = [("ours", ours_ok, ours_why)] + [(v, *backends.peer_available(v)) for v in VARIANTS[provider]]
    runnable = [v for v, ok, _ in variants if ok and (ctx.want_variant(v) or v == backends.RAW[provider])]
    bucket = backends.unique_bucket("list")
    section = Section(f"List {count:,} objects — {backends.PROVIDER_NAMES[provider]}")
    with ctx.emulators.fresh(provider) as ep:
        seeded = spawn("case_list", "seed", {"endpoint": ep, "bucket": bucket, "count": count}, log=ctx.log)
        if not seeded.ok:
            section.intro = f"Seeding {count:,} objects failed: {seeded.error}"
            return section

        def run_one(variant: str, _: int) -> RunResult:
            params = {"variant": variant, "endpoint": ep, "bucket": bucket, "count": count}
            return spawn("case_list", "listing", params, log=ctx.log)

        results = interleave(runnable, runs, run_one, ctx.log, label=f"list/{provider}")

    section.intro = (
        f"Median of {runs} run(s), interleaved, each in a fresh process; every item is touched. Paging: "
        f"{PAGING[provider]}."
    )
    raw = backends.RAW[provider]
    raw_res = results.get(raw, [])
    rows = []
    for variant, ok, why in variants:
        if not ok:
            rows.append([variant, f"not available: {why}", "", "", "", ""])
            continue
        if variant not in results:
            continue  # not selected by --variants
        res = results[variant]
        if not any(r.ok for r in res):
            rows.append([variant, f"failed: {first_error(res)}", "", "", "", ""])
            continue
        wall, cpu = med(res, "list", "wall"), med(res, "list", "cpu")
        rows.append(
            [
                f"**{variant}**"
                if variant == "ours"
                else (variant + (" (`_find`, gathers all)" if variant == "s3fs" else "")),
                fmt_s(wall),
                fmt_ratio(ratio(wall, med(raw_res, "list", "wall"))),
                fmt_s(cpu),
                fmt_ratio(ratio(cpu, med(raw_res, "list", "cpu"))),
                fmt_mib(med(res, "list", "rss")),
            ]
        )
    section.table(["variant", "wall s", f"wall / {raw}", "client CPU s", f"CPU / {raw}", "peak RSS growth MiB"], rows)
    ours_res = results.get("ours", [])
    w = ratio(med(ours_res, "list", "wall"), med(raw_res, "list", "wall"))
    c = ratio(med(ours_res, "list", "cpu"), med(raw_res, "list", "cpu"))
    ours_rss, raw_rss = med(ours_res, "list", "rss"), med(raw_res, "list", "rss")
    rss_limit = (raw_rss or 0) + 4 * MiB
    v1 = section.verdict(f"list {provider}: wall <= 1.05x {raw}", check("wall", w, 1.05))
    v2 = section.verdict(f"list {provider}: CPU <= 1.05x {raw}", check("cpu", c, 1.05))
    v3 = section.verdict(
        f"list {provider}: memory flat (RSS growth <= {raw} paginator's + 4 MiB)", check("rss", ours_rss, rss_limit)
    )
    target_rows = [
        [f"wall <= 1.05x {raw}", fmt_ratio(w), v1.cell(ctx.enforce)],
        [f"client CPU <= 1.05x {raw}", fmt_ratio(c), v2.cell(ctx.enforce)],
        [
            f"memory flat: RSS growth <= {raw}'s + 4 MiB",
            f"{fmt_mib(ours_rss)} MiB vs {fmt_mib(raw_rss)} MiB",
            v3.cell(ctx.enforce),
        ],
    ]
    cpu_limit = CPU_TARGETS[provider]  # issue #17
    v4 = section.verdict(f"list {provider}: CPU <= {cpu_limit:.2f}x {raw}", check("cpu", c, cpu_limit))
    target_rows.append([f"client CPU <= {cpu_limit:.2f}x {raw}", fmt_ratio(c), v4.cell(ctx.enforce)])
    obstore_res = results.get("obstore", [])
    if any(r.ok for r in obstore_res):
        target_rows.append(
            [
                "for reference: client CPU / obstore",
                fmt_ratio(ratio(med(ours_res, "list", "cpu"), med(obstore_res, "list", "cpu"))),
                "—",
            ]
        )
    target_rows += reference_rows(
        results,
        backends.LISTING_LIKE_FOR_LIKE.get(provider),
        [("wall", "list", "wall", False), ("client CPU", "list", "cpu", False)],
        "lists the same fields",
    )
    section.table(["target", "ours / baseline", "result"], target_rows)
    return section
