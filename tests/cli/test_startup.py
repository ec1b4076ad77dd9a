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
    # A plain listing needs no event loop at all; --json goes through the local client.
    plain = _modules_after(["ls", "-l", str(DATA)])
    assert not [m for m in plain if m.startswith("cloud.common") or m.startswith("anyio") or m == "asyncio"]
    loaded = _modules_after(["ls", "--json", str(DATA)])
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


def _tricky_tree(root: Path) -> Path:
    """A folder with what could make two listings differ: order of '-' and '/', empty and
    hidden folders, symlinks, non-ASCII names, nesting."""
    top = root / "store" / "bucket"
    for name in ("a-b.txt", "a/x.txt", "a/b/c.txt", "z.txt", "é/ü.txt", "A/upper.txt", ".hidden", "sub/.cloud-meta/x"):
        path = top / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name * 3)
    (top / "empty" / "deeper").mkdir(parents=True)
    (top / ".cloud-meta").mkdir()  # hidden at the bucket level, as the store hides it
    (top / ".cloud-meta" / "x").write_text("x")
    (top / "link-to-file").symlink_to(top / "z.txt")
    (top / "link-to-dir").symlink_to(top / "a", target_is_directory=True)
    return top


def _both(argv: list[str]) -> tuple[str, str]:
    """(fast path output, full path output) of ``cloud ARGV``."""
    import contextlib
    import io

    from cloud.cli import storage
    from cloud.cli.main import build_parser
    from cloud.cli.quick import try_ls

    args = build_parser().parse_args(argv)
    fast, full = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(fast):
        assert try_ls(args) == 0
    with contextlib.redirect_stdout(full):
        assert storage.ls(args) == 0
    return fast.getvalue(), full.getvalue()


def test_local_ls_without_event_loop_prints_what_the_client_lists(tmp_path: Path) -> None:
    top = _tricky_tree(tmp_path)
    # A store (the root has .cloud-meta): the bucket, and a folder inside it.
    (tmp_path / "store" / ".cloud-meta").mkdir()
    for folder in (top, top / "a", top / "sub", top / "empty", DATA):
        for flags in ([], ["-l"], ["-r"], ["-l", "-r"]):
            fast, full = _both(["ls", *flags, str(folder)])
            assert fast == full, (folder, flags)
    # Without the store marker the same folder is a bucket under its parent.
    (tmp_path / "store" / ".cloud-meta").rmdir()
    for folder in (top, top / "sub"):
        fast, full = _both(["ls", "-r", str(folder)])
        assert fast == full, folder
    assert ".hidden" in _both(["ls", str(top)])[0].split()
