"""Streaming service: a Starlette app that serves 1 MiB objects and receives 1 MiB uploads.

The app is what a small web service on top of the SDK looks like: ``GET /open/{key}``
streams the object through ``client.open(...)`` (an :class:`~cloud.common.ObjectReader`),
``GET /open_read/{key}`` through ``client.open_read(...)``, ``PUT /upload/{key}`` hands the
request body (an async iterator of chunks) to ``client.upload_stream(...)``.  The same app
written on the raw library (aiobotocore, gcloud-aio-storage, azure-storage-blob aio) is the
baseline: a streaming GET, and the body gathered then stored with one put.

The requests come from an in-process ASGI driver (``httpx.ASGITransport``), 64 at a time,
so no HTTP server and no second process is involved: the process CPU per request is the
app's and the storage client's (plus the driver's, the same for both variants).  Every
response is checked for its length and a sample of each content.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, Protocol

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
    fmt_ratio,
    fmt_s,
    fmt_us,
    guarded,
    interleave,
    med,
    ratio,
    spawn,
)

SIZE = MiB
CHUNK = 64 * 1024
CONCURRENCY = 64
OBJECTS = 16  # distinct objects served (requests cycle over them)
FULL_REQUESTS = 512
QUICK_REQUESTS = 64
TARGET = 1.0

# phase of ours -> phase of raw it is compared with
PAIRS = {"open": "read", "open_read": "read", "upload_stream": "upload"}


class App(Protocol):
    """What each variant's service does for one request."""

    def read(self, key: str, how: str) -> AsyncIterator[bytes]: ...

    async def upload(self, key: str, body: AsyncIterator[bytes]) -> None: ...


