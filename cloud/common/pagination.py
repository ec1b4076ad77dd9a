"""The one pagination helper: :class:`AsyncPaginator`, built from a ``fetch_page`` coroutine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from .exceptions import ServerError

__all__ = ["AsyncPaginator", "Page"]

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing: its items and the token of the next page (``None`` at the end)."""

    items: Sequence[T]
    next_token: str | None


class AsyncPaginator(Generic[T]):
    """A lazy listing: fetches one page at a time, only when the caller asks for more.

    ``async for item in paginator`` yields items; ``paginator.pages()`` yields whole
    :class:`Page` objects; ``await paginator.collect(limit=N)`` gathers items into a list.
    ``resume_token`` is the token of the next page not yet fetched, so a listing can be
    resumed later with ``AsyncPaginator(fetch_page, start_token=token)``.
    """

    def __init__(
        self,
        fetch_page: Callable[[str | None], Awaitable[Page[T]]],
        *,
        start_token: str | None = None,
    ) -> None:
        self._fetch_page = fetch_page
        self._start_token = start_token
        self.resume_token: str | None = start_token
        """Token of the next page to fetch; ``None`` once the listing is exhausted."""

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Yield pages lazily, starting at ``start_token``."""
        token = self._start_token
        seen: set[str] = set()
        while True:
            page = await self._fetch_page(token)
            self.resume_token = page.next_token
            yield page
            if not page.next_token:
                return
            if page.next_token in seen:
                raise ServerError(
                    f"the service returned page token {page.next_token!r} twice; stopping to avoid a loop"
                )
            seen.add(page.next_token)
            token = page.next_token

    async def _items(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    async def collect(self, limit: int | None = None) -> list[T]:
        """Gather items into a list, stopping after ``limit`` items when given."""
        out: list[T] = []
        if limit is not None and limit <= 0:
            return out
        async for page in self.pages():
            for item in page.items:
                out.append(item)
                if limit is not None and len(out) >= limit:
                    return out
        return out
