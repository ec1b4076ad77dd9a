"""fsspec for every storage backend: :class:`CloudFileSystem` (an
``fsspec.asyn.AsyncFileSystem``) over any :class:`~cloud.common.base.StorageClient`.

Installed with the ``[fsspec]`` extra, the ``fsspec.specs`` entry points register one
protocol per backend, never replacing s3fs, gcsfs or adlfs::

    import pandas as pd
    df = pd.read_parquet("cloud-s3://bucket/data.parquet", storage_options={"endpoint_url": ...})

    import fsspec
    fs = fsspec.filesystem("cloud-az", connection_string=...)

    from cloud.fsspec import CloudFileSystem
    fs = CloudFileSystem(client)          # around a client you already have

``register(claim=("s3", "gs", "az"))`` opts in to serving ``s3://``, ``gs://`` and
``az://`` URLs too.  Importing this module imports ``fsspec``; ``import cloud`` does not.
"""

from __future__ import annotations

from cloud.fsspec.filesystem import (
    PROTOCOLS,
    AsyncCloudFile,
    AzureFileSystem,
    CloudFile,
    CloudFileSystem,
    FileFileSystem,
    GCSFileSystem,
    MemoryFileSystem,
    S3FileSystem,
    register,
    release,
)

__all__ = [
    "PROTOCOLS",
    "AsyncCloudFile",
    "AzureFileSystem",
    "CloudFile",
    "CloudFileSystem",
    "FileFileSystem",
    "GCSFileSystem",
    "MemoryFileSystem",
    "S3FileSystem",
    "register",
    "release",
]