def _content(i: int) -> bytes:
    head = f"object-{i:04d}-".encode()
    return (head * (SIZE // len(head) + 1))[:SIZE]


# --------------------------------------------------------------------------------------
# worker side: the two apps


class _Ours:
    def __init__(self, client: Any, bucket: str) -> None:
        self.client, self.bucket = client, bucket

    async def read(self, key: str, how: str) -> AsyncIterator[bytes]:
        if how == "open":
            async with self.client.open(self.bucket, key) as reader:
                async for chunk in reader:
                    yield chunk
        else:
            async for chunk in self.client.open_read(self.bucket, key, chunk_size=CHUNK):
                yield chunk

    async def upload(self, key: str, body: AsyncIterator[bytes]) -> None:
        await self.client.upload_stream(self.bucket, key, body)


class _Hashed:
    """A raw app that also hashes every byte it serves or stores, as ours does to verify
    them (MD5 for S3 and Azure, CRC32C for GCS): the like-for-like reference."""

    def __init__(self, raw: App, provider: str) -> None:
        self.raw = raw
        if provider == "gcs":
            import google_crc32c

            self.new: Any = google_crc32c.Checksum
        else:
            import hashlib

            self.new = hashlib.md5

    async def read(self, key: str, how: str) -> AsyncIterator[bytes]:
        digest = self.new()
        async for chunk in self.raw.read(key, how):
            digest.update(chunk)
            yield chunk
        digest.digest()

    async def upload(self, key: str, body: AsyncIterator[bytes]) -> None:
        digest = self.new()

        async def hashed() -> AsyncIterator[bytes]:
            async for chunk in body:
                digest.update(chunk)
                yield chunk

        await self.raw.upload(key, hashed())


class _RawS3:
    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3, self.bucket = s3, bucket

    async def read(self, key: str, how: str) -> AsyncIterator[bytes]:
        response = await self.s3.get_object(Bucket=self.bucket, Key=key)
        body = response["Body"]  # (aiobotocore 2.x's `async with` yields the aiohttp response)
        try:
            async for chunk in body.iter_chunks(CHUNK):
                yield chunk
        finally:
            body.close()

    async def upload(self, key: str, body: AsyncIterator[bytes]) -> None:
        data = b"".join([c async for c in body])
        await self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)


class _RawGCS:
    def __init__(self, storage: Any, bucket: str) -> None:
        self.storage, self.bucket = storage, bucket

    async def read(self, key: str, how: str) -> AsyncIterator[bytes]:
        stream = await self.storage.download_stream(self.bucket, key)
        while True:
            chunk = await stream.read(CHUNK)
            if not chunk:
                break
            yield chunk

    async def upload(self, key: str, body: AsyncIterator[bytes]) -> None:
        data = b"".join([c async for c in body])
        await self.storage.upload(self.bucket, key, data)


class _RawAzure:
    def __init__(self, service: Any, bucket: str) -> None:
        self.container = service.get_container_client(bucket)

    async def read(self, key: str, how: str) -> AsyncIterator[bytes]:
        downloader = await self.container.get_blob_client(key).download_blob()
        async for chunk in downloader.chunks():
            yield chunk

    async def upload(self, key: str, body: AsyncIterator[bytes]) -> None:
        data = b"".join([c async for c in body])
        await self.container.get_blob_client(key).upload_blob(data, overwrite=True)


@contextlib.asynccontextmanager
async def _app_for(ep: Endpoint, variant: str, bucket: str) -> AsyncIterator[App]:
    if variant == "ours":
        async with backends.ours(ep) as client:
            yield _Ours(client, bucket)
        return
    provider = ep["provider"]
    if variant == "raw+hash":
        async with _app_for(ep, "raw", bucket) as raw:
            yield _Hashed(raw, provider)
        return
    if provider == "s3":
        async with backends.raw_s3(ep) as s3:
            yield _RawS3(s3, bucket)
    elif provider == "gcs":
        async with backends.raw_gcs(ep) as storage:
            yield _RawGCS(storage, bucket)
    else:
        async with backends.raw_azure(ep) as service:
            yield _RawAzure(service, bucket)


def _starlette(app: App) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    async def get(request: Request) -> StreamingResponse:
        how, key = request.path_params["how"], request.path_params["key"]
        return StreamingResponse(app.read(key, how), media_type="application/octet-stream")

    async def put(request: Request) -> Response:
        await app.upload(request.path_params["key"], request.stream())
        return Response(status_code=201)

    return Starlette(
        routes=[
            Route("/{how:str}/{key:path}", get, methods=["GET"]),
            Route("/upload/{key:path}", put, methods=["PUT"]),
        ]
    )


async def workload(params: dict[str, Any], meter: Meter) -> None:
    """Seed the objects with the raw library, then drive the variant's app: reads (one phase
    per read style) and uploads, ``requests`` each, ``CONCURRENCY`` at a time."""
    import httpx

    ep: Endpoint = params["endpoint"]
    variant: str = params["variant"]
    n: int = params["requests"]
    bucket = backends.unique_bucket("svc")
    await backends.create_bucket(ep, bucket)
    contents = [_content(i) for i in range(OBJECTS)]
    async with _app_for(ep, "raw", bucket) as raw:
        for i, data in enumerate(contents):
            await raw.upload(f"obj/{i:04d}", _one(data))
    phases = ["open", "open_read", "upload_stream"] if variant == "ours" else ["read", "upload"]
    async with _app_for(ep, variant, bucket) as app:
        transport = httpx.ASGITransport(app=_starlette(app))
        async with httpx.AsyncClient(transport=transport, base_url="http://service", timeout=300) as http:
            limit = asyncio.Semaphore(CONCURRENCY)

            async def get(path: str, i: int) -> None:
                async with limit:
                    response = await http.get(f"/{path}/obj/{i % OBJECTS:04d}")
                body = response.content
                if response.status_code != 200 or len(body) != SIZE:
                    raise RuntimeError(f"GET /{path}: {response.status_code}, {len(body)} bytes")
                if i < OBJECTS and body != contents[i]:
                    raise RuntimeError(f"GET /{path}: content of object {i} differs")

            async def put(i: int) -> None:
                async with limit:
                    response = await http.put(f"/upload/up/{i:05d}", content=contents[i % OBJECTS])
                if response.status_code != 201:
                    raise RuntimeError(f"PUT: {response.status_code} {response.text[:200]}")

            await get("open" if variant == "ours" else "read", 0)  # warm-up: session, first connection
            await put(0)
            for phase in phases:
                with meter.phase(phase):
                    if phase.startswith("upload"):
                        await asyncio.gather(*(put(i) for i in range(n)))
                    else:
                        await asyncio.gather(*(get(phase, i) for i in range(n)))
        # the uploads arrived whole
        async with _app_for(ep, "raw", bucket) as raw:
            got = b"".join([c async for c in raw.read(f"up/{(n - 1):05d}", "read")])
            if got != contents[(n - 1) % OBJECTS]:
                raise RuntimeError("an uploaded object differs")
    meter.extra["requests"] = n
    with contextlib.suppress(Exception):
        await backends.delete_bucket(ep, bucket)


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


# --------------------------------------------------------------------------------------
# orchestrator side


def run(ctx: Context) -> list[Section]:
    """Run the service case on every storage provider."""
    n = QUICK_REQUESTS if ctx.quick else FULL_REQUESTS
    runs = ctx.runs(3, 1)  # each run moves 1.5 GiB per provider and variant
    ok, why = backends.importable("import starlette, httpx")
    if not ok:
        return [Section("Streaming service", intro=f"Not available: {why}")]
    return [
        guarded(
            f"Streaming service — {backends.PROVIDER_NAMES[provider]}", ctx.log, _run_provider, ctx, provider, n, runs
        )
        for provider in backends.STORAGE_PROVIDERS
        if ctx.want_provider(provider)
    ]


def _run_provider(ctx: Context, provider: str, n: int, runs: int) -> Section:
    ctx.log(f"[service] {provider}")
    raw = backends.RAW[provider]
    section = Section(
        f"Streaming service: {n} x 1 MiB per phase, {CONCURRENCY} concurrent requests — "
        f"{backends.PROVIDER_NAMES[provider]}"
    )
    variants = [("ours", *backends.ours_available(provider)), (raw, *backends.peer_available(raw))]
    hashed = f"{raw}+hash"
    missing = [f"{v}: {why}" for v, ok, why in variants if not ok]
    if missing:
        section.intro = "Not available: " + "; ".join(missing)
        return section
    fresh = provider in ("gcs", "azure")  # both emulators keep every object in memory (Azurite: 2 GiB at most)

    def run_one(variant: str, _: int) -> RunResult:
        params = {"variant": {"ours": "ours", hashed: "raw+hash"}.get(variant, "raw"), "requests": n}
        if fresh:
            with ctx.emulators.fresh(provider) as ep:
                return spawn("case_service", "workload", {**params, "endpoint": ep}, log=ctx.log)
        return spawn("case_service", "workload", {**params, "endpoint": ctx.emulators.shared(provider)}, log=ctx.log)

    results = interleave(["ours", raw, hashed], runs, run_one, ctx.log, label=f"service/{provider}")
    if provider == "s3":
        ctx.emulators.restart_shared("s3")  # give moto's memory back
    ours_res, raw_res, hashed_res = results["ours"], results[raw], results[hashed]
    if not any(r.ok for r in ours_res) or not any(r.ok for r in raw_res):
        section.intro = f"Failed: {first_error(ours_res) or first_error(raw_res)}"
        return section
    section.intro = (
        f"Median of {runs} run(s), interleaved, each in a fresh process"
        + (" against a fresh emulator" if fresh else "")
        + f". A Starlette app driven in process through `httpx.ASGITransport`, {CONCURRENCY} requests at a time; "
        f"CPU is the whole process's (app + storage client + the ASGI driver, the same driver for both) per request. "
        f"Raw: {raw} streaming GET in {CHUNK // 1024} KiB chunks; upload = the body gathered, then one put. "
        f"{hashed}: the same raw app hashing every byte it serves or stores "
        f"({'CRC32C' if provider == 'gcs' else 'MD5'}, the check ours makes), for reference."
    )
    rows = []
    targets = []
    for phase, raw_phase in PAIRS.items():
        wall, cpu = med(ours_res, phase, "wall"), med(ours_res, phase, "cpu")
        raw_wall, raw_cpu = med(raw_res, raw_phase, "wall"), med(raw_res, raw_phase, "cpu")
        cpu_ratio = ratio(cpu, raw_cpu)
        hashed_cpu = med(hashed_res, raw_phase, "cpu")
        rows.append(
            [
                f"`{phase}`" if phase != "upload_stream" else "`upload_stream` (PUT)",
                fmt_s(wall),
                fmt_s(raw_wall),
                fmt_us(None if cpu is None else cpu / n),
                fmt_us(None if raw_cpu is None else raw_cpu / n),
                fmt_ratio(cpu_ratio),
                fmt_ratio(ratio(wall, raw_wall)),
                fmt_us(None if hashed_cpu is None else hashed_cpu / n),
                fmt_ratio(ratio(cpu, hashed_cpu)),
            ]
        )
        verdict = section.verdict(
            f"service {provider}: `{phase}` CPU per request <= {TARGET:.1f}x {raw}",
            check(f"<= {TARGET:.1f}x", cpu_ratio, TARGET),
        )
        targets.append(
            [f"`{phase}`: CPU per request <= {TARGET:.1f}x {raw}", fmt_ratio(cpu_ratio), verdict.cell(ctx.enforce)]
        )
    section.table(
        [
            "request",
            "ours wall s",
            f"{raw} wall s",
            "ours CPU µs / request",
            f"{raw} CPU µs / request",
            "CPU ours / raw",
            "wall ours / raw",
            f"{hashed} CPU µs / request",
            f"CPU ours / {hashed}",
        ],
        rows,
    )
    section.table(["target", "ours / baseline", "result"], targets)
    return section
