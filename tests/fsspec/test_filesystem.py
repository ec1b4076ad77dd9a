"""CloudFileSystem's own behaviour: construction, registration, errors, files."""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys

import fsspec
import pytest

import cloud.fsspec
from cloud.common.exceptions import PermissionDeniedError
from cloud.fsspec import CloudFileSystem, MemoryFileSystem, S3FileSystem
from cloud.fsspec.filesystem import _translate
from cloud.local import LocalStorageClient
from tests.fsspec.conftest import MakeFs


def test_import_cloud_stays_light() -> None:
    code = "import sys, cloud, cloud.transfer; print('fsspec' in sys.modules, 'dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_entry_points_register_our_protocols_only() -> None:
    for protocol in ("cloud-s3", "cloud-gs", "cloud-az", "cloud-file", "cloud-memory"):
        assert fsspec.get_filesystem_class(protocol).__module__ == "cloud.fsspec.filesystem"
    known = importlib.import_module("fsspec.registry").known_implementations
    assert known["s3"]["class"] == "s3fs.S3FileSystem"  # s3://, gs://, az:// are not replaced
    assert known["gs"]["class"] == "gcsfs.GCSFileSystem"
    assert known["az"]["class"] == "adlfs.AzureBlobFileSystem"


def test_claim_and_release_s3() -> None:
    registry = importlib.import_module("fsspec.registry")
    before = (registry._registry.get("s3"), dict(registry.known_implementations["s3"]))
    cloud.fsspec.register(claim=("s3",))
    try:
        assert fsspec.get_filesystem_class("s3") is S3FileSystem
        assert S3FileSystem._strip_protocol("s3://bucket/key/") == "bucket/key"
        fs, path = fsspec.core.url_to_fs("s3://bucket/key", endpoint_url="http://127.0.0.1:1")
        assert isinstance(fs, S3FileSystem) and path == "bucket/key"
    finally:
        cloud.fsspec.release()
    assert (registry._registry.get("s3"), registry.known_implementations["s3"]) == before
    with pytest.raises(ValueError):
        cloud.fsspec.register(claim=("ftp",))


async def test_built_around_a_client_in_its_loop(tmp_path: object) -> None:
    async with LocalStorageClient(root=str(tmp_path)) as client:
        fs = CloudFileSystem(client, asynchronous=True)
        assert CloudFileSystem(client, asynchronous=True) is not fs  # never a cached stranger
        await fs._mkdir("b")
        await fs._pipe_file("b/x/y.txt", b"data")
        assert await fs._cat_file("b/x/y.txt", start=1) == b"ata"
        assert await fs._ls("b", detail=False) == ["b/x"]
        assert (await fs._info("b/x"))["type"] == "directory"
        with pytest.raises(FileNotFoundError):
            await fs._info("b/missing")
        copy = pickle.loads(pickle.dumps(fs))  # a rooted local client rebuilds from its root
        assert copy.cat_file("b/x/y.txt") == b"data"
        copy.close()


def test_memory_filesystem_around_a_client_does_not_pickle() -> None:
    fs = CloudFileSystem(LocalStorageClient())
    with pytest.raises(TypeError, match="cannot be rebuilt"):
        pickle.dumps(fs)


def test_errors_map_to_oserrors() -> None:
    error = _translate(PermissionDeniedError("no", status_code=403), "b/k")
    assert isinstance(error, PermissionError)


@pytest.mark.parametrize("backend", ["memory", "s3"])
def test_files(backend: str, make_fs: MakeFs) -> None:
    fs, root = make_fs(backend)
    path = f"{root}/f.bin"
    block = 5 * 1024 * 1024
    data = bytes(range(256)) * (3 * block // 256 + 10)
    with fs.open(path, "wb", block_size=block) as f:  # several blocks: open_write, multipart
        f.write(data)
    assert fs.size(path) == len(data)
    with fs.open(path, "rb", block_size=1024 * 1024) as f:  # ranged, seekable reads
        f.seek(block + 7)
        assert f.read(100) == data[block + 7 : block + 107]
        f.seek(-10, 2)
        assert f.read() == data[-10:]
    with pytest.raises(RuntimeError), fs.open(f"{root}/aborted", "wb", block_size=block) as f:
        f.write(data)
        raise RuntimeError("stop")
    assert not fs.exists(f"{root}/aborted")  # an exception discards the upload
    with fs.open(f"{root}/log", "ab") as f:
        f.write(b"one ")
    with fs.open(f"{root}/log", "ab") as f:
        f.write(b"two")
    assert fs.cat_file(f"{root}/log") == b"one two"
    with pytest.raises(FileExistsError):
        fs.open(f"{root}/log", "xb")
    assert isinstance(fs, (MemoryFileSystem, S3FileSystem))


async def test_open_async_streams_through_the_client(moto_server: object) -> None:
    from cloud.aws import S3Client
    from cloud.common.models import CloudCredentials
    from tests.fsspec.conftest import S3_KEY, S3_SECRET, new_bucket

    credentials = CloudCredentials(access_key_id=S3_KEY, secret_access_key=S3_SECRET)
    async with S3Client(endpoint_url=moto_server.url, region="us-east-1", credentials=credentials) as s3:  # type: ignore[attr-defined]
        fs = CloudFileSystem(s3, asynchronous=True)
        bucket = new_bucket()
        await fs._mkdir(bucket)
        data = bytes(range(256)) * 4096
        async with await fs.open_async(f"{bucket}/obj", "wb") as f:
            await f.write(data[:600_000])
            await f.write(data[600_000:])
        with pytest.raises(RuntimeError):
            async with await fs.open_async(f"{bucket}/dropped", "wb") as f:
                await f.write(b"never stored")
                raise RuntimeError("stop")
        assert not await fs._exists(f"{bucket}/dropped")
        async with await fs.open_async(f"{bucket}/obj") as f:
            assert f.size == len(data)
            assert await f.read(10) == data[:10]
            await f.seek(700_000)
            assert await f.read(5) == data[700_000:700_005]
            assert f.tell() == 700_005
        with pytest.raises(FileNotFoundError):
            await fs.open_async(f"{bucket}/missing")
        await fs._rm(bucket, recursive=True)


@pytest.mark.parametrize("backend", ["memory", "azure"])
def test_a_file_replaced_while_read_fails(backend: str, make_fs: MakeFs) -> None:
    from cloud.common.exceptions import PreconditionFailedError

    fs, root = make_fs(backend)
    fs.pipe_file(f"{root}/v", b"a" * 3_000_000)
    with fs.open(f"{root}/v", "rb", block_size=1_000_000, cache_type="bytes") as f:
        assert f.read(10) == b"a" * 10
        fs.pipe_file(f"{root}/v", b"b" * 3_000_000)
        with pytest.raises(PreconditionFailedError):
            f.seek(2_500_000)
            f.read(10)
