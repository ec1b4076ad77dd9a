"""Fixtures of the ``cloud`` command's tests.

``cli(...)`` runs the command in this process through :func:`cloud.cli.main.main` (the
function the ``cloud`` console script calls); ``cli_process(...)`` runs ``python -m cloud.cli`` in a
subprocess.  ``backend`` is parametrized over every storage backend in ``CLI_BACKENDS``
(default: all of local, s3, gcs, azure; ``CLI_BACKENDS=local,s3`` narrows a run) and
starts the emulator it needs through the session fixtures of ``tests/conftest.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cloud.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"

ALL_CLI_BACKENDS = ["local", "s3", "gcs", "azure"]
CLI_BACKENDS = [b for b in os.environ.get("CLI_BACKENDS", ",".join(ALL_CLI_BACKENDS)).split(",") if b]

# Variables that could point a command at a real account; every run starts without them.
_SCRUBBED = (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "STORAGE_EMULATOR_HOST",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_ACCOUNT_URL",
    "AZURE_STORAGE_ACCOUNT",
    "CODA_API_TOKEN",
    "CODA_API_BASE_URL",
)


@dataclass
class CliResult:
    """What one run of the command produced."""

    code: int
    stdout: str
    stderr: str
    stdout_bytes: bytes = b""

    def json(self) -> Any:
        """stdout parsed as one JSON document."""
        return json.loads(self.stdout)

    def lines(self) -> list[str]:
        """stdout's non-empty lines."""
        return [line for line in self.stdout.splitlines() if line.strip()]


Cli = Callable[..., CliResult]


def _env(extra: Mapping[str, str] | None) -> dict[str, str | None]:
    env: dict[str, str | None] = dict.fromkeys(_SCRUBBED)
    env.update({"COLUMNS": "200", "NO_COLOR": "1"})
    env.update(extra or {})
    return env


@contextlib.contextmanager
def _environment(changes: Mapping[str, str | None]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in changes}
    try:
        for name, value in changes.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_in_process(*args: object, env: Mapping[str, str] | None = None) -> CliResult:
    """Run ``cloud ARGS`` in this process (``main(argv)``), capturing stdout and stderr."""
    stdout_bytes = io.BytesIO()
    stdout = io.TextIOWrapper(stdout_bytes, encoding="utf-8", write_through=True)
    stderr = io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = stdout, stderr
    try:
        with _environment(_env(env)):
            code = main([str(a) for a in args])
    finally:
        sys.stdout, sys.stderr = saved
    stdout.flush()
    raw = stdout_bytes.getvalue()
    return CliResult(code, raw.decode(errors="replace"), stderr.getvalue(), raw)


def run_process(
    *args: object, env: Mapping[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> CliResult:
    """Run ``python -m cloud.cli ARGS`` in a subprocess with pipes."""
    full_env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    full_env.update({k: v for k, v in _env(env).items() if v is not None})
    done = subprocess.run(
        [sys.executable, "-m", "cloud.cli", *[str(a) for a in args]],
        capture_output=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=timeout,
        check=False,
    )
    return CliResult(
        done.returncode,
        done.stdout.decode(errors="replace"),
        done.stderr.decode(errors="replace"),
        done.stdout,
    )


@dataclass
class CliBackend:
    """A storage backend as the command line sees it."""

    name: str
    scheme: str
    env: dict[str, str] = field(default_factory=dict)
    local_root: Path | None = None

    def new_bucket(self) -> str:
        """The URL (or path) of a bucket name not used before (not created)."""
        name = f"cli-{uuid.uuid4().hex[:12]}"
        if self.local_root is not None:
            return str(self.local_root / name)
        return f"{self.scheme}://{name}"

    def run(self, *args: object) -> CliResult:
        """Run the command in process with this backend's environment."""
        return run_in_process(*args, env=self.env)


def emulator_env(request: pytest.FixtureRequest, names: list[str]) -> dict[str, str]:
    """The environment variables that point each named backend at its emulator."""
    env: dict[str, str] = {}
    if "s3" in names:
        moto = request.getfixturevalue("moto_server")
        env.update(
            {
                "AWS_ENDPOINT_URL": moto.url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
            }
        )
    if "gcs" in names:
        env["STORAGE_EMULATOR_HOST"] = request.getfixturevalue("gcs_emulator").url
    if "azure" in names:
        env["AZURE_STORAGE_CONNECTION_STRING"] = request.getfixturevalue("azurite").extra["connection_string"]
    return env


def _make_backend(request: pytest.FixtureRequest, tmp_path: Path) -> CliBackend:
    name: str = request.param
    if name == "local":
        root = tmp_path / "store"
        root.mkdir()
        return CliBackend("local", "file", local_root=root)
    scheme = {"s3": "s3", "gcs": "gs", "azure": "az"}[name]
    return CliBackend(name, scheme, emulator_env(request, [name]))


@pytest.fixture(params=CLI_BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> CliBackend:
    """One storage backend (local folders, or an emulator)."""
    return _make_backend(request, tmp_path)


@pytest.fixture(params=[b for b in CLI_BACKENDS if b != "local"])
def cloud_backend(request: pytest.FixtureRequest, tmp_path: Path) -> CliBackend:
    """One cloud storage backend (an emulator): for what only cloud schemes have."""
    return _make_backend(request, tmp_path)


@pytest.fixture
def cli() -> Cli:
    """Run the command in process with no cloud settings."""
    return run_in_process


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A private copy of examples/data (tests may change it)."""
    import shutil

    target = tmp_path / "sample"
    shutil.copytree(DATA, target)
    return target


def sample_files(folder: Path) -> dict[str, bytes]:
    """Relative name -> content of every file under ``folder``."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
