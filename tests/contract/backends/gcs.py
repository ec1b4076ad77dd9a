"""Contract backend: GCSClient on gcp-storage-emulator, through a paging proxy.

The emulator never pages object listings, so the client talks to a loopback proxy
(:mod:`tests.gcp.paging_proxy`) that enforces ``maxResults``/``pageToken`` and forwards
everything else unchanged; the 1,050-object listing then really crosses pages.  A 1 MiB
chunk size sends the suite's multi-MiB uploads through chunked resumable sessions.
"""

from __future__ import annotations

from typing import Any

import pytest

from cloud.gcp import GCSClient, SyncGCSClient
from tests.gcp.paging_proxy import PagingProxy

ASYNC_CLASS = GCSClient
SYNC_CLASS = SyncGCSClient

_PROXIES: dict[str, PagingProxy] = {}


def paging_proxy(request: pytest.FixtureRequest) -> PagingProxy:
    """The session's proxy in front of the session's emulator (started on first use,
    stopped when the test session ends)."""
    emulator = request.getfixturevalue("gcs_emulator")
    proxy = _PROXIES.get(emulator.url)
    if proxy is None:
        proxy = PagingProxy(emulator.url).start()
        _PROXIES[emulator.url] = proxy

        def stop() -> None:
            _PROXIES.pop(emulator.url, None)
            proxy.stop()

        request.config.add_cleanup(stop)
    return proxy


def client_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A client of the emulator (through the paging proxy), no credentials."""
    return {"api_root": paging_proxy(request).url, "project": "contract-tests", "chunk_size": 1024 * 1024}
