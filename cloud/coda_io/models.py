"""Typed views of every object of Coda's API, built tolerantly.

One class per schema of the vendored OpenAPI document (generated into
``cloud/coda_io/_generated/models.py``), all re-exported here:

* models are immutable :class:`CodaModel` subclasses with snake_case attributes
  (``doc.browser_link``); date-times are aware ``datetime``\\ s, dates ``date``\\ s, nested objects
  are models too, and ``raw`` keeps the JSON object as Coda sent it (fields Coda adds later
  included).  :meth:`CodaModel.from_json` never fails: a value of an unexpected type becomes
  the field's default (``""``, ``False``, ``[]``, ``{}`` for required strings, booleans,
  lists and maps; ``None`` otherwise);
* enumerations are :class:`CodaEnum` subclasses (``str``-valued; a value Coda adds later
  becomes a pseudo-member instead of an error);
* unions (``oneOf``) are type aliases (:data:`ColumnFormat`, :data:`CellValue`, ...) resolved
  by their discriminator where the spec has one, otherwise by trying each member;
  ``parse_<name>(json)`` builds one.

The names used before every schema had a class stay: :class:`MutationResult` is the base of
every asynchronous write's answer (``DocumentMutateResponse``), :class:`CreatedDoc` the
answer of ``create_doc``, :class:`PageContentExport` the state of a page export.
"""

from __future__ import annotations

from ._generated import models as _generated
from ._generated.models import *  # noqa: F403
from ._generated.models import (
    BeginPageContentExportResponse,
    DocumentCreationResult,
    DocumentMutateResponse,
    PageContentExportStatusResponse,
)
from ._modelbase import CodaEnum, CodaModel, parse_date, parse_datetime

__all__ = [
    "CodaEnum",
    "CodaModel",
    "CreatedDoc",
    "MutationResult",
    "PageContentExport",
    "PageContentExportStarted",
    "parse_date",
    "parse_datetime",
]
__all__ += _generated.__all__

MutationResult = DocumentMutateResponse
"""The answer to a write Coda applies asynchronously (HTTP 202 + ``requestId``): pass
``request_id`` to :meth:`~cloud.coda_io.CodaClient.wait_for_mutation`.  Every specific
answer (``RowsUpsertResult``, ``PageCreateResult``, ``PushButtonResult``...) subclasses it."""

CreatedDoc = DocumentCreationResult
"""A doc just created by ``create_doc`` (a :class:`Doc` with ``request_id``)."""

PageContentExport = PageContentExportStatusResponse
"""State of a page export: ``status`` is ``inProgress``, ``complete`` or ``failed``;
``download_link`` is set once complete."""

PageContentExportStarted = BeginPageContentExportResponse
"""The schema of ``begin_page_content_export``'s answer (the client returns the fuller
:class:`PageContentExport`)."""
