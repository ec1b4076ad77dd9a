"""The compute and serverless contract suites' parametrization: every backend runs the same
cases.  Backends live in ``tests/compute/backends/`` (AWS on moto's server, GCP and Azure on
loopback fakes that validate every request against the providers' published API
descriptions)."""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from .harness import ComputeHarness, ServerlessHarness

BACKENDS = ["aws", "gcp", "azure"]

_SHARED: dict[str, Any] = {}


@pytest.fixture(scope="session")
def google_fake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """The Google fake and a service-account key file whose ``token_uri`` is the fake's."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from .fakes.gcp import PROJECT, GoogleFake

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fake = GoogleFake(public_key=key.public_key())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = tmp_path_factory.mktemp("gcp") / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": "fake-key-1",
                "private_key": pem.decode(),
                "client_email": f"tests@{PROJECT}.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": f"{fake.server.url}/token",
            }
        )
    )
    try:
        yield fake, str(path)
    finally:
        assert not fake.server.rejections, fake.server.rejections
        fake.server.stop()


@pytest.fixture(scope="session")
def azure_fake() -> Iterator[Any]:
    """The Azure Resource Manager fake."""
    from .fakes.azure import AzureFake

    fake = AzureFake()
    try:
        yield fake
    finally:
        assert not fake.server.rejections, fake.server.rejections
        fake.server.stop()


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
