"""One large object up and down: 256 MiB (S3: 128 MiB, moto holds ~5x the object in RAM).

Ours: ``upload_file`` / ``download_file`` with the client's default part size and
concurrency.  Baselines, each given the same part size and concurrency: the raw library's
best practice (aiobotocore: hand-written parallel multipart upload and parallel ranged
GETs written with ``os.pwrite``; gcloud-aio-storage: ``upload`` of the open file as a
resumable upload and ``download_stream``; azure-storage-blob aio: ``upload_blob`` of the
open file and ``download_blob(...).readinto`` with ``max_concurrency``), aioboto3's managed
``upload_file``/``download_file`` on S3, and obstore on S3 and Azure.

Upload and download run in two separate fresh processes (so each has its own peak RSS),
against a fresh emulator per run and variant.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from pathlib import Path
from typing import Any

from benchmarks import backends
from benchmarks.backends import Endpoint
from benchmarks.harness import (
    Context,
    Meter,
    MiB,
    RunResult,
    Section,
    Verdict,
    check,
    first_error,
    fmt_mib,
    fmt_rate,
    fmt_ratio,
    fmt_s,
    guarded,
    interleave,
    med,
    ratio,
    reference_rows,
    spawn,
)

FULL_SIZE = {"s3": 128 * MiB, "gcs": 256 * MiB, "azure": 256 * MiB}
QUICK_SIZE = 24 * MiB
FALLBACK_PART = 8 * MiB
FALLBACK_CONCURRENCY = 8
KEY = "large/object.bin"


# --------------------------------------------------------------------------------------
# worker side: uploads


async def _up_ours(ep: Endpoint, bucket: str, path: str, part: int, conc: int, meter: Meter) -> None:
    async with backends.ours(ep) as client:
        await client.list_objects(bucket)
        with meter.phase("upload"):
            await client.upload_file(path, bucket, KEY)


async def _up_aiobotocore(ep: Endpoint, bucket: str, path: str, part: int, conc: int, meter: Meter) -> None:
    async with backends.raw_s3(ep) as s3:
        await s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
        with meter.phase("upload"):
            size = os.path.getsize(path)
            upload_id = (await s3.create_multipart_upload(Bucket=bucket, Key=KEY))["UploadId"]
            semaphore = asyncio.Semaphore(conc)

            async def one(index: int) -> dict[str, Any]:
                async with semaphore:
                    with open(path, "rb") as f:
                        f.seek(index * part)
                        data = f.read(part)
                    response = await s3.upload_part(
                        Bucket=bucket, Key=KEY, UploadId=upload_id, PartNumber=index + 1, Body=data
                    )
                    return {"ETag": response["ETag"], "PartNumber": index + 1}

            parts = await asyncio.gather(*(one(i) for i in range((size + part - 1) // part)))
            await s3.complete_multipart_upload(
                Bucket=bucket, Key=KEY, UploadId=upload_id, MultipartUpload={"Parts": list(parts)}
            )


def _aioboto3_session_client(ep: Endpoint) -> Any:
    import aioboto3
    from aiobotocore.config import AioConfig

    return aioboto3.Session().client(
        "s3",
        endpoint_url=ep["url"],
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench-secret",
        config=AioConfig(max_pool_connections=backends.POOL),
    )


def _transfer_config(part: int, conc: int) -> Any:
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(multipart_threshold=part, multipart_chunksize=part, max_concurrency=conc)


async def _up_aioboto3(ep: Endpoint, bucket: str, path: str, part: int, conc: int, meter: Meter) -> None:
    async with _aioboto3_session_client(ep) as s3:
        await s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
        with meter.phase("upload"):
            await s3.upload_file(path, bucket, KEY, Config=_transfer_config(part, conc))


async def _up_obstore(ep: Endpoint, bucket: str, path: str, part: int, conc: int, meter: Meter) -> None:
    import obstore

    store = backends.obstore_store(ep, bucket)
    await obstore.list(store, prefix="warm-up/").collect_async()
    with meter.phase("upload"):
        await obstore.put_async(store, KEY, Path(path), chunk_size=part, max_concurrency=conc)


async def _up_gcloud(ep: Endpoint, bucket: str, path: str, part: int, conc: int, meter: Meter) -> None:
    async with backends.raw_gcs(ep) as storage:
        await storage.list_objects(bucket, params={"maxResults": "1"})
        with meter.phase("upload"), open(path, "rb") as f:
            await storage.upload(
                bucket,
                KEY,
                f,
                content_type="application/octet-stream",
                force_resumable_upload=True,
                timeout=900,
            )


async def _up_gcloud_crc32c(ep: Endpoint, bucket: str, path: str, part: int, conc: int, meter: Meter) -> None:
    """gcloud-aio with the integrity check ours makes: the file's CRC32C (one pass over it)
    sent in the resumable session's metadata, so GCS refuses any other content."""
    import google_crc32c

    async with backends.raw_gcs(ep) as storage:
        await storage.list_objects(bucket, params={"maxResults": "1"})
        with meter.phase("upload"):
            checksum = google_crc32c.Checksum()
            with open(path, "rb") as f:
                while block := f.read(MiB):
                    checksum.update(block)
            crc = base64.b64encode(checksum.digest()).decode()
            with open(path, "rb") as f:
                await storage.upload(
                    bucket,
                    KEY,
                    f,
                    content_type="application/octet-stream",
                    metadata={"crc32c": crc},
                    force_resumable_upload=True,
                    timeout=900,
                )


