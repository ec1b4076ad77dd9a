"""The small layer above the operations: mutations awaited, pages exported to files, rows
as dicts keyed by column name, and upserts batched for the write limit."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from cloud.common.deadline import own_deadline
from cloud.common.exceptions import APIError, ConfigurationError, RequestTimeoutError, ServerError
from cloud.common.pagination import AsyncPaginator
from cloud.common.types import StrPath

from ._wire import to_json_value
from .direct import CodaDirect
from .enums import RowsSortBy, ValueFormat
from .rows import CodaRows, Record, TableColumns, _check_listing, _first_page
from .types import JSONMapping, JSONObject, OutputFormat

if TYPE_CHECKING:  # the models load on first use, not with the client
    from .models import MutationStatus, PageContentExport, RowsUpsertResult

__all__ = ["DEFAULT_MAX_BATCH_BYTES", "DEFAULT_UPSERT_BATCH_SIZE", "CodaConvenience"]

DEFAULT_UPSERT_BATCH_SIZE = 500
"""Rows per ``upsert_rows`` request sent by :meth:`CodaConvenience.upsert_records`."""

DEFAULT_MAX_BATCH_BYTES = 1_000_000
"""Upper bound of one upsert request's JSON body, well below Coda's request size limit."""

_EXPORT_DONE = ("complete", "failed")


def _check_poll(poll_interval: float, max_poll_interval: float) -> None:
    if not poll_interval > 0 or max_poll_interval < poll_interval:
        raise ConfigurationError("poll_interval must be positive and at most max_poll_interval", provider="coda")


class CodaConvenience(CodaRows, CodaDirect):
    """Helpers built only from the operations (mixed into :class:`~cloud.coda_io.CodaClient`);
    the row helpers of :mod:`cloud.coda_io.rows` and :meth:`request` come with them."""

    async def _download(self, url: str, path: Path, *, timeout: float | None) -> int:
        """Fetch ``url`` without the API token into ``path`` atomically; bytes written."""
        raise NotImplementedError

    # -- asynchronous mutations ----------------------------------------------------------------

    @own_deadline
    async def wait_for_mutation(
        self,
        request_id: str,
        *,
        timeout: float | None = 60.0,
        poll_interval: float = 0.5,
        max_poll_interval: float = 5.0,
    ) -> MutationStatus:
        """Poll ``get_mutation_status`` until Coda reports the write as applied.

        The wait between polls starts at ``poll_interval`` and grows by half each time up to
        ``max_poll_interval``.  Raises ``RequestTimeoutError`` when the mutation is still
        pending after ``timeout`` seconds (``None``: wait as long as it takes).
        """
        if not isinstance(request_id, str) or not request_id:
            raise ConfigurationError("wait_for_mutation: request_id must be a non-empty string", provider="coda")
        _check_poll(poll_interval, max_poll_interval)
        try:
            with anyio.fail_after(timeout):
                delay = poll_interval
                while True:
                    status = await self.get_mutation_status(request_id)
                    if status.completed:
                        return status
                    await anyio.sleep(delay)
                    delay = min(delay * 1.5, max_poll_interval)
        except TimeoutError as exc:
            if isinstance(exc, RequestTimeoutError):
                raise
            raise RequestTimeoutError(
                f"mutation {request_id!r} was not applied within {timeout:g}s",
                provider="coda",
                operation="wait_for_mutation",
            ) from None

    # -- page export -----------------------------------------------------------------------------

    @own_deadline
    async def export_page(
        self,
        doc_id: str,
        page: str,
        *,
        output_format: OutputFormat = "markdown",
        path: StrPath,
        timeout: float | None = 300.0,
        poll_interval: float = 0.5,
        max_poll_interval: float = 5.0,
    ) -> Path:
        """Export a page as Markdown or HTML into the file ``path`` and return its path.

        Starts the export, polls its status until it is complete (or failed), then
        downloads the result *without* the API token (the link points to file storage) into
        a temp file beside ``path``, renamed into place only when complete.  Raises
        ``APIError`` when Coda reports the export as failed and ``RequestTimeoutError`` after
        ``timeout`` seconds.
        """
        if output_format not in ("markdown", "html"):
            raise ConfigurationError("output_format must be 'markdown' or 'html'", provider="coda")
        _check_poll(poll_interval, max_poll_interval)
        destination = Path(os.fspath(path))
        parent = destination.parent if str(destination.parent) else Path(".")
        if not parent.is_dir():
            raise ConfigurationError(f"destination folder does not exist: {str(parent)!r}", provider="coda")
        if destination.is_dir():
            raise ConfigurationError(f"destination is a folder: {str(destination)!r}", provider="coda")
        try:
            with anyio.fail_after(timeout):
                status: PageContentExport = await self.begin_page_content_export(
                    doc_id, page, output_format=output_format
                )
                export_id = status.id
                if not export_id:
                    raise ServerError("Coda started an export without an id", provider="coda", operation="export_page")
                delay = poll_interval
                while status.status not in _EXPORT_DONE:
                    await anyio.sleep(delay)
                    delay = min(delay * 1.5, max_poll_interval)
                    status = await self.get_page_content_export_status(doc_id, page, export_id)
                if status.status == "failed":
                    raise APIError(
                        f"Coda could not export the page: {status.error or 'no reason given'}",
                        code="exportFailed",
                        provider="coda",
                        operation="export_page",
                    )
                if not status.download_link:
                    raise ServerError(
                        "Coda reported the export complete without a download link",
                        provider="coda",
                        operation="export_page",
                    )
                await self._download(status.download_link, destination, timeout=None)
        except TimeoutError as exc:
            if isinstance(exc, RequestTimeoutError):
                raise
            raise RequestTimeoutError(
                f"the page export did not finish within {timeout:g}s", provider="coda", operation="export_page"
            ) from None
        return destination

    # -- rows as dicts ------------------------------------------------------------------------------

    def iter_records(
        self,
        doc_id: str,
        table_id_or_name: str,
        *,
        query: str | None = None,
        where: Mapping[str, object] | None = None,
        sort_by: RowsSortBy | None = None,
        visible_only: bool | None = None,
        value_format: ValueFormat | None = None,
        limit: int | None = None,
        timeout: float | None = None,
    ) -> AsyncPaginator[Record]:
        """The rows of a table as dicts keyed by column name (lazily, page by page).

        Each is a :class:`~cloud.coda_io.rows.Record`: a plain ``dict`` of cells that also
        keeps ``row_id`` and ``row_index``.  Cell values come in ``value_format``
        (``simple``, ``simpleWithArrays`` or ``rich``), passed through as Coda sends them;
        ``limit`` is the page size.  ``where={"Status": "Done"}`` keeps the rows whose column
        holds that value (the column is looked up by name first, one extra request, so an
        ambiguous name raises :class:`~cloud.coda_io.rows.AmbiguousColumnError`); ``query``
        is the raw ``column:value`` text instead (see :func:`~cloud.coda_io.rows.row_query`).
        """
        _check_listing(where, query, limit)

        async def page(token: str | None, _columns: TableColumns, text: str | None) -> tuple[list[Record], str | None]:
            listing = self._paginate(
                "listRows",
                (doc_id, table_id_or_name),
                query={
                    "query": text,
                    "sortBy": sort_by,
                    "useColumnNames": True,
                    "valueFormat": value_format,
                    "visibleOnly": visible_only,
                },
                limit=limit,
                page_token=token,
                build=Record.from_row_json,
                timeout=timeout,
            )
            first = await _first_page(listing)
            return list(first.items), first.next_token

        return self._listing_with_columns(
            doc_id,
            table_id_or_name,
            where=where,
            query=query,
            columns=None,
            timeout=timeout,
            page=page,
            need_columns=False,
        )

    async def upsert_records(
        self,
        doc_id: str,
        table_id_or_name: str,
        records: Iterable[JSONMapping],
        *,
        key_columns: Sequence[str] = (),
        disable_parsing: bool | None = None,
        batch_size: int = DEFAULT_UPSERT_BATCH_SIZE,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        wait: bool = False,
        wait_timeout: float | None = 60.0,
        poll_interval: float = 0.5,
        columns: TableColumns | None = None,
        resolve_columns: bool = False,
        timeout: float | None = None,
    ) -> list[RowsUpsertResult]:
        """Insert or update rows given as dicts keyed by column name (or id).

        Rows whose ``key_columns`` values match an existing row update it; the others are
        inserted.  The records are checked first (every one must hold every key column), then
        sent in order in as few ``upsert_rows`` requests as ``batch_size`` rows and
        ``max_batch_bytes`` of JSON allow, which keeps large loads well within the write
        limit.  With ``wait=True`` it returns only once Coda has applied every batch (polling every
        ``poll_interval`` seconds or more, for at most ``wait_timeout`` per batch).  Returns
        one :class:`~cloud.coda_io.models.RowsUpsertResult` per request (``added_row_ids``);
        ``records`` are never modified.

        Coda matches column names itself.  With ``resolve_columns=True`` (one extra request) or
        ``columns`` (from :meth:`get_columns`), every key and key column is looked up first and
        sent as a column id: an unknown name raises
        :class:`~cloud.coda_io.rows.UnknownColumnError` and a name two columns share
        :class:`~cloud.coda_io.rows.AmbiguousColumnError`, before anything is written.
        """
        if isinstance(key_columns, str):
            raise ConfigurationError("key_columns must be a sequence of column names, not a string", provider="coda")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigurationError("batch_size must be a positive integer", provider="coda")
        if max_batch_bytes < 1:
            raise ConfigurationError("max_batch_bytes must be positive", provider="coda")
        if wait:
            _check_poll(poll_interval, max(poll_interval, 5.0))
        if columns is None and resolve_columns:
            columns = await self.get_columns(doc_id, table_id_or_name, timeout=timeout)
        keys = list(key_columns)
        if columns is not None:
            keys = [columns.id_of(key) for key in keys]
        batches: list[list[JSONObject]] = []
        current: list[JSONObject] = []
        current_bytes = 0
        for number, record in enumerate(records):
            if not hasattr(record, "items"):
                raise ConfigurationError(f"record {number} is not a mapping", provider="coda")
            cells: list[object] = []
            sent: set[str] = set()
            for column, value in record.items():
                if not isinstance(column, str):
                    raise ConfigurationError(f"record {number}: column names must be strings", provider="coda")
                wire = columns.id_of(column) if columns is not None else column
                if wire in sent:
                    raise ConfigurationError(f"record {number}: two keys name column {wire!r}", provider="coda")
                sent.add(wire)
                cells.append({"column": wire, "value": to_json_value(value, f"record {number}.{column}")})
            missing = [key for key in keys if key not in sent]
            if missing:
                raise ConfigurationError(f"record {number} lacks key column(s) {missing}", provider="coda")
            row: JSONObject = {"cells": cells}
            size = len(json.dumps(row, separators=(",", ":"), ensure_ascii=False).encode("utf-8")) + 1
            if current and (len(current) >= batch_size or current_bytes + size > max_batch_bytes):
                batches.append(current)
                current, current_bytes = [], 0
            current.append(row)
            current_bytes += size
        if current:
            batches.append(current)
        results: list[RowsUpsertResult] = []
        for batch in batches:
            results.append(
                await self.upsert_rows(
                    doc_id,
                    table_id_or_name,
                    rows=batch,
                    key_columns=keys or None,
                    disable_parsing=disable_parsing,
                    timeout=timeout,
                )
            )
        if wait:
            for result in results:
                await self.wait_for_mutation(
                    result.request_id,
                    timeout=wait_timeout,
                    poll_interval=poll_interval,
                    max_poll_interval=max(poll_interval, 5.0),
                )
        return results
