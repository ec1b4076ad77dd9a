"""The command as a program: entry point, exit codes, one-line errors, progress bars on a
terminal and none in a pipe, local paths and file:// URLs, a light ``import cloud``."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from tests.cli.conftest import DATA, ROOT, Cli, run_process, sample_files


def test_console_script_points_at_main() -> None:
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "cloud"]
    assert script.value == "cloud.cli.main:main"
    from cloud.cli.main import main

    assert script.load() is main


def test_python_m_runs_and_prints_help() -> None:
    result = run_process("--help")
    assert result.code == 0
    for command in ("ls", "stat", "cat", "mb", "rm", "sign", "cp", "sync", "coda"):
        assert f"  {command} " in result.stdout
    assert run_process("--version").stdout.startswith("cloud ")


@pytest.mark.parametrize(
    "args",
    [
        [],  # no command: help, usage exit
        ["frobnicate"],
        ["ls"],
        ["cp", "only-one-arg"],
        ["ls", "ftp://host/x"],
        ["stat", "s3://"],
        ["cp", "--concurrency", "0", "a", "b"],
        ["ls", "--endpoint-url", "not-a-url", "s3://b"],
    ],
    ids=["none", "unknown", "missing-arg", "cp-one-arg", "bad-scheme", "no-bucket", "bad-concurrency", "bad-endpoint"],
)
def test_usage_errors_exit_2(cli: Cli, args: list[str]) -> None:
    result = cli(*args)
    assert result.code == 2, (args, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr


def test_errors_are_one_line_without_traceback_unless_debug(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    plain = run_process("cat", missing)
    assert plain.code == 1
    assert plain.stderr == f"cloud: not found: [local] no such file or folder: {missing}\n"
    debug = run_process("cat", missing, "--debug")
    assert debug.code == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.endswith(f"cloud: not found: [local] no such file or folder: {missing}\n")


def test_missing_provider_extra_is_one_clear_line(tmp_path: Path) -> None:
    """A provider whose SDK is absent: a one-line error naming the extra to install."""
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'aiobotocore' or name.startswith('aiobotocore.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}')\n"
        "        return None\n"
        "sys.meta_path.insert(0, _Block())\n"
    )
    result = run_process("ls", "s3://some-bucket", env={"PYTHONPATH": str(blocker)})
    assert result.code == 1, result.stderr
    assert result.stderr.count("\n") == 1
    assert "pip install 'codomyrmex-cloud[aws]'" in result.stderr


def test_local_paths_and_file_urls(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # A relative destination folder that does not exist is created (two levels).
    first = cli("sync", DATA, "demo-store/photos", "--json")
    assert first.code == 0, first.stderr
    assert sample_files(tmp_path / "demo-store" / "photos") == sample_files(DATA)
    assert cli("sync", DATA, f"file://{tmp_path}/demo-store/photos", "--json").json()["copied"] == 0
    assert cli("ls", f"file://{tmp_path}/demo-store/photos/").lines() == ["hello.txt", "images/", "notes/", "tables/"]
    assert cli("ls", "-r", "demo-store/photos/notes").lines() == ["ideas.md", "todo.md"]
    # Only the files: no sidecar or temp folders are left in the destination.
    assert sorted(p.name for p in (tmp_path / "demo-store").iterdir()) == ["photos"]
    # Single files: into an existing folder (keeps the name), to a new name, to a new folder/.
    assert cli("cp", DATA / "hello.txt", "demo-store").code == 0
    assert (tmp_path / "demo-store" / "hello.txt").read_bytes() == (DATA / "hello.txt").read_bytes()
    assert cli("cp", "demo-store/hello.txt", "copy.txt").code == 0 and (tmp_path / "copy.txt").exists()
    assert cli("cp", f"file://{tmp_path}/copy.txt", "new/dir/").code == 0
    assert (tmp_path / "new" / "dir" / "copy.txt").exists()
    assert oct((tmp_path / "copy.txt").stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    # The copy keeps the source's modification time, as aws s3 cp does.
    assert int((tmp_path / "copy.txt").stat().st_mtime) == int((DATA / "hello.txt").stat().st_mtime)
    not_a_folder = cli("sync", DATA, "copy.txt")
    assert not_a_folder.code == 1 and "not a folder" in not_a_folder.stderr
    a_file = cli("sync", "copy.txt", "elsewhere")
    assert a_file.code == 2 and "use cp" in a_file.stderr
    made = cli("mb", "made/here", "--json")
    assert made.json() == {"bucket": str(tmp_path / "made" / "here"), "created": True}
    assert (tmp_path / "made" / "here").is_dir()


def test_sync_checksum_detects_same_size_edits(cli: Cli, tmp_path: Path) -> None:
    """With --checksum, local files are hashed and compared with a local store's MD5 etags."""
    import anyio

    from cloud.local import LocalStorageClient

    source = tmp_path / "src"
    source.mkdir()
    (source / "a.txt").write_text("aaaa")

    async def put() -> None:
        async with LocalStorageClient(root=tmp_path / "store") as store:
            await store.ensure_bucket("b")
            await store.put_bytes("b", "a.txt", b"bbbb")  # same size, MD5 etag in its sidecar

    (tmp_path / "store").mkdir()
    anyio.run(put)
    newer = tmp_path / "store" / "b" / "a.txt"
    os.utime(newer, (newer.stat().st_mtime + 3600,) * 2)  # destination newer: times say "skip"
    by_time = cli("sync", source, tmp_path / "store" / "b", "--dry-run", "--json").json()
    assert by_time["copy"] == [] and by_time["unchanged"] == 1
    by_sum = cli("sync", source, tmp_path / "store" / "b", "--checksum", "--dry-run", "--json").json()
    assert by_sum["copy"] == [{"name": "a.txt", "reason": "checksum", "size": 4}]