async def _up_azure(
    ep: Endpoint, bucket: str, path: str, part: int, conc: int, meter: Meter, *, md5: bool = False
) -> None:
    from azure.storage.blob.aio import BlobServiceClient

    async with BlobServiceClient.from_connection_string(
        ep["connection_string"], max_block_size=part, max_single_put_size=part
    ) as service:
        container = service.get_container_client(bucket)
        async for _ in container.list_blobs():
            break
        blob = container.get_blob_client(KEY)
        with meter.phase("upload"), open(path, "rb") as f:
            await blob.upload_blob(
                f, length=os.path.getsize(path), overwrite=True, max_concurrency=conc, validate_content=md5
            )


async def _up_azure_md5(ep: Endpoint, bucket: str, path: str, part: int, conc: int, meter: Meter) -> None:
    """azure-aio with the integrity check ours makes: every block's MD5 sent as its
    Content-MD5, which the service verifies."""
    await _up_azure(ep, bucket, path, part, conc, meter, md5=True)


# --------------------------------------------------------------------------------------
# worker side: downloads


async def _down_ours(ep: Endpoint, bucket: str, path: str, part: int, conc: int, meter: Meter) -> None:
    async with backends.ours(ep) as client:
        await client.list_objects(bucket)
        with meter.phase("download"):
            await client.download_file(bucket, KEY, path)


async def _down_aiobotocore(ep: Endpoint, bucket: str, path: str, part: int, conc: int, meter: Meter) -> None:
    async with backends.raw_s3(ep) as s3:
        await s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
        with meter.phase("download"):
            size = (await s3.head_object(Bucket=bucket, Key=KEY))["ContentLength"]
            semaphore = asyncio.Semaphore(conc)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.ftruncate(fd, size)

                async def one(start: int) -> None:
                    async with semaphore:
                        end = min(size, start + part) - 1
                        response = await s3.get_object(Bucket=bucket, Key=KEY, Range=f"bytes={start}-{end}")
                        async with response["Body"] as body:
                            data = await body.read()
                        os.pwrite(fd, data, start)

                await asyncio.gather(*(one(s) for s in range(0, size, part)))
            finally:
                os.close(fd)


async def _down_aioboto3(ep: Endpoint, bucket: str, path: str, part: int, conc: int, meter: Meter) -> None:
    async with _aioboto3_session_client(ep) as s3:
        await s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
        with meter.phase("download"):
            await s3.download_file(bucket, KEY, path, Config=_transfer_config(part, conc))


