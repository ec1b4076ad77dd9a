"""Storage URLs and open_storage."""

from __future__ import annotations

from pathlib import Path

import pytest

import cloud
from cloud.common.exceptions import ConfigurationError
from cloud.local import LocalStorageClient


def test_parse_cloud_urls() -> None:
    u = cloud.parse_storage_url("s3://bucket/a/b%20c.txt")
    assert (u.scheme, u.bucket, u.key, u.root) == ("s3", "bucket", "a/b c.txt", None)
    assert cloud.parse_storage_url("gs://b").key == ""
    assert cloud.parse_storage_url("az://container/blob").bucket == "container"
    with pytest.raises(ConfigurationError):
        cloud.parse_storage_url("ftp://x/y")


def test_parse_local_paths(tmp_path: Path) -> None:
    (tmp_path / "bucket").mkdir()
    u = cloud.parse_storage_url(str(tmp_path / "bucket"))
    assert (u.scheme, u.bucket, u.key, u.root) == ("file", "bucket", "", str(tmp_path))
    f = cloud.parse_storage_url(f"file://{tmp_path}/bucket/file.txt")
    assert (f.bucket, f.key, f.root) == ("bucket", "file.txt", str(tmp_path))


async def test_open_storage_local_and_memory(tmp_path: Path) -> None:
    memory = cloud.open_storage("memory://")
    assert isinstance(memory, LocalStorageClient) and memory.root is None
    local = cloud.open_storage(f"file://{tmp_path}")
    assert isinstance(local, LocalStorageClient) and local.root == tmp_path
    async with local:
        assert await local.ensure_bucket("b") is True
    assert (tmp_path / "b").is_dir()
    with pytest.raises(ConfigurationError):
        cloud.open_storage("ftp://nope")
