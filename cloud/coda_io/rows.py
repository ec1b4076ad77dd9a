"""Rows the way Coda users work with them: cells by column name or id, column lookup that
refuses ambiguous names, ``column:value`` queries quoted correctly, records that keep the
row id and index, and a pandas DataFrame export.

The client methods (mixed into :class:`~cloud.coda_io.CodaClient`) are
:meth:`CodaRows.get_columns`, :meth:`CodaRows.iter_rows`, :meth:`CodaRows.get_table_row` and
:meth:`CodaRows.table_to_dataframe`; ``iter_records`` and ``upsert_records`` (in the
convenience layer) use the same column lookup.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, TypeVar, cast, overload

from cloud.common.exceptions import ConfigurationError, MissingDependencyError
from cloud.common.pagination import AsyncPaginator, Page

from ._generated.operations import CodaOperations
from .enums import RowsSortBy, ValueFormat
from .types import JSONObject

if TYPE_CHECKING:  # the models load on first use, not with the client
    import pandas

    from .models import Column, Row

__all__ = [
    "AmbiguousColumnError",
    "CodaRows",
    "Record",
    "TableColumns",
    "TableRow",
    "UnknownColumnError",
    "records_to_dataframe",
    "row_query",
]

T = TypeVar("T")

_COLUMN_ID = re.compile(r"c-[A-Za-z0-9_-]+")


class UnknownColumnError(ConfigurationError, LookupError):
    """Raised when no column of the table has the id or name asked for (before any write)."""


class AmbiguousColumnError(ConfigurationError, LookupError):
    """Raised when a column name matches several columns of the table: use one of their ids
    (``column_ids``) instead."""


def _json_value(value: object, where: str) -> str:
    if isinstance(value, datetime | date):
        value = value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigurationError(f"{where}: {value!r} is not a JSON number", provider="coda")
    if value is not None and not isinstance(value, str | int | float | bool):
        raise ConfigurationError(
            f"{where}: a query value must be a string, number, boolean, date or None, not {type(value).__name__}",
            provider="coda",
        )
    return json.dumps(value, ensure_ascii=False)


def row_query(column: str | Column, value: object) -> str:
    """The ``query`` of ``list_rows`` that keeps the rows whose ``column`` holds ``value``.

    Coda's syntax is ``<column id or name>:<JSON value>``, a name quoted as a JSON string:
    ``row_query("Status", "Done")`` is ``"Status":"Done"``, ``row_query("c-tuVwxYz", 3)`` is
    ``c-tuVwxYz:3``.  A :class:`~cloud.coda_io.models.Column` (or a string that looks like a
    column id, ``c-...``) is sent as an id; any other string is quoted as a name (quotes and
    backslashes in it escaped).  Dates and date-times are sent as ISO 8601 strings.
    """
    if isinstance(column, str):
        if not column:
            raise ConfigurationError("row_query: the column must not be empty", provider="coda")
        key = column if _COLUMN_ID.fullmatch(column) else json.dumps(column, ensure_ascii=False)
    else:
        if not column.id:
            raise ConfigurationError("row_query: the column has no id", provider="coda")
        key = column.id
    return f"{key}:{_json_value(value, f'row_query({column!r})')}"


class TableColumns(Sequence["Column"]):
    """The columns of one table (in table order), looked up by id or by name.

    ``columns.get("Status")`` returns the column whose id is ``"Status"`` if there is one,
    else the one column named ``"Status"``; it raises :class:`AmbiguousColumnError` when two
    columns share that name and :class:`UnknownColumnError` when none has it.
    """

    __slots__ = ("_by_id", "_by_name", "_columns")

    def __init__(self, columns: Iterable[Column]) -> None:
        self._columns: tuple[Column, ...] = tuple(columns)
        self._by_id = {c.id: c for c in self._columns if c.id}
        self._by_name: dict[str, list[Column]] = {}
        for column in self._columns:
            self._by_name.setdefault(column.name, []).append(column)

    @overload
    def __getitem__(self, index: int) -> Column: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Column]: ...

    def __getitem__(self, index: int | slice) -> Column | Sequence[Column]:
        return self._columns[index]

    def __len__(self) -> int:
        return len(self._columns)

    def __repr__(self) -> str:
        return f"TableColumns({[c.name for c in self._columns]!r})"

    def get(self, key: str) -> Column:
        """The column with this id, else the one with this name (see the class docstring)."""
        if not isinstance(key, str) or not key:
            raise ConfigurationError(f"a column is named by a non-empty string, not {key!r}", provider="coda")
        column = self._by_id.get(key)
        if column is not None:
            return column
        named = self._by_name.get(key, [])
        if len(named) == 1:
            return named[0]
        if named:
            error = AmbiguousColumnError(
                f"{len(named)} columns are named {key!r} (ids {', '.join(c.id for c in named)}): use an id",
                provider="coda",
            )
            error.column_ids = [c.id for c in named]  # type: ignore[attr-defined]
            raise error
        raise UnknownColumnError(
            f"no column has the id or name {key!r} (columns: {', '.join(repr(c.name) for c in self._columns)})",
            provider="coda",
        )

    def id_of(self, key: str) -> str:
        """The id of the column :meth:`get` finds."""
        return self.get(key).id

    def label(self, column: Column) -> str:
        """The key a row's cell goes under in records and DataFrames: the column's name, or its
        id when another column has the same name."""
        return column.name if len(self._by_name.get(column.name, [])) == 1 and column.name else column.id

    @property
    def labels(self) -> list[str]:
        """:meth:`label` of every column, in table order."""
        return [self.label(c) for c in self._columns]

    def query(self, column: str, value: object) -> str:
        """:func:`row_query` for the column :meth:`get` finds (sent by id: no quoting doubt)."""
        return row_query(self.get(column), value)


class Record(dict[str, object]):
    """A row as a plain ``dict`` of cells keyed by column name, that also keeps where it came
    from: ``row_id`` (``i-...``), ``row_index`` (its position in the table) and ``row_name``
    (the display column's value).  It compares equal to a dict with the same cells."""

    row_id: str
    row_index: int | None
    row_name: str

    def __init__(
        self,
        cells: Mapping[str, object] | None = None,
        *,
        row_id: str = "",
        row_index: int | None = None,
        row_name: str = "",
    ) -> None:
        super().__init__(cells or {})
        self.row_id = row_id
        self.row_index = row_index
        self.row_name = row_name

    def __repr__(self) -> str:
        return f"Record({dict.__repr__(self)}, row_id={self.row_id!r}, row_index={self.row_index!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (_record, (dict(self), self.row_id, self.row_index, self.row_name))

    @classmethod
    def from_row_json(cls, item: JSONObject) -> Record:
        """A record from one item of ``list_rows`` (values keyed by column name)."""
        values = item.get("values")
        row_id = item.get("id")
        index = item.get("index")
        name = item.get("name")
        return cls(
            values if isinstance(values, dict) else {},
            row_id=row_id if isinstance(row_id, str) else "",
            row_index=index if isinstance(index, int) and not isinstance(index, bool) else None,
            row_name=name if isinstance(name, str) else "",
        )


def _record(cells: dict[str, object], row_id: str, row_index: int | None, row_name: str) -> Record:
    return Record(cells, row_id=row_id, row_index=row_index, row_name=row_name)


class TableRow:
    """One row with its table's columns: ``row["Status"]`` or ``row["c-tuVwxYz"]``.

    Any column's id or unambiguous name is a key (an ambiguous name raises
    :class:`AmbiguousColumnError`, an unknown one :class:`UnknownColumnError`); a column the
    row has no value for gives ``None``.  ``keys()``, ``items()`` and iteration use the
    columns' labels (names, or ids where two columns share a name), in table order.  ``id``,
    ``index``, ``name``, ``values`` (cells by column id, as on
    :class:`~cloud.coda_io.models.Row`) and ``raw`` come from the typed row (``row``).
    """

    __slots__ = ("_columns", "_row")

    def __init__(self, row: Row, columns: TableColumns) -> None:
        self._row = row
        self._columns = columns

    @property
    def row(self) -> Row:
        """The row as Coda returned it, typed."""
        return self._row

    @property
    def columns(self) -> TableColumns:
        """The columns of the row's table."""
        return self._columns

    @property
    def id(self) -> str:
        """The row id (``i-...``)."""
        return self._row.id

    @property
    def index(self) -> int | None:
        """The row's position in the table."""
        return self._row.index

    @property
    def name(self) -> str:
        """The value of the table's display column, as text."""
        return self._row.name

    @property
    def values(self) -> dict[str, object]:
        """The cells keyed by column id, typed (rich values are models)."""
        return dict(self._row.values)

    @property
    def raw(self) -> JSONObject:
        """The row's JSON as Coda sent it."""
        return self._row.raw

    def __getitem__(self, key: str) -> object:
        column = self._columns.get(key)
        return self._row.values.get(column.id)

    def get(self, key: str, default: object = None) -> object:
        """The cell of column ``key`` (id or name), ``default`` when the row has none."""
        column = self._columns.get(key)
        return self._row.values.get(column.id, default)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        try:
            self._columns.get(key)
        except (UnknownColumnError, AmbiguousColumnError):
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns.labels)

    def __len__(self) -> int:
        return len(self._columns)

    def keys(self) -> list[str]:
        """The column labels, in table order."""
        return self._columns.labels

    def items(self) -> list[tuple[str, object]]:
        """(label, cell) of every column, in table order."""
        return list(self.to_dict().items())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TableRow):
            return NotImplemented
        return self._row == other._row and list(self._columns) == list(other._columns)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TableRow(id={self.id!r}, index={self.index!r}, cells={self.to_dict()!r})"

    def to_dict(self) -> dict[str, object]:
        """The cells keyed by column label, in table order."""
        values = self._row.values
        return {self._columns.label(c): values.get(c.id) for c in self._columns}

    def to_record(self) -> Record:
        """The row as a :class:`Record` (cells by label, with ``row_id`` and ``row_index``)."""
        return Record(self.to_dict(), row_id=self.id, row_index=self.index, row_name=self.name)


