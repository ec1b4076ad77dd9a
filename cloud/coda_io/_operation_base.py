"""What the generated operation methods rely on; :class:`~cloud.coda_io.CodaClient`
implements it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from cloud.common.pagination import AsyncPaginator

from .types import JSONMapping, JSONObject

__all__ = ["OperationsBase", "compact", "json_object"]

T = TypeVar("T")


class OperationsBase:
    """The two primitives every generated method is written with."""

    async def _call(
        self,
        operation_id: str,
        path_args: tuple[object, ...],
        *,
        query: Mapping[str, object] | None = None,
        body: JSONMapping | None = None,
        timeout: float | None = None,
    ) -> JSONObject:
        """Send one request of ``operation_id`` and return its JSON object."""
        raise NotImplementedError

    def _paginate(
        self,
        operation_id: str,
        path_args: tuple[object, ...],
        *,
        query: Mapping[str, object],
        limit: int | None,
        page_token: str | None,
        build: Callable[[JSONObject], T],
        timeout: float | None,
    ) -> AsyncPaginator[T]:
        """A lazy listing of ``operation_id`` following ``nextPageToken``."""
        raise NotImplementedError


def compact(fields: Mapping[str, object]) -> JSONObject:
    """The fields whose value is not ``None`` (options left out are not sent)."""
    return {key: value for key, value in fields.items() if value is not None}


def json_object(data: JSONObject) -> JSONObject:
    """Items of listings without a model are returned as the JSON objects they are."""
    return data