def test_sync_refuses_to_empty_the_destination_from_an_empty_source(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert cli("sync", DATA, tmp_path / "dest", "-q").code == 0
    refused = cli("sync", tmp_path / "empty", tmp_path / "dest", "--delete")
    assert refused.code == 1 and "refusing" in refused.stderr
    assert sample_files(tmp_path / "dest") == sample_files(DATA)


def test_quiet_prints_nothing(cli: Cli, tmp_path: Path) -> None:
    result = cli("cp", "-r", DATA, tmp_path / "q", "--quiet")
    assert (result.code, result.stdout, result.stderr) == (0, "", "")


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def _run_on_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Run ``python -m cloud.cli ARGS`` with stdout and stderr on a pseudo-terminal."""
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CI", "TERM")}
    env.update({"TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"})
    process = subprocess.Popen(
        [sys.executable, "-m", "cloud.cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        cwd=cwd,
        env=env,
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return process.wait(timeout=120), b"".join(chunks).decode(errors="replace")


def test_progress_bar_drawn_on_a_terminal(tmp_path: Path) -> None:
    code, screen = _run_on_terminal(["cp", "-r", str(DATA), str(tmp_path / "tty")], ROOT)
    assert code == 0, screen
    files = len(sample_files(DATA))
    total = sum(len(v) for v in sample_files(DATA).values())
    from cloud.cli.output import human_size

    assert "\x1b[" in screen  # terminal control sequences: a live display
    assert "━" in screen  # the bar
    assert f"total {files}/{files} files" in screen  # total bar, final state
    assert f"{human_size(total).split()[0]}/{human_size(total)}" in screen  # bytes done / total
    assert "ETA" in screen and "/s" in screen  # ETA and rate columns
    assert any(name in screen for name in ("hello.txt", "notes/todo.md", "tables/cities.csv"))  # per-file bars
    assert f"copied {files} files" in screen


def test_no_progress_bar_when_piped(tmp_path: Path) -> None:
    result = run_process("cp", "-r", DATA, tmp_path / "piped")
    assert result.code == 0
    assert "\x1b[" not in result.stdout + result.stderr and "━" not in result.stdout + result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len([line for line in lines if line.startswith("copy: ")]) == len(sample_files(DATA))
    as_json = run_process("cp", "-r", DATA, tmp_path / "piped2", "--json")
    assert json.loads(as_json.stdout)["copied"] == len(sample_files(DATA)) and as_json.stderr == ""


def test_import_cloud_stays_light() -> None:
    code = (
        "import sys, cloud, cloud.cli; "
        "heavy = [m for m in ('rich', 'typer', 'click', 'cloud.cli.main', 'cloud.transfer', 'httpx', "
        "'aiobotocore', 'azure', 'gcloud') if m in sys.modules]; print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"
