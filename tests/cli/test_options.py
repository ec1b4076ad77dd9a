"""The options added with the registry work (issue 16) on every backend: bucket listings
(``cloud ls s3://``), ``--include``/``--exclude`` on ``cp -r``, ``sync`` and ``rm -r``,
``--dry-run`` on ``cp`` and ``rm``, the elapsed time of the whole command, a missing
destination bucket named as the command's failure, and ``--profile``."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from cloud.common import registry
from tests.cli.conftest import CliBackend, emulator_env, run_in_process, sample_files


def _bucket_name(backend: CliBackend, bucket: str) -> str:
    return Path(bucket).name if backend.local_root is not None else bucket.split("://", 1)[1]


def test_ls_scheme_lists_buckets(cloud_backend: CliBackend) -> None:
    backend = cloud_backend  # a local folder lists its files; buckets are listed for cloud schemes
    first, second = backend.new_bucket(), backend.new_bucket()
    for bucket in (first, second):
        assert backend.run("mb", bucket, "-q").code == 0
    listed = backend.run("ls", f"{backend.scheme}://")
    assert listed.code == 0, listed.stderr
    names = listed.lines()
    assert f"{_bucket_name(backend, first)}/" in names and f"{_bucket_name(backend, second)}/" in names
    as_json = backend.run("ls", f"{backend.scheme}://", "--json").json()
    assert {"bucket": _bucket_name(backend, first), "url": first} in as_json
    for bucket in (first, second):
        assert backend.run("rb", bucket, "-q").code == 0
    assert f"{_bucket_name(backend, first)}/" not in backend.run("ls", f"{backend.scheme}://").lines()


def test_memory_scheme_lists_no_buckets(cli: object) -> None:
    done = run_in_process("ls", "memory://")
    assert (done.code, done.stdout) == (0, "")


def test_include_exclude_on_cp_sync_and_rm(backend: CliBackend, sample: Path, tmp_path: Path) -> None:
    bucket = backend.new_bucket()
    run = backend.run
    assert run("mb", bucket, "-q").code == 0
    everything = sorted(sample_files(sample))
    markdown = [n for n in everything if n.endswith(".md")]

    # cp -r: later filters win (aws s3 semantics): exclude everything, then take *.md back.
    only_md = run("cp", "-r", sample, f"{bucket}/md", "--exclude", "*", "--include", "*.md", "--json")
    assert only_md.code == 0, only_md.stderr
    assert only_md.json()["copied"] == len(markdown)
    assert sorted(run("ls", "-r", f"{bucket}/md").lines()) == markdown
    # The order matters: include then exclude everything copies nothing.
    nothing = run("cp", "-r", sample, f"{bucket}/none", "--include", "*.md", "--exclude", "*", "--json")
    assert nothing.json()["copied"] == 0
    # Filters need -r.
    assert run("cp", sample / "hello.txt", f"{bucket}/x", "--exclude", "*").code == 2

    # sync: an excluded source file is not copied and an excluded destination file is not deleted.
    dest = f"{bucket}/mirror"
    synced = run("sync", sample, dest, "--exclude", "notes/*", "--json")
    assert synced.code == 0, synced.stderr
    assert sorted(run("ls", "-r", dest).lines()) == [n for n in everything if not n.startswith("notes/")]
    (tmp_path / "extra.csv").write_text("x")
    assert run("cp", tmp_path / "extra.csv", f"{dest}/tables/extra.csv", "-q").code == 0
    assert run("cp", tmp_path / "extra.csv", f"{dest}/stray.txt", "-q").code == 0
    pruned = run("sync", sample, dest, "--delete", "--exclude", "notes/*", "--exclude", "tables/extra.csv", "--json")
    assert pruned.code == 0, pruned.stderr
    assert [d.rsplit("/", 1)[-1] for d in pruned.json()["deleted"]] == ["stray.txt"]
    assert "tables/extra.csv" in run("ls", "-r", dest).lines()
    planned = run("sync", sample, dest, "--dry-run", "--include", "*", "--exclude", "images/*", "--json").json()
    assert planned["copy"] and all(item["name"].startswith("notes/") for item in planned["copy"])

    # rm -r: only what the filters select; --dry-run deletes nothing.
    dry = run("rm", "-r", dest, "--exclude", "*", "--include", "*.png", "--dry-run", "--json").json()
    assert dry["dry_run"] is True and sorted(d.rsplit("/", 1)[-1] for d in dry["deleted"]) == ["ant.png", "leaf.png"]
    assert "images/ant.png" in run("ls", "-r", dest).lines()
    removed = run("rm", "-r", dest, "--exclude", "*", "--include", "*.png", "--json")
    assert removed.code == 0 and removed.json()["count"] == 2
    left = run("ls", "-r", dest).lines()
    assert not [n for n in left if n.endswith(".png")] and "hello.txt" in left


def test_cp_dry_run_changes_nothing(backend: CliBackend, sample: Path, tmp_path: Path) -> None:
    bucket = backend.new_bucket()
    run = backend.run
    assert run("mb", bucket, "-q").code == 0
    expected = sample_files(sample)
    dry = run("cp", "-r", sample, f"{bucket}/d", "--dry-run")
    assert dry.code == 0, dry.stderr
    lines = dry.lines()
    assert len([line for line in lines if line.startswith("would copy: ")]) == len(expected)
    assert lines[-1].startswith(f"dry run: {len(expected)} files to copy")
    assert run("ls", "-r", bucket).lines() == []
    as_json = run("cp", "-r", sample, f"{bucket}/d", "-n", "--exclude", "images/*", "--json").json()
    assert as_json["dry_run"] is True
    assert sorted(i["name"] for i in as_json["copy"]) == sorted(n for n in expected if not n.startswith("images/"))
    assert as_json["bytes"] == sum(len(v) for n, v in expected.items() if not n.startswith("images/"))
    one = run("cp", sample / "hello.txt", tmp_path / "single.txt", "--dry-run")
    assert one.code == 0 and "would copy: " in one.stdout and not (tmp_path / "single.txt").exists()


def test_summary_time_covers_the_whole_command(sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sync with nothing to copy still reports the time its listings took."""
    import cloud.cli.transfers as transfers

    real_plan = transfers.plan_sync

    async def slow_plan(*args: object, **kwargs: object) -> object:
        await anyio.sleep(0.6)
        return await real_plan(*args, **kwargs)  # type: ignore[arg-type]

    assert run_in_process("sync", sample, tmp_path / "dest", "-q").code == 0
    monkeypatch.setattr(transfers, "plan_sync", slow_plan)
    again = run_in_process("sync", sample, tmp_path / "dest", "--json").json()
    assert again["copied"] == 0 and again["seconds"] >= 0.6
    plain = run_in_process("sync", sample, tmp_path / "dest")
    assert plain.stdout.rstrip().endswith("deleted in 0.6s") or " in 0.7s" in plain.stdout or " in 0.8s" in plain.stdout


