"""Start-up of the ``cloud`` command: ``--help``, ``ls`` of a small local folder and ``ls``
of an S3 bucket (moto), each a fresh process, with ``aws s3 ls`` (awscli) side by side.

Every command runs once untimed (bytecode compiled, caches warm), then ``runs`` times
interleaved; the figure is the median wall time of the whole process.  Targets: ``cloud
--help`` and ``cloud ls FOLDER`` <= 150 ms, ``cloud ls s3://bucket`` <= 0.8x ``aws s3 ls``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.harness import ROOT, Context, Section, check, fmt_ms, median, ratio, worker_env

OBJECTS = 50  # in the listed bucket
BUCKET = "bench-cli-ls"


def _seed_bucket(endpoint: str) -> None:
    """A bucket of ``OBJECTS`` small objects, written with our sync client (setup, not timed)."""
    code = (
        "import sys\n"
        "from cloud.aws import SyncS3Client\n"
        "with SyncS3Client(endpoint_url=sys.argv[1], region='us-east-1') as s3:\n"
        f"    s3.ensure_bucket({BUCKET!r})\n"
        f"    for i in range({OBJECTS}):\n"
        f"        s3.put_bytes({BUCKET!r}, f'obj/{{i:04d}}.txt', b'x' * 100)\n"
    )
    subprocess.run([sys.executable, "-c", code, endpoint], cwd=ROOT, env=worker_env(), check=True)


def _time_once(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {proc.stderr.decode(errors='replace').strip()[-300:]}")
    return wall


def run(ctx: Context) -> list[Section]:
    """Time the command's start-up cases and ``aws s3 ls``."""
    ctx.log("[cli]")
    runs = ctx.runs(15, 3)
    folder = ctx.tmp / "cli-ls" / "seven"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(7):
        (folder / f"file-{i}.txt").write_text(f"file {i}\n")
    cloud = [sys.executable, "-m", "cloud.cli"]
    env = worker_env()
    commands: dict[str, list[str]] = {
        "bare interpreter": [sys.executable, "-c", "pass"],
        "cloud --help": [*cloud, "--help"],
        "cloud ls (7-file local folder)": [*cloud, "ls", str(folder)],
    }
    aws = shutil.which("aws")
    s3_env = env
    if ctx.want_provider("s3"):
        endpoint = str(ctx.emulators.shared("s3")["url"])
        _seed_bucket(endpoint)
        s3_env = worker_env({"AWS_ENDPOINT_URL": endpoint})
        commands[f"cloud ls s3://{BUCKET}/obj/"] = [*cloud, "ls", f"s3://{BUCKET}/obj/"]
        if aws is not None:
            commands[f"aws s3 ls s3://{BUCKET}/obj/"] = [
                aws,
                "s3",
                "ls",
                f"s3://{BUCKET}/obj/",
                "--endpoint-url",
                endpoint,
            ]
    envs = {label: (s3_env if "s3://" in label else env) for label in commands}
    for label, argv in commands.items():  # warm-up: bytecode, page cache
        _time_once(argv, envs[label])
    walls: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, argv in commands.items():
            walls[label].append(_time_once(argv, envs[label]))
    medians = {label: median(values) for label, values in walls.items()}
    bare = medians["bare interpreter"]

    section = Section("CLI start-up")
    section.intro = (
        f"Median wall time of {runs} fresh processes per command, interleaved (`python -m cloud.cli ...`; "
        f"the S3 listing is {OBJECTS} objects on moto, and `aws` is awscli "
        f"{'found at ' + Path(aws).name if aws else 'not installed'})."
    )
    section.table(
        ["command", "wall ms", "over bare interpreter ms"],
        [
            [
                label,
                fmt_ms(m),
                fmt_ms(None if m is None or bare is None else m - bare) if label != "bare interpreter" else "—",
            ]
            for label, m in medians.items()
        ],
    )
    help_ms = medians["cloud --help"]
    local_ms = medians["cloud ls (7-file local folder)"]
    ours_s3 = medians.get(f"cloud ls s3://{BUCKET}/obj/")
    theirs_s3 = medians.get(f"aws s3 ls s3://{BUCKET}/obj/")
    s3_ratio = ratio(ours_s3, theirs_s3)
    v_help = section.verdict("CLI: `cloud --help` <= 150 ms", check("<= 150 ms", help_ms, 0.150))
    v_local = section.verdict("CLI: `cloud ls` of a local folder <= 150 ms", check("<= 150 ms", local_ms, 0.150))
    v_s3 = section.verdict(
        "CLI: `cloud ls s3://bucket` <= 0.8x `aws s3 ls`",
        check("<= 0.8x", s3_ratio, 0.8, "" if aws else "awscli not installed"),
    )
    section.table(
        ["target", "ours", "result"],
        [
            ["`cloud --help` <= 150 ms", f"{fmt_ms(help_ms)} ms", v_help.cell(ctx.enforce)],
            ["`cloud ls FOLDER` (7 files) <= 150 ms", f"{fmt_ms(local_ms)} ms", v_local.cell(ctx.enforce)],
            [
                "`cloud ls s3://bucket` <= 0.8x `aws s3 ls`",
                f"{fmt_ms(ours_s3)} ms vs {fmt_ms(theirs_s3)} ms"
                + (f" ({s3_ratio:.2f}x)" if s3_ratio is not None else ""),
                v_s3.cell(ctx.enforce),
            ],
        ],
    )
    return [section]