async def _down_obstore(ep: Endpoint, bucket: str, path: str, part: int, conc: int, meter: Meter) -> None:
    import obstore

    store = backends.obstore_store(ep, bucket)
    await obstore.list(store, prefix="warm-up/").collect_async()
    with meter.phase("download"), open(path, "wb") as f:
        result = await obstore.get_async(store, KEY)
        async for chunk in result.stream(min_chunk_size=part):
            f.write(memoryview(chunk))


async def _down_gcloud(ep: Endpoint, bucket: str, path: str, part: int, conc: int, meter: Meter) -> None:
    async with backends.raw_gcs(ep) as storage:
        await storage.list_objects(bucket, params={"maxResults": "1"})
        with meter.phase("download"), open(path, "wb") as f:
            response = await storage.download_stream(bucket, KEY, timeout=900)
            while True:
                chunk = await response.read(MiB)
                if not chunk:
                    break
                f.write(chunk)


async def _down_gcloud_crc32c(ep: Endpoint, bucket: str, path: str, part: int, conc: int, meter: Meter) -> None:
    """gcloud-aio's streamed download, checking the CRC32C GCS reports as ours does."""
    import google_crc32c

    async with backends.raw_gcs(ep) as storage:
        await storage.list_objects(bucket, params={"maxResults": "1"})
        with meter.phase("download"), open(path, "wb") as f:
            response = await storage.download_stream(bucket, KEY, timeout=900)
            checksum = google_crc32c.Checksum()
            while True:
                chunk = await response.read(MiB)
                if not chunk:
                    break
                checksum.update(chunk)
                f.write(chunk)
            expected = response._response.headers.get("X-Goog-Hash", "")
            if f"crc32c={base64.b64encode(checksum.digest()).decode()}" not in expected:
                raise RuntimeError("CRC32C mismatch")


async def _down_azure(ep: Endpoint, bucket: str, path: str, part: int, conc: int, meter: Meter) -> None:
    from azure.storage.blob.aio import BlobServiceClient

    async with BlobServiceClient.from_connection_string(ep["connection_string"], max_chunk_get_size=part) as service:
        container = service.get_container_client(bucket)
        async for _ in container.list_blobs():
            break
        blob = container.get_blob_client(KEY)
        with meter.phase("download"), open(path, "wb") as f:
            downloader = await blob.download_blob(max_concurrency=conc)
            await downloader.readinto(f)


async def _down_azure_md5(ep: Endpoint, bucket: str, path: str, part: int, conc: int, meter: Meter) -> None:
    """Same as azure-aio: like ours, it can check nothing here (a blob uploaded in blocks has
    no whole-content MD5, and the service gives a range's MD5 only up to 4 MiB ranges)."""
    await _down_azure(ep, bucket, path, part, conc, meter)


UPLOADS = {
    "ours": _up_ours,
    "aiobotocore": _up_aiobotocore,
    "aioboto3": _up_aioboto3,
    "obstore": _up_obstore,
    "gcloud-aio": _up_gcloud,
    "gcloud-aio+crc32c": _up_gcloud_crc32c,
    "azure-aio": _up_azure,
    "azure-aio+md5": _up_azure_md5,
}
DOWNLOADS = {
    "ours": _down_ours,
    "aiobotocore": _down_aiobotocore,
    "aioboto3": _down_aioboto3,
    "obstore": _down_obstore,
    "gcloud-aio": _down_gcloud,
    "gcloud-aio+crc32c": _down_gcloud_crc32c,
    "azure-aio": _down_azure,
    "azure-aio+md5": _down_azure_md5,
}


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 * MiB):
            digest.update(chunk)
    return digest.hexdigest()


async def upload(params: dict[str, Any], meter: Meter) -> None:
    """Create the bucket, then upload the source file with one variant (measured)."""
    ep: Endpoint = params["endpoint"]
    await backends.create_bucket(ep, params["bucket"])
    fn = UPLOADS[params["variant"]]
    await fn(ep, params["bucket"], params["src"], params["part_size"], params["concurrency"], meter)
    if params["variant"] == "ours":
        meter.extra.update(backends.transfer_settings(ep["provider"]))