def test_missing_destination_bucket_names_the_command(cloud_backend: CliBackend, sample: Path) -> None:
    backend = cloud_backend  # a local destination folder is created instead
    missing = f"{backend.scheme}://cli-missing-bucket-zz9"
    for args, verb in (
        (("cp", "-r", sample, f"{missing}/a"), "copy"),
        (("sync", sample, f"{missing}/a"), "sync"),
    ):
        result = backend.run(*args)
        assert result.code == 1, result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith(f"cloud: not found: [{registry.for_scheme(backend.scheme).name}.{verb}] ")
        assert f"cannot {verb} to {missing}/a" in result.stderr
        assert "ListObjects" not in result.stderr and "list_objects" not in result.stderr
    single = backend.run("cp", sample / "hello.txt", f"{missing}/hello.txt")
    assert single.code == 1 and single.stderr.startswith("cloud: not found:") and single.stderr.count("\n") == 1
    assert "ListObjects" not in single.stderr


def test_profile_selects_credentials(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """--profile reaches S3Client(profile=...): the profile's keys are used, the process
    environment is not changed."""
    import os

    env = emulator_env(request, ["s3"])
    config = tmp_path / "config"
    config.write_text("[profile cli-test]\nregion = us-east-1\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[cli-test]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    env.update({"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)})
    env.pop("AWS_ACCESS_KEY_ID")
    env.pop("AWS_SECRET_ACCESS_KEY")
    unset = {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None}
    bucket = "s3://cli-profile-bucket"
    made = run_in_process("mb", bucket, "--profile", "cli-test", env={**env, **unset})  # type: ignore[dict-item]
    assert made.code == 0, made.stderr
    assert "AWS_PROFILE" not in os.environ
    listed = run_in_process("ls", "s3://", "--profile", "cli-test", env={**env, **unset})  # type: ignore[dict-item]
    assert "cli-profile-bucket/" in listed.lines()
    wrong = run_in_process("ls", bucket, "--profile", "no-such-profile", env={**env, **unset})  # type: ignore[dict-item]
    assert wrong.code == 2 and "profile" in wrong.stderr and wrong.stderr.count("\n") == 1
    assert run_in_process("rb", bucket, "--profile", "cli-test", env={**env, **unset}).code == 0  # type: ignore[dict-item]
