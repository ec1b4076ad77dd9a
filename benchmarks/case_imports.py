"""Import cost: ``python -c "import X"`` in fresh interpreters against a bare interpreter.

Each statement runs once untimed (to compile bytecode), then ``runs`` times interleaved;
the figure is the median wall time of the whole process (start-up included) and the
child's CPU (``RUSAGE_CHILDREN`` deltas).  "Over bare" subtracts the bare interpreter's
median.  A last check lists which heavy modules ``import cloud`` pulls in (none should be), and
which SDKs importing every provider package pulls in (none: they load on first use).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

from benchmarks.backends import importable
from benchmarks.harness import ROOT, Context, Section, Verdict, check, fmt_ms, median, worker_env

STATEMENTS = [
    ("bare interpreter", "pass"),
    ("import cloud", "import cloud"),
    ("import cloud.aws", "import cloud.aws"),
    ("import cloud.gcp", "import cloud.gcp"),
    ("import cloud.azure", "import cloud.azure"),
    ("import cloud.local", "import cloud.local"),
    ("import cloud.coda_io", "import cloud.coda_io"),
    ("from cloud.aws import S3Client, SyncS3Client", "from cloud.aws import S3Client, SyncS3Client"),
    ("from cloud.gcp import GCSClient, SyncGCSClient", "from cloud.gcp import GCSClient, SyncGCSClient"),
    (
        "from cloud.azure import AzureBlobClient, SyncAzureBlobClient",
        "from cloud.azure import AzureBlobClient, SyncAzureBlobClient",
    ),
    (
        "from cloud.local import LocalStorageClient, SyncLocalStorageClient",
        "from cloud.local import LocalStorageClient, SyncLocalStorageClient",
    ),
    ("from cloud.coda_io import CodaClient, SyncCodaClient", "from cloud.coda_io import CodaClient, SyncCodaClient"),
    ("import aiobotocore.session", "import aiobotocore.session"),
    ("import aioboto3", "import aioboto3"),
    ("import gcloud.aio.storage", "import gcloud.aio.storage"),
    ("import azure.storage.blob.aio", "import azure.storage.blob.aio"),
    ("import s3fs", "import s3fs"),
    ("import obstore", "import obstore"),
]

HEAVY = ["httpx", "botocore", "aiobotocore", "aiohttp", "azure", "gcloud", "google"]
PROVIDER_PACKAGES = ["cloud.aws", "cloud.gcp", "cloud.azure", "cloud.local", "cloud.coda_io"]
"""Each must import in <= 30 ms over the bare interpreter: the SDK loads on first use (issue #17)."""
SDKS = ["aiobotocore", "botocore", "aiohttp", "azure.storage.blob", "azure.core", "gcloud.aio.storage", "httpx"]


def _time_once(code: str) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=worker_env(), capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode(errors="replace").strip().splitlines()[-1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run(ctx: Context) -> list[Section]:
    """Time every import statement that works here."""
    ctx.log("[imports]")
    runs = ctx.runs(10, 2)
    available = []
    missing = []
    for label, code in STATEMENTS:
        ok, why = importable(code) if code != "pass" else (True, "")
        (available if ok else missing).append((label, code, why))
    # importable() above already ran each statement once: bytecode is compiled, caches warm
    walls: dict[str, list[float]] = {label: [] for label, _, _ in available}
    cpus: dict[str, list[float]] = {label: [] for label, _, _ in available}
    for _ in range(runs):
        for label, code, _ in available:
            wall, cpu = _time_once(code)
            walls[label].append(wall)
            cpus[label].append(cpu)
    bare_wall = median(walls["bare interpreter"])
    bare_cpu = median(cpus["bare interpreter"])
    assert bare_wall is not None and bare_cpu is not None
    section = Section("Import cost")
    section.intro = (
        f'Median of {runs} fresh interpreters per statement, interleaved (`python -c "..."`, start-up included).'
    )
    rows = []
    for label, _, _ in available:
        w, c = median(walls[label]), median(cpus[label])
        assert w is not None and c is not None
        rows.append(
            [
                f"**{label}**" if label.startswith("import cloud") else label,
                fmt_ms(w),
                fmt_ms(w - bare_wall) if label != "bare interpreter" else "—",
                fmt_ms(c),
                fmt_ms(c - bare_cpu) if label != "bare interpreter" else "—",
            ]
        )
    for label, _, why in missing:
        rows.append([label, f"not available: {why}", "", "", ""])
    section.table(["statement", "wall ms", "wall over bare ms", "CPU ms", "CPU over bare ms"], rows)

    cloud_wall = median(walls.get("import cloud", []))
    over = None if cloud_wall is None else cloud_wall - bare_wall
    verdict = section.verdict("import cost: `import cloud` <= 30 ms over bare", check("<= 30 ms", over, 0.030))
    probe = "import sys, json, cloud; print(json.dumps(sorted(m for m in sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=worker_env(), capture_output=True, text=True)
    loaded = set(json.loads(proc.stdout)) if proc.returncode == 0 else set()
    heavy = [h for h in HEAVY if h in loaded]
    light = Verdict("no heavy module", not heavy if loaded else None, ", ".join(heavy) if heavy else "")
    section.verdict("import cost: `import cloud` loads no SDK or httpx", light)
    aws = median(walls.get("import cloud.aws", []))
    boto3 = median(walls.get("import aioboto3", []))
    provider_rows = []
    for package in PROVIDER_PACKAGES:
        label = f"import {package}"
        wall = median(walls.get(label, []))
        over_bare = None if wall is None else wall - bare_wall
        pv = section.verdict(f"import cost: `{label}` <= 30 ms over bare", check("<= 30 ms", over_bare, 0.030))
        provider_rows.append(
            [f"`{label}` <= 30 ms over the bare interpreter", f"{fmt_ms(over_bare)} ms", pv.cell(ctx.enforce)]
        )
    probe = (
        "import sys, json; "
        + "; ".join(f"import {p}" for p in PROVIDER_PACKAGES)
        + "; print(json.dumps(sorted(sys.modules)))"
    )
    proc = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=worker_env(), capture_output=True, text=True)
    after = set(json.loads(proc.stdout)) if proc.returncode == 0 else set()
    sdks = [m for m in SDKS if m in after]
    lazy = Verdict("no SDK", not sdks if after else None, ", ".join(sdks) if sdks else "")
    section.verdict("import cost: the provider packages load no SDK (it loads on first use)", lazy)
    provider_rows.append(
        [
            "importing every provider package loads none of " + ", ".join(f"`{m}`" for m in SDKS),
            f"{len(after)} modules loaded" + (f"; SDK: {', '.join(sdks)}" if sdks else ""),
            lazy.cell(ctx.enforce),
        ]
    )
    section.table(
        ["target", "ours", "result"],
        [
            ["`import cloud` <= 30 ms over the bare interpreter", f"{fmt_ms(over)} ms", verdict.cell(ctx.enforce)],
            [
                "`import cloud` pulls in none of " + ", ".join(f"`{h}`" for h in HEAVY),
                f"{len(loaded)} modules loaded" + (f"; heavy: {', '.join(heavy)}" if heavy else ""),
                light.cell(ctx.enforce),
            ],
            [
                "`import cloud.aws` vs `import aioboto3` (no target)",
                f"{fmt_ms(aws)} ms vs {fmt_ms(boto3)} ms",
                "—",
            ],
            *provider_rows,
        ],
    )
    return [section]