def records_to_dataframe(
    rows: Iterable[TableRow | Record], *, columns: Sequence[str] | None = None
) -> pandas.DataFrame:
    """A pandas ``DataFrame`` of rows: one column per table column (in table order), indexed
    by row id (index name ``row_id``), with the row's position in a ``row_index`` attribute of
    the frame (``df.attrs["row_index"]``: row id -> index).  Needs the ``[pandas]`` extra."""
    _require_pandas()
    import pandas as pd

    ids: list[str] = []
    data: list[dict[str, object]] = []
    positions: dict[str, int | None] = {}
    order: list[str] = list(columns) if columns is not None else []
    for row in rows:
        if isinstance(row, TableRow):
            cells, row_id, index = row.to_dict(), row.id, row.index
            if columns is None and not order:
                order = row.columns.labels
        else:
            cells, row_id, index = dict(row), row.row_id, row.row_index
        for key in cells:
            if columns is None and key not in order:
                order.append(key)
        ids.append(row_id)
        positions[row_id] = index
        data.append(cells)
    frame: pandas.DataFrame = pd.DataFrame(data, columns=order, index=pd.Index(ids, name="row_id", dtype="object"))
    frame.attrs["row_index"] = positions
    return frame


def _require_pandas() -> None:
    try:
        import pandas  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(
            "the DataFrame export needs pandas: pip install 'codomyrmex-cloud[pandas]'",
            extra="pandas",
            provider="coda",
        ) from exc


