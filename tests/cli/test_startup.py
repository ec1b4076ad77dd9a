"""Start-up cost of the command: ``--help`` imports nothing but argparse, a local ``ls``
no provider SDK, and a command loads only the provider it touches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import DATA, ROOT

HEAVY = ("aiobotocore", "botocore", "aiohttp", "azure", "gcloud", "google", "httpx", "rich", "typer", "click")


def _modules_after(args: list[str], env: dict[str, str] | None = None) -> set[str]:
    code = (
        "import io, json, sys\n"
        "from cloud.cli.main import main\n"
        "out, sys.stdout = sys.stdout, io.StringIO()\n"
        "sys.stderr = io.StringIO()\n"
        f"main({args!r})\n"
        "sys.stdout = out\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True, env=env)
    return set(json.loads(done.stdout))


def test_help_imports_only_the_parser() -> None:
    loaded = _modules_after(["--help"])
    assert not [m for m in loaded if m.startswith("cloud.common") or m.startswith("anyio") or m == "asyncio"]
    assert not [m for m in HEAVY if m in loaded]


def test_local_ls_imports_no_provider_sdk() -> None:
    loaded = _modules_after(["ls", str(DATA)])
    assert "cloud.local.client" in loaded
    assert not [m for m in HEAVY if m in loaded]
    assert not [m for m in loaded if m.split(".")[:2] in (["cloud", "aws"], ["cloud", "gcp"], ["cloud", "azure"])]


def test_a_command_loads_only_the_provider_it_touches(tmp_path: Path) -> None:
    import os

    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
    }
    loaded = _modules_after(["ls", "s3://bucket", "--region", "us-east-1"], env=env)  # fails to connect: fine
    assert "cloud.aws.client" in loaded
    assert not [m for m in loaded if m.split(".")[:2] in (["cloud", "gcp"], ["cloud", "azure"])]
    assert "azure" not in loaded and "gcloud" not in loaded
    # httpx's own command line (click, rich, pygments) is not loaded by aiobotocore's httpx import.
    assert "click" not in loaded and "rich" not in loaded
