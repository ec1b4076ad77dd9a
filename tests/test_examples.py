"""Every script in examples/ runs to completion against the local backend, the emulators
(moto, the GCS emulator, Azurite) and the Coda fake."""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

import cloud
from tests.emulators import Emulator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DATA = EXAMPLES / "data"

_SCRUBBED = (
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "STORAGE_EMULATOR_HOST",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_ACCOUNT_URL",
    "CODA_API_TOKEN",
    "CODA_API_BASE_URL",
)


def run_example(script: str, *args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    full_env.update(env or {})
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *[str(a) for a in args]],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{script} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def s3_env(moto: Emulator) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": moto.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_every_example_is_tested() -> None:
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))
    tested = sorted(
        [
            "bulk_upload.py",
            "coda_rows_to_csv.py",
            "quickstart_azure.py",
            "quickstart_gcs.py",
            "quickstart_local.py",
            "quickstart_s3.py",
            "storage_service.py",
            "sync_facade.py",
        ]
    )
    assert scripts == tested


def test_quickstart_local(tmp_path: Path) -> None:
    out = run_example("quickstart_local.py").stdout
    assert "hello, local storage" in out and "exists after delete: False" in out
    run_example("quickstart_local.py", tmp_path)
    assert not (tmp_path / "photos").exists()  # the example cleans up after itself


def test_quickstart_s3(moto_server: Emulator) -> None:
    out = run_example("quickstart_s3.py", unique("ex-s3"), env=s3_env(moto_server)).stdout
    assert "hello, S3" in out and "signed URL: http" in out and "exists after delete: False" in out


def test_quickstart_s3_endpoint_from_the_command_line(moto_server: Emulator) -> None:
    env = s3_env(moto_server)
    endpoint = env.pop("AWS_ENDPOINT_URL")
    out = run_example("quickstart_s3.py", unique("ex-s3"), "--endpoint-url", endpoint, env=env).stdout
    assert "hello, S3" in out


def test_quickstart_gcs(gcs_emulator: Emulator) -> None:
    out = run_example("quickstart_gcs.py", unique("ex-gcs"), env={"STORAGE_EMULATOR_HOST": gcs_emulator.url}).stdout
    assert "hello, GCS" in out and "exists after delete: False" in out
    out = run_example("quickstart_gcs.py", unique("ex-gcs"), "--api-root", gcs_emulator.url).stdout
    assert "streamed 11 bytes" in out


def test_quickstart_azure(azurite: Emulator) -> None:
    connection = azurite.extra["connection_string"]
    out = run_example(
        "quickstart_azure.py", unique("ex-az"), env={"AZURE_STORAGE_CONNECTION_STRING": connection}
    ).stdout
    assert "hello, Azure" in out and "signed URL: http" in out and "exists after delete: False" in out
    out = run_example("quickstart_azure.py", unique("ex-az"), "--connection-string", connection).stdout
    assert "hello, Azure" in out


def test_sync_facade() -> None:
    out = run_example("sync_facade.py").stdout
    assert "['2024-01.csv', '2024-02.csv', '2024-03.csv']" in out and "left: []" in out


def _data_files() -> dict[str, bytes]:
    return {p.relative_to(DATA).as_posix(): p.read_bytes() for p in DATA.rglob("*") if p.is_file()}


def test_bulk_upload_to_a_local_folder(tmp_path: Path) -> None:
    out = run_example("bulk_upload.py", DATA, tmp_path / "uploaded").stdout
    files = _data_files()
    assert f"uploaded {len(files)} files, {sum(len(v) for v in files.values())} bytes; 0 failed" in out
    assert out.count("  ok  ") == len(files)
    assert {
        p.relative_to(tmp_path / "uploaded").as_posix(): p.read_bytes()
        for p in (tmp_path / "uploaded").rglob("*")
        if p.is_file()
    } == files


@pytest.mark.parametrize("scheme", ["s3", "gs", "az"])
def test_bulk_upload_to_each_provider(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    env: dict[str, str] = {}
    options: dict[str, str] = {}
    if scheme == "s3":
        env = s3_env(request.getfixturevalue("moto_server"))
        options = {"endpoint_url": env["AWS_ENDPOINT_URL"]}
    elif scheme == "gs":
        env = {"STORAGE_EMULATOR_HOST": request.getfixturevalue("gcs_emulator").url}
        options = {"api_root": env["STORAGE_EMULATOR_HOST"]}
    else:
        env = {"AZURE_STORAGE_CONNECTION_STRING": request.getfixturevalue("azurite").extra["connection_string"]}
        options = {"connection_string": env["AZURE_STORAGE_CONNECTION_STRING"]}
    bucket = unique("ex-bulk")
    for key, value in env.items():  # the S3 client reads the test credentials from the environment
        monkeypatch.setenv(key, value)

    async def make() -> None:
        async with cloud.open_storage(f"{scheme}://{bucket}", **options) as client:
            await client.ensure_bucket(bucket)

    anyio.run(make)
    out = run_example("bulk_upload.py", DATA, f"{scheme}://{bucket}/bulk", "--concurrency", "4", env=env).stdout
    files = _data_files()
    assert f"uploaded {len(files)} files" in out and "; 0 failed" in out
    assert f"{scheme}://{bucket}/bulk/tables/cities.csv" in out


@pytest.fixture
def coda_fake() -> Iterator[tuple[str, str]]:
    from tests.cli.coda_helpers import ROWS, TOKEN, seed_rows
    from tests.coda_io.fake_server import FakeCoda, ServedFake

    served = ServedFake(FakeCoda(token=TOKEN)).start()
    seed_rows(served.fake, ROWS)
    try:
        yield served.base_url, TOKEN
    finally:
        served.stop()


def test_coda_rows_to_csv(coda_fake: tuple[str, str], tmp_path: Path) -> None:
    base_url, token = coda_fake
    env = {"CODA_API_TOKEN": token, "CODA_API_BASE_URL": base_url}
    done = run_example("coda_rows_to_csv.py", "doc-seed", "Tasks", env=env)
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["Name"] for r in rows] == ["Write the CLI", 'Quote "this", please', "Ship it"]
    assert rows[2] == {"Name": "Ship it", "Status": "open", "Points": "8"}
    assert done.stderr.strip() == "3 rows"
    target = tmp_path / "tasks.csv"
    run_example("coda_rows_to_csv.py", "doc-seed", "grid-tasks", "-o", target, "--base-url", base_url, env=env)
    assert target.read_text(encoding="utf-8") == done.stdout


