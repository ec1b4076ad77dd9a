"""Session fixtures: the emulators every provider's tests run against.

Each emulator starts once per test session, on first use, and is stopped by PID at the end.
If one cannot start, every test that needs it fails with the emulator's output (never a skip).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.emulators import Emulator, start_azurite, start_gcs, start_moto


def _serve(start: object) -> Iterator[Emulator]:
    emulator = start()  # type: ignore[operator]
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[Emulator]:
    """moto's S3 server on 127.0.0.1."""
    yield from _serve(start_moto)


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[Emulator]:
    """gcp-storage-emulator on 127.0.0.1 (in memory)."""
    yield from _serve(start_gcs)


@pytest.fixture(scope="session")
def azurite() -> Iterator[Emulator]:
    """Azurite's blob service on 127.0.0.1 (in memory)."""
    yield from _serve(start_azurite)
