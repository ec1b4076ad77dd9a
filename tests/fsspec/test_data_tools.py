"""pandas and pyarrow through CloudFileSystem on every backend (memory, local, moto, the GCS
emulator, Azurite): CSV and Parquet round trips by URL with ``storage_options`` (as a user
writes them) and a partitioned ``pyarrow.dataset`` written and read back."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from tests.fsspec.conftest import BACKENDS, PROTOCOL, MakeFs


def _frame(n: int = 300) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": range(n),
            "region": [("north", "south", "east")[i % 3] for i in range(n)],
            "value": [i * 0.5 for i in range(n)],
        }
    )


def _url(backend: str, path: str) -> str:
    return f"{PROTOCOL[backend]}://{path}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_pandas_csv_and_parquet_by_url(backend: str, make_fs: MakeFs) -> None:
    fs, root = make_fs(backend)
    options = dict(fs.storage_options)
    options["skip_instance_cache"] = True  # a second filesystem, built from the URL's options
    if backend == "memory":
        options = {}  # the in-memory store lives in the instance: use it through storage_options
    frame = _frame()
    if backend == "memory":
        with fs.open(f"{root}/t/frame.csv", "w") as f:
            frame.to_csv(f, index=False)
        with fs.open(f"{root}/t/frame.csv") as f:
            assert pd.read_csv(f).equals(frame)
        frame.to_parquet(f"{root}/t/frame.parquet", filesystem=fs)
        assert pd.read_parquet(f"{root}/t/frame.parquet", filesystem=fs).equals(frame)
        return
    frame.to_csv(_url(backend, f"{root}/t/frame.csv"), index=False, storage_options=options)
    back = pd.read_csv(_url(backend, f"{root}/t/frame.csv"), storage_options=options)
    assert back.equals(frame)
    frame.to_parquet(_url(backend, f"{root}/t/frame.parquet"), storage_options=options)
    assert pd.read_parquet(_url(backend, f"{root}/t/frame.parquet"), storage_options=options).equals(frame)
    assert fs.info(f"{root}/t/frame.parquet")["size"] > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_pyarrow_partitioned_dataset(backend: str, make_fs: MakeFs) -> None:
    fs, root = make_fs(backend)
    table = pa.Table.from_pandas(_frame(600), preserve_index=False)
    base = f"{root}/dataset"
    ds.write_dataset(table, base, format="parquet", partitioning=["region"], partitioning_flavor="hive", filesystem=fs)
    assert sorted(fs.ls(base, detail=False)) == [f"{base}/region={r}" for r in ("east", "north", "south")]
    dataset = ds.dataset(base, format="parquet", partitioning="hive", filesystem=fs)
    assert dataset.count_rows() == 600
    north = dataset.to_table(filter=ds.field("region") == "north").to_pandas()
    assert len(north) == 200 and set(north["id"] % 3) == {0}
    assert sorted(dataset.to_table().column("id").to_pylist()) == list(range(600))
