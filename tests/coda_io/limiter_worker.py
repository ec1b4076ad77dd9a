"""One process of the multi-process limiter tests (``python -m tests.coda_io.limiter_worker
KIND WHERE``): prints ``ready``, waits for a line on stdin, sends its requests through a
:class:`CodaRateLimiter` on backend KIND (``sqlite`` file, ``redis`` URL, or ``memory``: a
limiter of its own), then prints the JSON list of ``[rate_class, time granted]``."""

from __future__ import annotations

import json
import sys
import time

import anyio

from cloud.coda_io import CodaRateLimiter, CodaRateLimits, LimiterBackend, SQLiteLimiterBackend

LIMITS = CodaRateLimits(read=(5, 0.4), write=(3, 0.4), write_doc_content=None, list_docs=None, analytics=None)
REQUESTS = {"read": 6, "write": 4}
"""Requests per process and class."""


def backend_for(kind: str, where: str) -> LimiterBackend | None:
    if kind == "sqlite":
        return SQLiteLimiterBackend(where)
    if kind == "redis":
        from cloud.coda_io.limiter_redis import RedisLimiterBackend

        return RedisLimiterBackend(where, namespace="multiprocess")
    return None


async def main(kind: str, where: str) -> None:
    limiter = CodaRateLimiter(LIMITS, backend=backend_for(kind, where))
    print("ready", flush=True)
    sys.stdin.readline()
    records: list[tuple[str, float]] = []

    async def request(rate_class: str) -> None:
        async with limiter.slot(rate_class):  # type: ignore[arg-type]
            records.append((rate_class, time.time()))
            await anyio.sleep(0.005)  # the request in flight

    async with anyio.create_task_group() as group:
        for rate_class, count in REQUESTS.items():
            for _ in range(count):
                group.start_soon(request, rate_class)
    await limiter.aclose()
    print(json.dumps(records), flush=True)


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2])