class CodaRows(CodaOperations):
    """Row helpers built on the operations (mixed into :class:`~cloud.coda_io.CodaClient`)."""

    async def get_columns(
        self, doc_id: str, table_id_or_name: str, *, visible_only: bool | None = None, timeout: float | None = None
    ) -> TableColumns:
        """Every column of a table, for lookups by id or name (see :class:`TableColumns`)."""
        found = await self.list_columns(doc_id, table_id_or_name, visible_only=visible_only, timeout=timeout).collect()
        return TableColumns(found)

    def iter_rows(
        self,
        doc_id: str,
        table_id_or_name: str,
        *,
        where: Mapping[str, object] | None = None,
        query: str | None = None,
        sort_by: RowsSortBy | None = None,
        visible_only: bool | None = None,
        value_format: ValueFormat | None = None,
        columns: TableColumns | None = None,
        limit: int | None = None,
        timeout: float | None = None,
    ) -> AsyncPaginator[TableRow]:
        """The rows of a table as :class:`TableRow` objects (cells by column name or id), lazily.

        ``where={"Status": "Done"}`` keeps the rows whose column holds that value (Coda filters
        on one column; the name is looked up first, so an ambiguous name raises
        :class:`AmbiguousColumnError`); ``query`` is the raw ``column:value`` text instead.
        The columns are fetched once before the first page unless ``columns`` is given.
        ``limit`` is the page size.
        """
        _check_listing(where, query, limit)

        async def build_page(
            token: str | None, found: TableColumns, text: str | None
        ) -> tuple[list[TableRow], str | None]:
            from .models import Row

            listing = self._paginate(
                "listRows",
                (doc_id, table_id_or_name),
                query={
                    "query": text,
                    "sortBy": sort_by,
                    "useColumnNames": False,
                    "valueFormat": value_format,
                    "visibleOnly": visible_only,
                },
                limit=limit,
                page_token=token,
                build=Row.from_json,
                timeout=timeout,
            )
            page = await _first_page(listing)
            return [TableRow(row, found) for row in page.items], page.next_token

        return self._listing_with_columns(
            doc_id, table_id_or_name, where=where, query=query, columns=columns, timeout=timeout, page=build_page
        )

    def _listing_with_columns(
        self,
        doc_id: str,
        table_id_or_name: str,
        *,
        where: Mapping[str, object] | None,
        query: str | None,
        columns: TableColumns | None,
        timeout: float | None,
        page: Callable[[str | None, TableColumns, str | None], Awaitable[tuple[list[T], str | None]]],
        need_columns: bool = True,
    ) -> AsyncPaginator[T]:
        """A listing whose pages come from ``page(token, columns, query_text)``, the columns
        fetched (once) before the first page when needed, ``where`` turned into the query."""
        state: dict[str, object] = {}

        async def fetch(token: str | None) -> Page[T]:
            found = state.get("columns")
            if not isinstance(found, TableColumns):
                if columns is not None:
                    found = columns
                elif need_columns or where:
                    found = await self.get_columns(doc_id, table_id_or_name, timeout=timeout)
                else:
                    found = TableColumns(())
                state["columns"] = found
            text = query
            if where:
                ((column, value),) = where.items()
                text = found.query(column, value)
            items, next_token = await page(token, found, text)
            return Page(items, next_token)

        return AsyncPaginator(fetch)

    async def get_table_row(
        self,
        doc_id: str,
        table_id_or_name: str,
        row_id_or_name: str,
        *,
        value_format: ValueFormat | None = None,
        columns: TableColumns | None = None,
        timeout: float | None = None,
    ) -> TableRow:
        """One row as a :class:`TableRow` (the columns fetched first unless ``columns`` is given)."""
        found = columns if columns is not None else await self.get_columns(doc_id, table_id_or_name, timeout=timeout)
        row = await self.get_row(
            doc_id, table_id_or_name, row_id_or_name, use_column_names=False, value_format=value_format, timeout=timeout
        )
        return TableRow(row, found)

    async def table_to_dataframe(
        self,
        doc_id: str,
        table_id_or_name: str,
        *,
        where: Mapping[str, object] | None = None,
        query: str | None = None,
        sort_by: RowsSortBy | None = None,
        visible_only: bool | None = None,
        value_format: ValueFormat | None = "simple",
        columns: TableColumns | None = None,
        timeout: float | None = None,
    ) -> pandas.DataFrame:
        """The rows of a table as a pandas ``DataFrame`` (see :func:`records_to_dataframe`):
        one column per table column, indexed by row id.  Needs the ``[pandas]`` extra, checked
        before any request; ``where``/``query`` filter as in :meth:`iter_rows`."""
        _require_pandas()
        found = columns if columns is not None else await self.get_columns(doc_id, table_id_or_name, timeout=timeout)
        rows = await self.iter_rows(
            doc_id,
            table_id_or_name,
            where=where,
            query=query,
            sort_by=sort_by,
            visible_only=visible_only,
            value_format=value_format,
            columns=found,
            timeout=timeout,
        ).collect()
        return records_to_dataframe(rows, columns=found.labels)


def _check_listing(where: Mapping[str, object] | None, query: str | None, limit: int | None) -> None:
    """Argument mistakes of a rows listing, raised before any I/O."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigurationError("limit must be a positive integer", provider="coda")
    if where is None:
        return
    if query is not None:
        raise ConfigurationError("pass where= or query=, not both", provider="coda")
    if not isinstance(where, Mapping) or len(where) != 1:
        raise ConfigurationError(
            "where= takes one column and its value, e.g. {'Status': 'Done'} (Coda filters on one column)",
            provider="coda",
        )


async def _first_page(listing: AsyncPaginator[T]) -> Page[T]:
    pages = cast("AsyncGenerator[Page[T], None]", listing.pages())
    try:
        return await pages.__anext__()
    except StopAsyncIteration:
        return Page([], None)
    finally:
        await pages.aclose()
