"""The contract suite's parametrization: every storage backend runs the same cases.

Each backend is a module under ``tests/contract/backends/`` exporting ``ASYNC_CLASS``,
``SYNC_CLASS`` and ``client_kwargs(request)`` (which may start an emulator through the
session fixtures in ``tests/conftest.py``).  A provider joins the suite by adding its
module name to ``BACKENDS``; a provider registered in :mod:`cloud.common.registry` that
needs no emulator joins by itself (its registry entry gives the classes and options), as
the test-only ``test-mem`` provider of ``tests/registry/testmem`` does.
"""

from __future__ import annotations

import importlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

import tests.registry.testmem  # noqa: F401  (registers the test-only provider)
from cloud.common import registry
from cloud.common.base import StorageClient

_BUILT_IN = {"aws", "gcp", "azure", "local"}  # covered by the modules of tests/contract/backends
ALL_BACKENDS = [
    "memory",
    "local",
    "s3",
    "gcs",
    "azure",
    *(p.name for p in registry.storage_providers() if p.name not in _BUILT_IN),
]
# CONTRACT_BACKENDS=memory,s3 narrows a local run; CI runs them all.
BACKENDS = [b for b in os.environ.get("CONTRACT_BACKENDS", ",".join(ALL_BACKENDS)).split(",") if b]


@dataclass
class Backend:
    """One backend under test."""

    name: str
    async_class: type[Any]
    sync_class: type[Any]
    kwargs: dict[str, Any]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    """The backend of this parametrization (its module must import: a missing extra fails)."""
    provider = registry.for_name(request.param)
    if provider is not None and provider.name not in _BUILT_IN:
        classes = provider.client_class(), provider.sync_client_class()
        return Backend(request.param, *classes, provider.client_options(f"{provider.scheme}://", environ={}))
    module = importlib.import_module(f"tests.contract.backends.{request.param}")
    return Backend(request.param, module.ASYNC_CLASS, module.SYNC_CLASS, module.client_kwargs(request))


@pytest.fixture
async def storage(backend: Backend) -> AsyncIterator[StorageClient]:
    """An async client of the backend."""
    async with backend.async_class(**backend.kwargs) as client:
        yield client


def unique_bucket() -> str:
    """A bucket name valid on every provider (lower-case letters, digits, hyphens)."""
    return f"ct-{uuid.uuid4().hex[:16]}"


@pytest.fixture
async def bucket(storage: StorageClient) -> AsyncIterator[str]:
    """A fresh bucket, deleted with its objects afterwards."""
    name = unique_bucket()
    assert await storage.ensure_bucket(name) is True
    yield name
    try:
        await storage.delete_bucket(name, force=True)
    except Exception:
        pass
