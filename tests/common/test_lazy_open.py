"""OpenOnce: the one double-checked open of a client's session."""

from __future__ import annotations

import anyio
import pytest

from cloud.common.lazy_open import OpenOnce


class _Owner:
    def __init__(self) -> None:
        self.session: object | None = None
        self.opened = 0
        self.once: OpenOnce[object] = OpenOnce()

    async def create(self) -> None:
        self.opened += 1
        await anyio.sleep(0.01)
        self.session = object()


async def test_concurrent_first_calls_share_one_open() -> None:
    owner = _Owner()
    got: list[object] = []

    async def call() -> None:
        got.append(await owner.once.get(lambda: owner.session, owner.create))

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(call)
    assert owner.opened == 1
    assert len(got) == 10 and all(g is owner.session for g in got)
    assert await owner.once.get(lambda: owner.session, owner.create) is owner.session
    assert owner.opened == 1


async def test_a_cancelled_first_opener_leaves_the_next_call_to_open() -> None:
    owner = _Owner()
    started = anyio.Event()

    async def stuck() -> None:
        owner.opened += 1
        started.set()
        await anyio.sleep_forever()

    async with anyio.create_task_group() as tg:
        tg.start_soon(owner.once.get, lambda: owner.session, stuck)
        await started.wait()
        tg.cancel_scope.cancel()
    assert owner.session is None
    with anyio.fail_after(5):
        session = await owner.once.get(lambda: owner.session, owner.create)
    assert session is owner.session is not None
    assert owner.opened == 2


async def test_a_failed_open_raises_and_the_next_call_opens_again() -> None:
    owner = _Owner()

    async def broken() -> None:
        raise OSError("no route")

    with pytest.raises(OSError, match="no route"):
        await owner.once.get(lambda: owner.session, broken)
    assert await owner.once.get(lambda: owner.session, owner.create) is owner.session
    assert owner.opened == 1


def test_construction_needs_no_event_loop() -> None:
    once: OpenOnce[object] = OpenOnce()
    assert once._lock is None
