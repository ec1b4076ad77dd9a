"""mb, ls, stat, cat, sign, rm, rb and single-object cp on every backend."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from tests.cli.conftest import CliBackend


def test_bucket_and_object_commands(backend: CliBackend, tmp_path: Path) -> None:
    bucket = backend.new_bucket()
    run = backend.run

    made = run("mb", bucket, "--json")
    assert made.code == 0, made.stderr
    assert made.json()["created"] is True
    again = run("mb", bucket)
    assert again.code == 0 and "already exists" in again.stdout

    hello = tmp_path / "hello.txt"
    hello.write_bytes(b"hello, world\n")
    assert run("cp", hello, f"{bucket}/docs/").code == 0
    copied = run("cp", hello, f"{bucket}/docs/renamed.txt", "--json")
    assert copied.code == 0, copied.stderr
    assert copied.json()["copied"] == 1 and copied.json()["bytes"] == 13

    assert run("ls", bucket).lines() == ["docs/"]
    assert run("ls", f"{bucket}/docs").lines() == ["hello.txt", "renamed.txt"]
    assert run("ls", f"{bucket}/docs/").lines() == ["hello.txt", "renamed.txt"]
    long = run("ls", "-l", f"{bucket}/docs").lines()
    assert long[0].split()[-2:] == ["13", "hello.txt"] and long[-1] == "2 entries, 26 B"
    listing = run("ls", "-r", "--json", bucket).json()
    assert [(e["name"], e["size"]) for e in listing] == [("docs/hello.txt", 13), ("docs/renamed.txt", 13)]
    assert all(e["last_modified"] and e["url"].endswith(e["name"]) for e in listing)
    assert run("ls", f"{bucket}/docs/hello.txt").lines() == ["hello.txt"]

    info = run("stat", f"{bucket}/docs/hello.txt", "--json")
    assert info.code == 0, info.stderr
    meta = info.json()
    # A local file's bucket is its folder (no cloud account, no bucket registry): its name
    # is relative to that folder; the URL is the full location everywhere.
    assert meta["url"].endswith("docs/hello.txt") and meta["size"] == 13
    assert meta["name"] == ("hello.txt" if backend.name == "local" else "docs/hello.txt")
    assert meta["content_type"] == "text/plain" and meta["last_modified"]
    text = run("stat", f"{bucket}/docs/hello.txt").stdout
    assert "size:          13 (13 B)" in text and "content_type:  text/plain" in text

    shown = run("cat", f"{bucket}/docs/hello.txt")
    assert shown.code == 0 and shown.stdout_bytes == b"hello, world\n"

    signed = run("sign", f"{bucket}/docs/hello.txt", "--expires", "300")
    if backend.name in ("s3", "azure"):
        assert signed.code == 0, signed.stderr
        url = signed.stdout.strip()
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.read() == b"hello, world\n"
        as_json = run("sign", f"{bucket}/docs/hello.txt", "--expires", "60", "--json").json()
        assert as_json["expires"] == 60 and as_json["url"].startswith("http")
    else:
        # Local folders cannot sign; GCS signs only with a service-account key, which the
        # emulator setup does not have: both are a clear one-line configuration error.
        assert signed.code == 2
        assert signed.stderr.count("\n") == 1 and "sign" in signed.stderr.lower()

    removed = run("rm", f"{bucket}/docs/renamed.txt")
    assert removed.code == 0 and removed.lines() == [f"deleted: {_shown(backend, bucket, 'docs/renamed.txt')}"]
    missing = run("rm", f"{bucket}/docs/renamed.txt")
    assert missing.code == 1 and missing.stderr.startswith("cloud: not found:")
    assert run("ls", "-r", bucket).lines() == ["docs/hello.txt"]

    emptied = run("rm", "-r", f"{bucket}/docs", "--json")
    assert emptied.code == 0, emptied.stderr
    assert emptied.json()["count"] == 1
    assert run("ls", "-r", bucket).lines() == []

    assert run("rb", bucket).code == 0
    gone = run("ls", bucket)
    assert gone.code == 1 and gone.stderr.startswith("cloud: not found:")


def test_rb_refuses_non_empty_bucket_unless_forced(backend: CliBackend, tmp_path: Path) -> None:
    bucket = backend.new_bucket()
    assert backend.run("mb", bucket, "-q").code == 0
    (tmp_path / "a.txt").write_text("a")
    assert backend.run("cp", tmp_path / "a.txt", f"{bucket}/", "-q").code == 0
    refused = backend.run("rb", bucket)
    assert refused.code == 1 and refused.stderr.count("\n") == 1
    assert backend.run("rb", bucket, "--force", "--json").json() == {
        "bucket": _shown(backend, bucket, "").rstrip("/"),
        "deleted": True,
    }


def test_missing_objects_are_not_found(backend: CliBackend) -> None:
    bucket = backend.new_bucket()
    assert backend.run("mb", bucket, "-q").code == 0
    for args in (("stat", f"{bucket}/nope.txt"), ("cat", f"{bucket}/nope.txt"), ("cp", f"{bucket}/nope.txt", "x")):
        result = backend.run(*args)
        assert result.code == 1, args
        assert result.stderr.startswith("cloud: not found:") and result.stderr.count("\n") == 1
        assert "Traceback" not in result.stderr


def _shown(backend: CliBackend, bucket: str, key: str) -> str:
    """How the command prints an object's location."""
    return f"{bucket}/{key}" if backend.local_root is None else str(Path(bucket) / key) + ("/" if not key else "")