async def download(params: dict[str, Any], meter: Meter) -> None:
    """Download the object uploaded before with one variant (measured), then verify it."""
    ep: Endpoint = params["endpoint"]
    dst = params["dst"]
    try:
        fn = DOWNLOADS[params["variant"]]
        await fn(ep, params["bucket"], dst, params["part_size"], params["concurrency"], meter)
        if os.path.getsize(dst) != params["size"] or _sha256(dst) != params["sha256"]:
            raise RuntimeError("the downloaded file differs from the source")
    finally:
        if os.path.exists(dst):
            os.remove(dst)


# --------------------------------------------------------------------------------------
# orchestrator side


def make_file(path: Path, size: int) -> tuple[Path, str]:
    """A file of ``size`` random bytes and its SHA-256 (created once)."""
    if not (path.exists() and path.stat().st_size == size):
        with open(path, "wb") as f:
            remaining = size
            while remaining:
                chunk = os.urandom(min(remaining, 8 * MiB))
                f.write(chunk)
                remaining -= len(chunk)
    return path, _sha256(str(path))


def _settings(provider: str, ours_ok: bool) -> tuple[int, int, str]:
    """Part size and concurrency: our client's defaults (read in a subprocess)."""
    if ours_ok:
        import json
        import subprocess
        import sys

        from benchmarks.harness import ROOT, worker_env

        code = (
            "import json; from benchmarks.backends import transfer_settings; "
            f"print(json.dumps(transfer_settings({provider!r})))"
        )
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=worker_env(), capture_output=True, text=True)
        if proc.returncode == 0:
            found = json.loads(proc.stdout.strip().splitlines()[-1])
            if "part_size" in found and "concurrency" in found:
                return found["part_size"], found["concurrency"], "our client's defaults"
    return FALLBACK_PART, FALLBACK_CONCURRENCY, "fallback (our client's defaults were not readable)"


VARIANTS = {
    "s3": ["aiobotocore", "aioboto3", "obstore"],
    "gcs": ["gcloud-aio", "gcloud-aio+crc32c"],
    "azure": ["azure-aio", "azure-aio+md5", "obstore"],
}
LABELS = {
    "gcloud-aio+crc32c": "gcloud-aio+crc32c (same integrity checks as ours)",
    "azure-aio+md5": "azure-aio+md5 (`validate_content=True`: same integrity checks as ours)",
}


def run(ctx: Context) -> list[Section]:
    """Run the large-object case on every storage provider."""
    runs = ctx.runs(9, 1)
    sections = []
    files: dict[int, tuple[Path, str]] = {}
    for provider in backends.STORAGE_PROVIDERS:
        if not ctx.want_provider(provider):
            continue
        size = QUICK_SIZE if ctx.quick else FULL_SIZE[provider]
        if size not in files:
            files[size] = make_file(ctx.tmp / f"large-{size // MiB}MiB.bin", size)
        title = f"Single large object — {backends.PROVIDER_NAMES[provider]}"
        sections.append(guarded(title, ctx.log, _run_provider, ctx, provider, size, *files[size], runs))
    return sections


