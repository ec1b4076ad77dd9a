"""Fixtures of the Coda tests: the fake server on loopback and a virtual clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cloud.coda_io import CodaRateLimits

from .fake_server import FakeCoda, ServedFake
from .virtual_clock import VirtualClock

TOKEN = "fake-coda-token-5f1c9e"
SPEEDUP = 10.0
"""Integration runs with every rate-limit window ten times shorter, on both sides."""


def scaled_limits() -> CodaRateLimits:
    """The client's limits, scaled like the fake's."""
    return CodaRateLimits().scaled(SPEEDUP)


def fake_limits() -> dict[str, tuple[int, float]]:
    limits = scaled_limits()
    out: dict[str, tuple[int, float]] = {}
    for name in ("read", "write", "write_doc_content", "list_docs", "analytics"):
        value = getattr(limits, name)
        assert value is not None
        out[name] = value
    return out


@pytest.fixture
def fake_coda() -> Iterator[ServedFake]:
    """A fresh fake Coda on 127.0.0.1 enforcing the scaled limits."""
    served = ServedFake(FakeCoda(token=TOKEN, limits=fake_limits())).start()
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def clock() -> VirtualClock:
    """A virtual clock (drive it with ``async with clock.running():``)."""
    return VirtualClock()
