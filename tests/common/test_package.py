"""Packaging promises: a light ``import cloud``, clear missing-extra errors, honest exports."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import cloud
from cloud.common import sync_stubs

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("httpx", "aiohttp", "aiobotocore", "botocore", "boto3", "azure", "gcloud", "google", "rich", "typer")
PUBLIC_MODULES = [
    "cloud",
    "cloud.common",
    "cloud.common.exceptions",
    "cloud.local",
    "cloud.aws",
    "cloud.gcp",
    "cloud.azure",
    "cloud.coda_io",
]
EXTRAS = {"cloud.aws": ("aws", "aiobotocore"), "cloud.gcp": ("gcp", "gcloud"), "cloud.azure": ("azure", "azure")}


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=ROOT)


def test_import_cloud_loads_no_provider_sdk_or_httpx() -> None:
    result = run_python(
        f"""
        import sys, cloud
        heavy = [m for m in sys.modules if m.split('.')[0] in {HEAVY!r}]
        print(heavy)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# What must stay unloaded (a name or a dotted prefix of one) after each import: a provider
# package loads no SDK, no httpx and no blocking portal; its client classes load their
# SDK on first call, not on import.
_SDKS = (
    "aiobotocore",
    "botocore",
    "boto3",
    "aiohttp",
    "azure.core",
    "azure.identity",
    "azure.storage.blob",
    "azure.mgmt",
    "gcloud.aio.storage",
    "gcloud.aio.auth",
)
_PACKAGE_FORBIDDEN = (*_SDKS, "httpx", "google_crc32c", "anyio", "rich", "typer")
NOT_LOADED = {
    "import cloud.aws": _PACKAGE_FORBIDDEN,
    "import cloud.gcp": _PACKAGE_FORBIDDEN,
    "import cloud.azure": _PACKAGE_FORBIDDEN,
    "import cloud.local": _PACKAGE_FORBIDDEN,
    "import cloud.coda_io": _PACKAGE_FORBIDDEN,
    "import cloud.common": _PACKAGE_FORBIDDEN,
    "import cloud.common.exceptions": _PACKAGE_FORBIDDEN,
    "import cloud.common.base": (*_SDKS, "httpx", "anyio.from_thread"),
    "from cloud.aws import S3Client, SyncS3Client": (*_SDKS, "httpx"),
    "from cloud.gcp import GCSClient": (*_SDKS, "httpx", "anyio.from_thread"),
    "from cloud.gcp import GCSClient, SyncGCSClient": (*_SDKS, "httpx"),
    "from cloud.azure import AzureBlobClient, SyncAzureBlobClient": (*_SDKS, "httpx"),
    "from cloud.local import LocalStorageClient, SyncLocalStorageClient": (*_SDKS, "httpx"),
    "from cloud.coda_io import CodaClient, SyncCodaClient": (*_SDKS, "httpx"),
}


@pytest.mark.parametrize("statement", sorted(NOT_LOADED))
def test_import_loads_no_sdk(statement: str) -> None:
    forbidden = NOT_LOADED[statement]
    result = run_python(
        f"""
        import sys
        {statement}
        print(sorted(m for m in sys.modules if any(m == f or m.startswith(f + '.') for f in {forbidden!r})))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_importtime_shows_no_provider_sdk() -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import cloud"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines() if "|" in line}
    assert "cloud" in imported
    assert not imported & set(HEAVY)


@pytest.mark.parametrize("module", sorted(EXTRAS))
def test_missing_extra_raises_missing_dependency_error(module: str) -> None:
    extra, blocked = EXTRAS[module]
    result = run_python(
        f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] == {blocked!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
                return None
        sys.meta_path.insert(0, Block())
        from cloud.common.exceptions import MissingDependencyError
        try:
            import {module}
        except MissingDependencyError as exc:
            print("OK", exc.extra, "|", exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"OK {extra} |"), result.stdout
    assert f"pip install 'codomyrmex-cloud[{extra}]'" in result.stdout


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_exports_are_honest_and_documented(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__doc__
    exported = module.__all__
    assert len(set(exported)) == len(exported)
    for attr in exported:
        obj = getattr(module, attr)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert obj.__doc__, f"{name}.{attr} has no docstring"
    public = {
        a
        for a, o in vars(module).items()
        if not a.startswith("_") and inspect.isclass(o) and o.__module__.startswith(name)
    }
    assert public <= set(exported) | {"SyncClient"}, public - set(exported)


def test_design_names_are_importable() -> None:
    from cloud.common import (  # noqa: F401
        AsyncPaginator,
        CloudClient,
        CloudCredentials,
        CloudProvider,
        CloudResource,
        ComputeClient,
        ObjectMetadata,
        ResourceType,
        RetryPolicy,
        ServerlessClient,
        StorageClient,
    )

    assert callable(cloud.open_storage)


@pytest.mark.parametrize("name", sync_stubs.FACADE_MODULES)
def test_sync_stubs_are_fresh(name: str) -> None:
    assert sync_stubs.stub_path(name).read_text(encoding="utf-8") == sync_stubs.render_stub(name)
