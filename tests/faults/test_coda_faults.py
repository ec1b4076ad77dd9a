"""Faults between CodaClient and the Coda fake (tests/coda_io/fake_server.py), through the
fault proxy: 5xx bursts and resets on GETs are retried (and counted), a persistent fault
ends in a typed error, and ``timeout=`` bounds the whole call."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from cloud.coda_io import CodaClient
from cloud.common.exceptions import RequestTimeoutError, ServerError, TransportError
from tests.coda_io.conftest import TOKEN, fake_limits, scaled_limits
from tests.coda_io.fake_server import API_PREFIX, FakeCoda, ServedFake
from tests.faults.conftest import fast_retry
from tests.faults.proxy import JSON_503, FaultProxy, Reset, Stall, Status, Truncate

pytestmark = pytest.mark.timeout(60)

SEED_DOC = "doc-seed"
CODA_503 = Status(
    503,
    body=b'{"statusCode": 503, "statusMessage": "Service Unavailable", "message": "injected"}',
    content_type="application/json",
)


@pytest.fixture
def coda_fake() -> Iterator[ServedFake]:
    served = ServedFake(FakeCoda(token=TOKEN, limits=fake_limits())).start()
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def coda_proxy(coda_fake: ServedFake, proxies: Callable[[str], FaultProxy]) -> FaultProxy:
    return proxies(coda_fake.fake.origin)


@pytest.fixture
async def coda(coda_proxy: FaultProxy) -> AsyncIterator[CodaClient]:
    async with CodaClient(
        api_token=TOKEN,
        base_url=coda_proxy.url + API_PREFIX,
        rate_limits=scaled_limits(),
        retry=fast_retry(),
        timeout=3.0,
    ) as client:
        yield client


WHOAMI = {"method": "GET", "path": f"^{API_PREFIX}/whoami$"}
DOC = {"method": "GET", "path": f"^{API_PREFIX}/docs/{SEED_DOC}$"}


async def test_coda_through_proxy(coda: CodaClient, coda_proxy: FaultProxy) -> None:
    assert (await coda.whoami()).login_id == "user@example.com"
    assert (await coda.get_doc(SEED_DOC)).id == SEED_DOC
    tables = await coda.list_tables(SEED_DOC).collect()
    assert tables
    assert coda_proxy.count(**WHOAMI) == 1 and coda_proxy.count(**DOC) == 1
    assert coda.stats.retries == 0


async def test_coda_503_burst_on_get(coda: CodaClient, coda_proxy: FaultProxy) -> None:
    rule = coda_proxy.add(CODA_503, times=2, **DOC)
    assert (await coda.get_doc(SEED_DOC)).id == SEED_DOC
    assert rule.hits == 3
    assert coda.stats.retries == 2


async def test_coda_503_with_retry_after(coda: CodaClient, coda_proxy: FaultProxy) -> None:
    rule = coda_proxy.add(Status(503, body=JSON_503, content_type="application/json", retry_after="0"), **WHOAMI)
    assert (await coda.whoami()).login_id == "user@example.com"
    assert rule.hits == 2 and coda.stats.retries == 1


async def test_coda_reset_before_get(coda: CodaClient, coda_proxy: FaultProxy) -> None:
    rule = coda_proxy.add(Reset(), **DOC)
    assert (await coda.get_doc(SEED_DOC)).id == SEED_DOC
    assert rule.hits == 2
    assert coda.stats.retries == 1


async def test_coda_reset_mid_response(coda: CodaClient, coda_proxy: FaultProxy) -> None:
    rule = coda_proxy.add(Reset(response_bytes=20), **DOC)
    assert (await coda.get_doc(SEED_DOC)).id == SEED_DOC
    assert rule.hits == 2
    assert coda.stats.retries == 1


async def test_coda_truncated_response(coda: CodaClient, coda_proxy: FaultProxy) -> None:
    rule = coda_proxy.add(Truncate(response_bytes=20), **DOC)
    assert (await coda.get_doc(SEED_DOC)).id == SEED_DOC
    assert rule.hits == 2
    assert coda.stats.retries == 1


async def test_coda_persistent_503(coda: CodaClient, coda_proxy: FaultProxy) -> None:
    rule = coda_proxy.add(CODA_503, times=None, **DOC)
    with pytest.raises(ServerError) as info:
        await coda.get_doc(SEED_DOC)
    assert info.value.status_code == 503
    assert rule.hits == 4 and coda.stats.retries == 3


async def test_coda_persistent_reset(coda: CodaClient, coda_proxy: FaultProxy) -> None:
    coda_proxy.add(Reset(), times=None, **DOC)
    with pytest.raises(TransportError):
        await coda.get_doc(SEED_DOC)
    assert coda.stats.retries == 3


async def test_coda_timeout_bounds_the_whole_call(coda: CodaClient, coda_proxy: FaultProxy) -> None:
    """``timeout=1`` with every request stalled: RequestTimeoutError after about 1 s, not
    1 s per attempt."""
    coda_proxy.add(Stall(5), times=None, **DOC)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        await coda.get_doc(SEED_DOC, timeout=1)
    elapsed = time.monotonic() - started
    assert elapsed < 2.5, f"timeout=1 took {elapsed:.1f}s"


async def test_coda_stall_once_is_retried(coda: CodaClient, coda_proxy: FaultProxy) -> None:
    """A one-off stall longer than the timeout: a retry that succeeds, or a timeout."""
    coda_proxy.add(Stall(4), **DOC)
    try:
        doc = await coda.get_doc(SEED_DOC, timeout=2)
    except RequestTimeoutError:
        return
    assert doc.id == SEED_DOC