def _run_provider(ctx: Context, provider: str, size: int, src: Path, sha: str, runs: int) -> Section:
    ctx.log(f"[large] {provider}")
    ours_ok, ours_why = backends.ours_available(provider)
    variants = [("ours", ours_ok, ours_why)] + [(v, *backends.peer_available(v)) for v in VARIANTS[provider]]
    part, conc, origin = _settings(provider, ours_ok)
    runnable = [v for v, ok, _ in variants if ok and (ctx.want_variant(v) or v == backends.RAW[provider])]

    def run_one(variant: str, r: int) -> RunResult:
        bucket = backends.unique_bucket("large")
        params = {
            "variant": variant,
            "bucket": bucket,
            "src": str(src),
            "dst": str(ctx.tmp / f"large-download-{variant}.bin"),
            "size": size,
            "sha256": sha,
            "part_size": part,
            "concurrency": conc,
        }
        with ctx.emulators.fresh(provider) as ep:
            up = spawn("case_large", "upload", {**params, "endpoint": ep}, log=ctx.log)
            if not up.ok:
                return up
            down = spawn("case_large", "download", {**params, "endpoint": ep}, log=ctx.log)
            if not down.ok:
                return down
        return RunResult(ok=True, phases={**up.phases, **down.phases}, extra={**up.extra, **down.extra})

    results = interleave(runnable, runs, run_one, ctx.log, label=f"large/{provider}")

    section = Section(f"Single large object, {size // MiB} MiB up + down — {backends.PROVIDER_NAMES[provider]}")
    section.intro = (
        f"Median of {runs} run(s), interleaved; upload and download each in a fresh process, a fresh emulator per "
        f"run. Every variant uses part/block size {part // MiB} MiB and {conc} parts in flight ({origin}). "
        "Throughput is MiB/s of wall time."
    )
    raw = backends.RAW[provider]
    raw_res = results.get(raw, [])
    rows = []
    for variant, ok, why in variants:
        if not ok:
            rows.append([variant, f"not available: {why}"] + [""] * 8)
            continue
        if variant not in results:
            continue  # not selected by --variants
        res = results[variant]
        if not any(r.ok for r in res):
            rows.append([variant, f"failed: {first_error(res)}"] + [""] * 8)
            continue
        up, down = med(res, "upload", "wall"), med(res, "download", "wall")
        rows.append(
            [
                f"**{variant}**" if variant == "ours" else LABELS.get(variant, variant),
                f"{fmt_s(up)} ({fmt_rate(size, up)})",
                fmt_ratio(ratio(med(raw_res, "upload", "wall"), up)),
                fmt_s(med(res, "upload", "cpu")),
                fmt_mib(med(res, "upload", "rss")),
                f"{fmt_s(down)} ({fmt_rate(size, down)})",
                fmt_ratio(ratio(med(raw_res, "download", "wall"), down)),
                fmt_s(med(res, "download", "cpu")),
                fmt_mib(med(res, "download", "rss")),
            ]
        )
    section.table(
        [
            "variant",
            "upload wall s (MiB/s)",
            f"upload throughput / {raw}",
            "upload CPU s",
            "upload peak RSS growth MiB",
            "download wall s (MiB/s)",
            f"download throughput / {raw}",
            "download CPU s",
            "download peak RSS growth MiB",
        ],
        rows,
    )

    ours_res = results.get("ours", [])
    bound = part * conc + 32 * MiB
    targets = []
    for phase in ("upload", "download"):
        thr = ratio(med(raw_res, phase, "wall"), med(ours_res, phase, "wall"))
        verdict = Verdict(">= 0.95x", None, "not measured") if thr is None else Verdict(">= 0.95x", thr >= 0.95)
        section.verdict(f"large {provider}: {phase} throughput >= 0.95x {raw}", verdict)
        targets.append([f"{phase} throughput >= 0.95x {raw}", fmt_ratio(thr), verdict.cell(ctx.enforce)])
        rss = med(ours_res, phase, "rss")
        v = section.verdict(
            f"large {provider}: {phase} RSS growth <= part x concurrency + 32 MiB ({bound // MiB} MiB)",
            check("rss", rss, bound),
        )
        targets.append(
            [
                f"{phase} RSS growth <= {part // MiB} MiB x {conc} + 32 MiB = {bound // MiB} MiB",
                f"{fmt_mib(rss)} MiB",
                v.cell(ctx.enforce),
            ]
        )
    targets += reference_rows(
        results,
        backends.LIKE_FOR_LIKE.get(provider),
        [(f"{phase} throughput", phase, "wall", True) for phase in ("upload", "download")],
        "same integrity checks",
    )
    section.table(["target", "ours", "result"], targets)
    return section
