"""AsyncPaginator: lazy, resumable, with pages and collect."""

from __future__ import annotations

import pytest

from cloud.common.exceptions import ServerError
from cloud.common.pagination import AsyncPaginator, Page


def make(pages: int, per_page: int, calls: list[str | None]) -> AsyncPaginator[int]:
    async def fetch(token: str | None) -> Page[int]:
        calls.append(token)
        index = int(token) if token else 0
        items = list(range(index * per_page, (index + 1) * per_page))
        return Page(items, str(index + 1) if index + 1 < pages else None)

    return AsyncPaginator(fetch)


async def test_iterates_all_items_lazily() -> None:
    calls: list[str | None] = []
    paginator = make(3, 2, calls)
    assert calls == []  # nothing fetched before iteration
    seen = []
    async for item in paginator:
        seen.append(item)
        if item == 1:
            assert calls == [None]  # second page not fetched while the first is consumed
    assert seen == [0, 1, 2, 3, 4, 5]
    assert calls == [None, "1", "2"]
    assert paginator.resume_token is None


async def test_pages_and_collect_limit() -> None:
    calls: list[str | None] = []
    pages = [p async for p in make(3, 2, calls).pages()]
    assert [list(p.items) for p in pages] == [[0, 1], [2, 3], [4, 5]]
    calls.clear()
    assert await make(3, 2, calls).collect(limit=3) == [0, 1, 2]
    assert calls == [None, "1"]  # stops fetching once the limit is reached
    assert await make(3, 2, []).collect(limit=0) == []


async def test_resume_from_token() -> None:
    calls: list[str | None] = []
    first = make(3, 2, calls)
    async for _page in first.pages():
        break
    assert first.resume_token == "1"
    resumed = AsyncPaginator(first._fetch_page, start_token=first.resume_token)
    assert [i async for i in resumed] == [2, 3, 4, 5]


async def test_repeated_token_stops_instead_of_looping() -> None:
    async def fetch(token: str | None) -> Page[int]:
        return Page([1], "same")

    with pytest.raises(ServerError):
        await AsyncPaginator(fetch).collect()