def _storage_service() -> Any:
    spec = importlib.util.spec_from_file_location("storage_service_example", EXAMPLES / "storage_service.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_storage_service_self_check() -> None:
    out = run_example("storage_service.py").stdout
    assert "PUT 201" in out and "GET 200 262144 text/plain 262144" in out and "GET missing 404" in out


async def test_storage_service_streams_objects_with_moto(moto_server: Emulator) -> None:
    from cloud.aws import S3Client
    from cloud.common.models import CloudCredentials

    service = _storage_service()
    s3 = S3Client(
        endpoint_url=moto_server.url,
        region="us-east-1",
        credentials=CloudCredentials(access_key_id="testing", secret_access_key="testing"),
        part_size=5 * 1024 * 1024,
    )
    bucket = unique("ex-svc")
    await s3.ensure_bucket(bucket)
    app = service.create_app(s3)
    data = os.urandom(12 * 1024 * 1024 + 5)  # a multipart upload, streamed

    async def body() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 100_000):
            yield data[i : i + 100_000]

    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as http:
            put = await http.put(f"/objects/{bucket}/a/big.bin", content=body(), headers={"content-type": "x/y"})
            assert put.status_code == 201 and put.json()["size"] == len(data)
            stored = await s3.stat(bucket, "a/big.bin")
            assert stored.size == len(data) and stored.content_type == "x/y"
            assert stored.etag is not None and stored.etag.endswith("-3")  # three parts

            got = await http.get(f"/objects/{bucket}/a/big.bin")
            assert got.status_code == 200 and got.content == data
            assert got.headers["content-length"] == str(len(data)) and got.headers["content-type"] == "x/y"
            assert got.headers["etag"] == f'"{stored.etag}"'

            part = await http.get(f"/objects/{bucket}/a/big.bin", headers={"range": "bytes=-10"})
            assert part.status_code == 206 and part.content == data[-10:]
            assert part.headers["content-range"] == f"bytes {len(data) - 10}-{len(data) - 1}/{len(data)}"

            requests = s3.stats.requests
            missing = await http.get(f"/objects/{bucket}/a/absent.bin")
            assert missing.status_code == 404 and "content-length" in missing.headers
            assert s3.stats.requests == requests + 1, "the 404 must come from the one GET"
            assert (await http.get(f"/objects/{unique('nobucket')}/x")).status_code == 404
            assert (await http.get(f"/objects/{bucket}/a/../x")).status_code in (400, 404)

            # A PUT whose body breaks stores nothing.
            async def broken() -> AsyncIterator[bytes]:
                yield b"x" * 11_000_000  # two parts: the multipart upload has begun
                raise ConnectionResetError("client went away")

            with pytest.raises(ConnectionResetError):
                await http.put(f"/objects/{bucket}/a/broken.bin", content=broken())
            assert not await s3.object_exists(bucket, "a/broken.bin")
            raw = await s3._get_client()
            assert (await raw.list_multipart_uploads(Bucket=bucket)).get("Uploads", []) == []

        # A client that disconnects after the first bytes: the download stops there.
        sent: list[dict[str, Any]] = []
        first_body = anyio.Event()

        async def receive() -> dict[str, Any]:
            await first_body.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and message.get("body"):
                first_body.set()
                await anyio.sleep(0.05)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": f"/objects/{bucket}/a/big.bin",
            "raw_path": f"/objects/{bucket}/a/big.bin".encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [],
            "client": ("127.0.0.1", 50000),
            "server": ("svc", 80),
        }
        before = s3.stats.bytes_received
        with anyio.fail_after(30):
            await app(scope, receive, send)
        assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
        pulled = s3.stats.bytes_received - before
        assert pulled < 4 * 1024 * 1024, f"{pulled} bytes read for a client that left"
        await anyio.sleep(0.2)
        assert s3.stats.bytes_received - before == pulled
    finally:
        await s3.delete_bucket(bucket, force=True)
        await s3.aclose()
