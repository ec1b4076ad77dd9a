"""Dask: a LocalCluster of 2 worker processes reads a partitioned Parquet dataset through
CloudFileSystem (the filesystem is pickled to the workers, which rebuild their own client)
and writes a result back; and cloud.transfer's scale-out copies S3 (moto) -> Azure
(Azurite) on the same cluster, a re-run skipping what is done."""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from typing import Any

import dask.dataframe as dd
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from distributed import Client, LocalCluster

from cloud.aws import S3Client
from cloud.azure import AzureBlobClient
from cloud.common.exceptions import CloudError
from cloud.common.models import CloudCredentials
from cloud.fsspec import CloudFileSystem, S3FileSystem
from cloud.transfer import Remote, copy_tree, sync_tree
from tests.fsspec.conftest import S3_KEY, S3_SECRET, MakeFs, new_bucket


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    """Two worker processes, one thread each (the CI machine has 2 cores)."""
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=40
    ) as local:
        yield local


def _where(fs: CloudFileSystem, path: str) -> tuple[int, bytes, int]:
    """Run on a worker: its pid, what it read through the unpickled filesystem and the
    identity of that filesystem's client."""
    return os.getpid(), fs.cat_file(path), id(fs.client)


def test_dask_reads_and_writes_a_partitioned_dataset(cluster: LocalCluster, make_fs: MakeFs) -> None:
    fs, root = make_fs("s3")
    frame = pd.DataFrame({"id": range(2000), "part": [i % 4 for i in range(2000)], "x": [i * 2 for i in range(2000)]})
    ds.write_dataset(
        pa.Table.from_pandas(frame, preserve_index=False),
        f"{root}/in",
        format="parquet",
        partitioning=["part"],
        partitioning_flavor="hive",
        filesystem=fs,
    )
    assert len(fs.ls(f"{root}/in")) == 4
    fs.pipe_file(f"{root}/probe", b"probe")
    options = dict(fs.storage_options)
    with Client(cluster) as client:
        # The filesystem itself goes to the workers pickled: each rebuilds its own client.
        seen = client.gather(
            [
                client.submit(_where, fs, f"{root}/probe", pure=False, workers=[w])
                for w in client.scheduler_info()["workers"]
            ]
        )
        assert {pid for pid, _, _ in seen} - {os.getpid()} == {pid for pid, _, _ in seen}
        assert len({pid for pid, _, _ in seen}) == 2 and all(data == b"probe" for _, data, _ in seen)

        df = dd.read_parquet(f"cloud-s3://{root}/in", storage_options=options)
        assert df.npartitions >= 4
        summary = df.groupby("part").x.sum().to_frame().reset_index()
        summary.to_parquet(f"cloud-s3://{root}/out", storage_options=options, write_index=False)
    back = pd.read_parquet(f"cloud-s3://{root}/out", storage_options=options).sort_values("part")
    expected = frame.groupby("part").x.sum()
    assert back["x"].tolist() == expected.tolist()


def test_filesystem_pickles_to_its_options(make_fs: MakeFs) -> None:
    fs, root = make_fs("s3")
    fs.pipe_file(f"{root}/a", b"1")
    copy = pickle.loads(pickle.dumps(fs))
    assert copy is not fs and isinstance(copy, S3FileSystem)
    assert copy.cat_file(f"{root}/a") == b"1"
    assert copy.client is not fs.client
    copy.close()


def _azure(azurite: Any) -> AzureBlobClient:
    return AzureBlobClient(connection_string=azurite.extra["connection_string"])


async def test_copy_tree_s3_to_azure_on_dask(cluster: LocalCluster, moto_server: Any, azurite: Any) -> None:
    credentials = CloudCredentials(access_key_id=S3_KEY, secret_access_key=S3_SECRET)
    async with (
        S3Client(endpoint_url=moto_server.url, region="us-east-1", credentials=credentials) as s3,
        _azure(azurite) as az,
    ):
        src, dst = new_bucket(), new_bucket()
        await s3.ensure_bucket(src)
        await az.ensure_bucket(dst)
        for i in range(60):
            await s3.put_bytes(src, f"data/{i:03d}.bin", bytes([i]) * (100 + i))
        source, dest = Remote(s3, src, "data"), Remote(az, dst, "copy")
        seen: list[Any] = []
        results = await copy_tree(source, dest, dask=cluster.scheduler_address, on_result=seen.append)
        assert len(results) == 60 and all(r.ok for r in results) and len(seen) == 60
        assert sum(r.bytes for r in results) == sum(100 + i for i in range(60))
        assert await az.get_bytes(dst, "copy/007.bin") == bytes([7]) * 107
        # A re-run skips what is done: nothing is copied again.
        again = await copy_tree(source, dest, dask=cluster.scheduler_address)
        assert len(again) == 60 and all(r.ok and r.bytes == 0 for r in again)
        # A changed source object is copied again; a failure comes back typed, per item.
        await s3.put_bytes(src, "data/007.bin", b"changed")
        await az.delete_bucket(dst, force=True)
        failed = await copy_tree(source, dest, dask=cluster.scheduler_address)
        assert len(failed) == 60 and not any(r.ok for r in failed)
        assert all(isinstance(r.error, CloudError) for r in failed)
        await az.ensure_bucket(dst)
        synced = await sync_tree(source, dest, dask=cluster.scheduler_address)
        assert synced.ok and len(synced.results) == 60
        assert await az.get_bytes(dst, "copy/007.bin") == b"changed"


def _set_environment(env: dict[str, str]) -> None:
    os.environ.update(env)


def test_cli_cp_and_sync_with_dask(cluster: LocalCluster, request: pytest.FixtureRequest, tmp_path: Any) -> None:
    from tests.cli.conftest import emulator_env, run_in_process

    env = emulator_env(request, ["s3", "azure"])
    with Client(cluster) as client:
        client.run(_set_environment, env)  # the workers' own credentials, as on a real cluster
    src, dst = f"s3://{new_bucket()}", f"az://{new_bucket()}"
    assert run_in_process("mb", src, "-q", env=env).code == 0
    assert run_in_process("mb", dst, "-q", env=env).code == 0
    folder = tmp_path / "up"
    folder.mkdir()
    for i in range(12):
        (folder / f"f{i:02d}.txt").write_text(f"file {i}")
    assert run_in_process("cp", "-r", folder, f"{src}/in/", env=env).code == 0
    copied = run_in_process(
        "cp", "-r", f"{src}/in/", f"{dst}/out/", "--dask", cluster.scheduler_address, "--json", env=env
    )
    assert copied.code == 0, (copied.stderr, copied.stdout)
    assert copied.json()["copied"] == 12 and copied.json()["failed"] == 0
    (folder / "f03.txt").write_text("changed, longer")
    assert run_in_process("cp", folder / "f03.txt", f"{src}/in/f03.txt", env=env).code == 0
    synced = run_in_process("sync", f"{src}/in/", f"{dst}/out/", "--dask", cluster.scheduler_address, "--json", env=env)
    assert synced.code == 0, synced.stderr
    assert run_in_process("cat", f"{dst}/out/f03.txt", env=env).stdout == "changed, longer"
