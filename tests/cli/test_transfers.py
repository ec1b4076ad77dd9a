"""cp -r, sync and partial failures on every backend, and provider-to-provider copies."""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path

import pytest

from tests.cli.conftest import CliBackend, emulator_env, run_in_process, sample_files

BROKEN = "notes/broken.md"  # sorts in the middle of the sample's names


def _add_unreadable(folder: Path) -> None:
    """A file that is listed but cannot be read, even by root: reading /proc/self/mem at
    offset 0 fails with EIO (``chmod 000`` does not stop root)."""
    (folder / BROKEN).symlink_to("/proc/self/mem")


def test_cp_tree_there_and_back(backend: CliBackend, sample: Path, tmp_path: Path) -> None:
    bucket = backend.new_bucket()
    run = backend.run
    assert run("mb", bucket, "-q").code == 0
    expected = sample_files(sample)

    sent = run("cp", "-r", sample, f"{bucket}/photos", "--json", "--concurrency", "3")
    assert sent.code == 0, sent.stderr
    report = sent.json()
    assert report["ok"] is True and report["copied"] == len(expected) and report["failed"] == 0
    assert report["bytes"] == sum(len(v) for v in expected.values())
    assert sorted(run("ls", "-r", f"{bucket}/photos").lines()) == sorted(expected)

    back = tmp_path / "back" / "deeper"  # does not exist yet: created like rsync does
    fetched = run("cp", "-r", f"{bucket}/photos/", back)
    assert fetched.code == 0, fetched.stderr
    assert sample_files(back) == expected
    assert fetched.lines()[-1].startswith(f"copied {len(expected)} files")

    not_recursive = run("cp", f"{bucket}/photos", tmp_path / "x")
    assert not_recursive.code == 2 and "-r" in not_recursive.stderr


def test_sync_copies_only_what_changed(backend: CliBackend, sample: Path, tmp_path: Path) -> None:
    bucket = backend.new_bucket()
    run = backend.run
    assert run("mb", bucket, "-q").code == 0
    count = len(sample_files(sample))
    dest = f"{bucket}/mirror"

    first = run("sync", sample, dest, "--json")
    assert first.code == 0, first.stderr
    assert (first.json()["copied"], first.json()["unchanged"]) == (count, 0)
    again = run("sync", sample, dest, "--json")
    assert again.code == 0, again.stderr
    assert (again.json()["copied"], again.json()["unchanged"], again.json()["items"]) == (0, count, [])
    assert "synced: 0 copied (0 B)" in run("sync", sample, dest).stdout

    (sample / "hello.txt").write_text("changed: a different size\n")
    (sample / "new.txt").write_text("new\n")
    (sample / "notes" / "ideas.md").unlink()
    planned = run("sync", sample, dest, "--delete", "--dry-run", "--json")
    assert planned.code == 0, planned.stderr
    plan = planned.json()
    assert plan["dry_run"] is True
    assert sorted((c["name"], c["reason"]) for c in plan["copy"]) == [("hello.txt", "size"), ("new.txt", "new")]
    assert plan["delete"] == ["notes/ideas.md"] and plan["unchanged"] == count - 2
    assert "notes/ideas.md" in run("ls", "-r", dest).lines()  # the dry run changed nothing

    done = run("sync", sample, dest, "--delete", "--json")
    assert done.code == 0, done.stderr
    result = done.json()
    assert (result["copied"], result["unchanged"], len(result["deleted"])) == (2, count - 2, 1)
    assert sorted(run("ls", "-r", dest).lines()) == sorted(sample_files(sample))
    assert run("cat", f"{dest}/hello.txt").stdout == "changed: a different size\n"

    # And back down into a local folder that does not exist yet; a re-run copies nothing.
    local = tmp_path / "down" / "here"
    down = run("sync", dest, local, "--json")
    assert down.code == 0, down.stderr
    assert down.json()["copied"] == count and sample_files(local) == sample_files(sample)
    assert run("sync", dest, local, "--json").json()["copied"] == 0


def test_sync_newer_source_is_copied_again(backend: CliBackend, sample: Path) -> None:
    """Same size, no comparable checksum: the modification time decides (aws s3 sync)."""
    bucket = backend.new_bucket()
    assert backend.run("mb", bucket, "-q").code == 0
    assert backend.run("sync", sample, bucket, "-q").code == 0
    target = sample / "tables" / "cities.csv"
    target.write_bytes(target.read_bytes().replace(b"Tokyo", b"TOKYO"))
    future = time.time() + 3600
    os.utime(target, (future, future))
    result = backend.run("sync", sample, bucket, "--json").json()
    assert [(i["source"].endswith("tables/cities.csv"), i["ok"]) for i in result["items"]] == [(True, True)]
    assert b"TOKYO" in backend.run("cat", f"{bucket}/tables/cities.csv").stdout_bytes


def test_cp_r_reports_the_unreadable_file_and_copies_the_rest(
    backend: CliBackend, sample: Path, tmp_path: Path
) -> None:
    bucket = backend.new_bucket()
    run = backend.run
    assert run("mb", bucket, "-q").code == 0
    good = sample_files(sample)
    _add_unreadable(sample)

    result = run("cp", "-r", sample, f"{bucket}/up", "--json", "--concurrency", "2")
    assert result.code == 1
    report = result.json()
    assert report["ok"] is False and (report["copied"], report["failed"]) == (len(good), 1)
    failed = [i for i in report["items"] if not i["ok"]]
    assert len(failed) == 1 and failed[0]["source"].endswith(BROKEN) and failed[0]["error"]
    assert f"failed: {sample / BROKEN}" in result.stderr
    assert sorted(run("ls", "-r", f"{bucket}/up").lines()) == sorted(good)

    plain = run("cp", "-r", sample, f"{bucket}/again")
    assert plain.code == 1
    summary = plain.stdout.splitlines()[-1]
    assert summary.startswith(f"copied {len(good)} files ({_size(good)}) in ") and summary.endswith(", 1 failed")
    assert next(line for line in plain.stderr.splitlines() if BROKEN in line).startswith("cloud: failed: ")


