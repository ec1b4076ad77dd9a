"""``cloud ls s3://...`` through S3's quick lister (one signed request, no aiobotocore):
the same lines as the full path, and the full path wherever the quick one cannot be exact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import pytest

from cloud.aws import S3Client, SyncS3Client
from cloud.aws.quick_list import quick_list
from cloud.common.models import CloudCredentials
from tests.cli.conftest import ROOT, emulator_env

CREDENTIALS = CloudCredentials(access_key_id="testing", secret_access_key="testing")

TRICKY = [
    "a b/c.txt",
    "plus+sign.txt",
    "per%20cent.txt",
    "tilde~/x",
    "ünï/cödé.txt",
    "dir/file",
    "dir/sub/deep.txt",
    "dir/sub/deeper/z",
    "dir/zz.txt",
    "amp&eq=.txt",
    "star*q.txt",
]

# The full path of ``cloud ls``, whatever the quick path would do: the command's handler
# called directly (main() tries the quick path first).
_FULL_PATH = (
    "import sys\n"
    "from cloud.cli.main import build_parser\n"
    "from cloud.cli.storage import ls\n"
    "sys.exit(ls(build_parser().parse_args(sys.argv[1:])))\n"
)

_MODULES_AFTER = (
    "import io, json, sys\n"
    "from cloud.cli.main import main\n"
    "out, sys.stdout = sys.stdout, io.StringIO()\n"
    "code = main(sys.argv[1:])\n"
    "sys.stdout = out\n"
    "print(json.dumps([code, sorted(sys.modules)]))\n"
)


@pytest.fixture
def s3_env(request: pytest.FixtureRequest) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and "proxy" not in k.lower()}
    env.update(emulator_env(request, ["s3"]))
    env["AWS_CONFIG_FILE"] = os.devnull  # an empty config: the environment's credentials
    env["AWS_EC2_METADATA_DISABLED"] = "true"  # a credential-chain setting (never reached)
    return env


@pytest.fixture
def bucket(s3_env: dict[str, str]) -> Iterator[str]:
    name = f"quick-{uuid.uuid4().hex[:12]}"
    with SyncS3Client(endpoint_url=s3_env["AWS_ENDPOINT_URL"], region="us-east-1", credentials=CREDENTIALS) as s3:
        s3.ensure_bucket(name)
        for i, key in enumerate(TRICKY):
            s3.put_bytes(name, key, b"x" * i)
        yield name
        s3.delete_bucket(name, force=True)


def _run(argv: list[str], env: dict[str, str], *, full: bool) -> tuple[int, str, str]:
    command = [sys.executable, "-c", _FULL_PATH] if full else [sys.executable, "-m", "cloud.cli"]
    done = subprocess.run([*command, *argv], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    return done.returncode, done.stdout, done.stderr


def _modules_after(argv: list[str], env: dict[str, str]) -> tuple[int, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _MODULES_AFTER, *argv], capture_output=True, text=True, env=env, cwd=ROOT, check=True
    )
    code, modules = json.loads(done.stdout)
    return code, set(modules)


@pytest.mark.parametrize(
    "args",
    [
        ["{b}/"],
        ["{b}"],
        ["-l", "{b}/dir/"],
        ["-r", "{b}/"],
        ["-r", "-l", "{b}/dir"],
        ["{b}/dir"],  # the folder dir/
        ["{b}/dir/file"],  # an object: the full path reads its metadata
        ["-l", "{b}/a b/"],
        ["{b}/ünï/"],
        ["{b}/nothing-here/"],
        ["-q", "{b}/"],
    ],
)
def test_quick_ls_prints_what_the_full_path_prints(args: list[str], bucket: str, s3_env: dict[str, str]) -> None:
    argv = ["ls", *(a.format(b=f"s3://{bucket}") for a in args)]
    quick = _run(argv, s3_env, full=False)
    full = _run(argv, s3_env, full=True)
    assert quick == full
    assert quick[0] == 0


def test_quick_ls_answers_without_aiobotocore(bucket: str, s3_env: dict[str, str]) -> None:
    code, loaded = _modules_after(["ls", "-r", f"s3://{bucket}/"], s3_env)
    assert code == 0
    assert "cloud.aws.quick_list" in loaded
    assert not [m for m in ("aiobotocore", "aiohttp", "cloud.aws.client", "anyio", "httpx") if m in loaded]


def test_quick_ls_with_a_config_file_uses_botocore_s_chain(bucket: str, s3_env: dict[str, str], tmp_path: Any) -> None:
    config = tmp_path / "config"
    config.write_text("[profile bench]\nregion = us-east-1\n")
    credentials = tmp_path / "credentials"
    credentials.write_text("[bench]\naws_access_key_id = testing\naws_secret_access_key = testing\n")
    env = {k: v for k, v in s3_env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    env.update({"AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)})
    argv = ["ls", "--profile", "bench", f"s3://{bucket}/dir/"]
    code, loaded = _modules_after(argv, env)
    assert code == 0
    assert "botocore.session" in loaded and "aiobotocore" not in loaded
    assert _run(argv, env, full=False) == _run(argv, env, full=True)
    # A profile that does not exist: the client reports it, as without the quick path.
    missing = ["ls", "--profile", "nobody", f"s3://{bucket}/dir/"]
    quick = _run(missing, env, full=False)
    assert quick == _run(missing, env, full=True)
    assert quick[0] != 0


def test_quick_list_gives_the_clients_entries(bucket: str, s3_env: dict[str, str], monkeypatch: Any) -> None:
    for key, value in s3_env.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    options = {"endpoint_url": s3_env["AWS_ENDPOINT_URL"], "region": "us-east-1"}
    with SyncS3Client(**options) as s3:
        for prefix, delimiter in [("", "/"), ("", None), ("dir/", "/"), ("ünï/", None), ("missing/", "/")]:
            expected = list(s3.iter_objects(bucket, prefix, delimiter=delimiter))
            assert quick_list(bucket, prefix, delimiter, options) == expected


@pytest.mark.parametrize(
    "change",
    [
        {"HTTPS_PROXY": "http://127.0.0.1:9"},  # proxies are the client's
        {"AWS_USE_FIPS_ENDPOINT": "true"},  # a setting the quick path does not reproduce
        {"AWS_CA_BUNDLE": " "},  # botocore's configuration error
    ],
)
def test_quick_list_leaves_what_it_cannot_reproduce_to_the_client(
    bucket: str, s3_env: dict[str, str], monkeypatch: Any, change: dict[str, str]
) -> None:
    for key, value in {**s3_env, **change}.items():
        if key.startswith("AWS_") or "PROXY" in key:
            monkeypatch.setenv(key, value)
    assert quick_list(bucket, "", "/", {"endpoint_url": s3_env["AWS_ENDPOINT_URL"]}) is None


def test_quick_list_leaves_errors_and_long_listings_to_the_client(s3_env: dict[str, str], monkeypatch: Any) -> None:
    for key, value in s3_env.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    options = {"endpoint_url": s3_env["AWS_ENDPOINT_URL"]}
    assert quick_list(f"missing-{uuid.uuid4().hex[:12]}", "", "/", options) is None  # 404: the client reports it
    assert quick_list("bucket", "", "/", {"endpoint_url": "http://127.0.0.1:9"}) is None  # refused
    assert quick_list("xn--bucket", "", "/", options) is None  # special names: the client's rules
    name = f"quick-long-{uuid.uuid4().hex[:8]}"
    with SyncS3Client(endpoint_url=options["endpoint_url"], region="us-east-1", credentials=CREDENTIALS) as s3:
        s3.ensure_bucket(name)
        try:
            anyio.run(_put_empty_objects, options["endpoint_url"], name, [f"k/{i:04d}" for i in range(1001)])
            assert quick_list(name, "k/", "/", options) is None  # two pages
            assert len(quick_list(name, "k/0", "/", options) or []) == 1000  # one full page
            # The command still lists the long folder whole, through the client.
            code, out, _ = _run(["ls", f"s3://{name}/k/"], s3_env, full=False)
            assert (code, out.splitlines()) == (0, [f"{i:04d}" for i in range(1001)])
        finally:
            s3.delete_bucket(name, force=True)


async def _put_empty_objects(endpoint: str, bucket: str, names: list[str]) -> None:
    async with S3Client(endpoint_url=endpoint, region="us-east-1", credentials=CREDENTIALS) as s3:
        limit = anyio.Semaphore(32)

        async def put(name: str) -> None:
            async with limit:
                await s3.put_bytes(bucket, name, b"")

        async with anyio.create_task_group() as tg:
            for name in names:
                tg.start_soon(put, name)


def test_quick_ls_of_a_missing_bucket_reports_like_the_full_path(s3_env: dict[str, str]) -> None:
    argv = ["ls", f"s3://missing-{uuid.uuid4().hex[:12]}/"]
    quick = _run(argv, s3_env, full=False)
    assert quick == _run(argv, s3_env, full=True)
    assert quick[0] == 1 and "does not exist" in quick[2]
