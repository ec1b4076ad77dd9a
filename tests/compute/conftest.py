"""The compute and serverless contract suites' parametrization: every backend runs the same
cases.  Backends live in ``tests/compute/backends/`` (AWS on moto's server, GCP and Azure on
loopback fakes that validate every request against the providers' published API
descriptions)."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from .harness import ComputeHarness, ServerlessHarness

BACKENDS = ["aws"]

_SHARED: dict[str, Any] = {}


@pytest.fixture(params=BACKENDS)
def compute_harness(request: pytest.FixtureRequest) -> ComputeHarness:
    """The compute backend of this parametrization."""
    harness: ComputeHarness = importlib.import_module(f"tests.compute.backends.{request.param}").compute(request)
    return harness


@pytest.fixture(params=BACKENDS)
def serverless_harness(request: pytest.FixtureRequest) -> ServerlessHarness:
    """The serverless backend of this parametrization."""
    harness: ServerlessHarness = importlib.import_module(f"tests.compute.backends.{request.param}").serverless(request)
    return harness


@pytest.fixture
async def compute(compute_harness: ComputeHarness) -> AsyncIterator[Any]:
    """An async compute client of the backend."""
    async with compute_harness.async_class(**compute_harness.kwargs) as client:
        yield client


@pytest.fixture
async def serverless(serverless_harness: ServerlessHarness) -> AsyncIterator[Any]:
    """An async serverless client of the backend."""
    async with serverless_harness.async_class(**serverless_harness.kwargs) as client:
        yield client


FLEET_TAGS = {"fleet": "contract", "team": "ants"}
FLEET_SIZE = 30


@pytest.fixture
async def fleet(compute_harness: ComputeHarness) -> list[str]:
    """30 running instances tagged :data:`FLEET_TAGS`, created once per backend per session
    (the listing cases only read them)."""
    key = f"fleet-{compute_harness.name}"
    if key not in _SHARED:
        _SHARED[key] = await compute_harness.create_instances(FLEET_SIZE, FLEET_TAGS)
    ids: list[str] = _SHARED[key]
    return ids


@pytest.fixture
async def instance(compute_harness: ComputeHarness) -> str:
    """One fresh running instance of its own (cases that change its state)."""
    (instance_id,) = await compute_harness.create_instances(1, {"case": uuid.uuid4().hex[:8]})
    return instance_id


FUNCTION_TAGS = {"team": "ants"}


@pytest.fixture
async def functions(serverless_harness: ServerlessHarness) -> list[str]:
    """Three echo functions, created once per backend per session."""
    key = f"functions-{serverless_harness.name}"
    if key not in _SHARED:
        names = [f"ct-{uuid.uuid4().hex[:10]}-{i}" for i in range(3)]
        _SHARED[key] = await serverless_harness.create_functions(names, FUNCTION_TAGS)
    names_: list[str] = _SHARED[key]
    return names_