def _size(files: dict[str, bytes]) -> str:
    from cloud.cli.output import human_size

    return human_size(sum(len(v) for v in files.values()))


def test_sync_with_a_failure_skips_deletions(tmp_path: Path, sample: Path) -> None:
    dest = tmp_path / "dest"
    assert run_in_process("sync", sample, dest, "-q").code == 0
    (dest / "extra.txt").write_text("only here")
    _add_unreadable(sample)
    result = run_in_process("sync", sample, dest, "--delete", "--json")
    assert result.code == 1
    report = result.json()
    assert report["failed"] == 1 and report["deleted"] == [] and "skipped" in report["delete_error"]
    assert (dest / "extra.txt").exists()


@pytest.mark.parametrize("names", [["s3", "gcs", "azure"]], ids=["s3-gcs-azure"])
def test_provider_to_provider(request: pytest.FixtureRequest, names: list[str], sample: Path, tmp_path: Path) -> None:
    """A tree goes s3 -> gs -> az -> local, streamed object by object, and arrives intact."""
    env = emulator_env(request, names)
    buckets = [f"{scheme}://p2p-{os.urandom(5).hex()}" for scheme in ("s3", "gs", "az")]
    for bucket in buckets:
        assert run_in_process("mb", bucket, "-q", env=env).code == 0
    assert run_in_process("sync", sample, f"{buckets[0]}/tree", "-q", env=env).code == 0
    for src, dst in itertools.pairwise(buckets):
        moved = run_in_process("cp", "-r", f"{src}/tree", f"{dst}/tree", "--json", env=env)
        assert moved.code == 0, moved.stderr
        assert moved.json()["copied"] == len(sample_files(sample))
    out = tmp_path / "out"
    assert run_in_process("cp", "-r", f"{buckets[2]}/tree", out, "-q", env=env).code == 0
    assert sample_files(out) == sample_files(sample)

    single = run_in_process("cp", f"{buckets[0]}/tree/hello.txt", f"{buckets[2]}/one/", "--json", env=env)
    assert single.code == 0 and single.json()["items"][0]["destination"] == f"{buckets[2]}/one/hello.txt"
    assert (
        run_in_process("cat", f"{buckets[2]}/one/hello.txt", env=env).stdout_bytes
        == (sample / "hello.txt").read_bytes()
    )
    # Same provider: a server-side copy, content type kept.
    same = run_in_process("cp", f"{buckets[0]}/tree/notes/todo.md", f"{buckets[0]}/copy.md", env=env)
    assert same.code == 0, same.stderr
    info = run_in_process("stat", f"{buckets[0]}/copy.md", "--json", env=env).json()
    assert info["size"] == len((sample / "notes" / "todo.md").read_bytes())
    assert info["content_type"] == "text/markdown"


def test_large_object_streams_through_every_provider(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """An object larger than one part/block/chunk (8 MiB) goes local -> s3 -> az -> gs ->
    local: multipart upload, staged blocks, resumable chunks, ranged reads, intact."""
    env = emulator_env(request, ["s3", "gcs", "azure"])
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024 + 123))
    size = big.stat().st_size
    urls = [f"{scheme}://big-{os.urandom(5).hex()}" for scheme in ("s3", "az", "gs")]
    for url in urls:
        assert run_in_process("mb", url, "-q", env=env).code == 0
    hops = [str(big), *(f"{url}/big.bin" for url in urls), str(tmp_path / "back" / "big.bin")]
    for src, dst in itertools.pairwise(hops):
        moved = run_in_process("cp", src, dst, "--json", env=env)
        assert moved.code == 0, (src, dst, moved.stderr)
        assert moved.json()["bytes"] == size
    assert (tmp_path / "back" / "big.bin").read_bytes() == big.read_bytes()


def test_endpoint_url_flag(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """--endpoint-url URL for every cloud URL of the command, or SCHEME=URL for one."""
    moto_env = emulator_env(request, ["s3"])
    endpoint = moto_env.pop("AWS_ENDPOINT_URL")
    gcs = request.getfixturevalue("gcs_emulator").url
    s3_bucket, gs_bucket = f"s3://flag-{os.urandom(5).hex()}", f"gs://flag-{os.urandom(5).hex()}"
    assert run_in_process("mb", s3_bucket, "--endpoint-url", endpoint, "-q", env=moto_env).code == 0
    assert run_in_process("mb", gs_bucket, "--endpoint-url", gcs, "-q").code == 0
    (tmp_path / "f.txt").write_text("flag")
    assert run_in_process("cp", tmp_path / "f.txt", f"{s3_bucket}/", "--endpoint-url", endpoint, env=moto_env).code == 0
    both = run_in_process(
        "cp",
        f"{s3_bucket}/f.txt",
        f"{gs_bucket}/g.txt",
        "--endpoint-url",
        f"s3={endpoint}",
        "--endpoint-url",
        f"gs={gcs}",
        env=moto_env,
    )
    assert both.code == 0, both.stderr
    assert run_in_process("cat", f"{gs_bucket}/g.txt", "--endpoint-url", gcs).stdout == "flag"
