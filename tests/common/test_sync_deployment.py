"""The sync facade in deployment shapes: a client created at import, forked workers with
threads (gunicorn ``--preload``), and interpreter exit with clients and iterators still open.

Each case runs ``sync_deployment_script.py`` in a fresh interpreter and expects exit code 0,
``ok`` on stdout and nothing at all on stderr (no "Unclosed client session", no traceback).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.emulators import Emulator

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("sync_deployment_script.py")


def run_script(*args: str, seconds: float) -> None:
    try:
        done = subprocess.run(
            [sys.executable, str(SCRIPT), *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=seconds,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(
            f"{args[0]}: still running after {seconds:.0f} s\n{exc.stdout!r}\n{exc.stderr!r}"
        ) from None
    report = f"{args[0]} exited {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode == 0, report
    assert done.stdout.splitlines()[-1:] == ["ok"], report
    assert done.stderr == "", report


def test_forked_children_with_threads_get_a_fresh_local_client() -> None:
    run_script("fork-local", seconds=120)


def test_forked_children_with_threads_get_a_fresh_s3_client(moto_server: Emulator) -> None:
    run_script("fork-s3", moto_server.url, seconds=120)


def test_exit_with_open_clients_and_half_consumed_iterators_is_prompt_and_quiet(
    moto_server: Emulator, azurite: Emulator
) -> None:
    run_script("exit", moto_server.url, azurite.extra["connection_string"], seconds=20)


def test_exit_with_daemon_threads_mid_call_is_prompt_and_quiet(moto_server: Emulator, azurite: Emulator) -> None:
    run_script("exit-busy", moto_server.url, azurite.extra["connection_string"], seconds=20)
