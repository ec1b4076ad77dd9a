"""Filesystems under test: one factory per backend, built from options as fsspec does.

``make_fs(name)`` returns ``(filesystem, bucket)`` for ``memory``, ``local``, ``s3`` (moto),
``gcs`` (gcp-storage-emulator) and ``azure`` (Azurite); emulators come from the session
fixtures in ``tests/conftest.py``.  Filesystems are closed at the end of the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cloud.fsspec import AzureFileSystem, CloudFileSystem, FileFileSystem, GCSFileSystem, MemoryFileSystem, S3FileSystem

BACKENDS = ["memory", "local", "s3", "gcs", "azure"]

S3_KEY, S3_SECRET = "AKIAFSSPECTEST", "fsspec-secret-not-real"


def fs_options(name: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The storage options (what a user passes to ``fsspec.filesystem``) of a backend."""
    if name == "memory":
        return {}
    if name == "local":
        return {"root": str(tmp_path_factory.mktemp("cloud-file"))}
    if name == "s3":
        moto = request.getfixturevalue("moto_server")
        return {"endpoint_url": moto.url, "region": "us-east-1", "key": S3_KEY, "secret": S3_SECRET}
    if name == "gcs":
        emulator = request.getfixturevalue("gcs_emulator")
        return {"endpoint_url": emulator.url, "project": "fsspec-tests"}
    if name == "azure":
        azurite = request.getfixturevalue("azurite")
        return {"connection_string": azurite.extra["connection_string"], "block_size": 1024 * 1024}
    raise ValueError(name)


CLASSES: dict[str, type[CloudFileSystem]] = {
    "memory": MemoryFileSystem,
    "local": FileFileSystem,
    "s3": S3FileSystem,
    "gcs": GCSFileSystem,
    "azure": AzureFileSystem,
}
PROTOCOL = {"memory": "cloud-memory", "local": "cloud-file", "s3": "cloud-s3", "gcs": "cloud-gs", "azure": "cloud-az"}


def new_bucket() -> str:
    """A bucket name valid everywhere."""
    return f"fs-{uuid.uuid4().hex[:16]}"


MakeFs = Callable[[str], tuple[CloudFileSystem, str]]


@pytest.fixture
def make_fs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeFs]:
    """``make_fs(backend) -> (fs, bucket root path)``: a fresh filesystem (not cached) with a
    fresh bucket; everything is closed afterwards."""
    made: list[CloudFileSystem] = []

    def make(name: str) -> tuple[CloudFileSystem, str]:
        options = fs_options(name, request, tmp_path_factory)
        fs = CLASSES[name](skip_instance_cache=True, **options)
        made.append(fs)
        bucket = new_bucket()
        root = fs._join(bucket)
        fs.mkdir(root)
        return fs, root

    yield make
    for fs in made:
        fs.close()
