"""Which of Coda's rate limits each operation counts against -- kept in this one place.

Coda documents five limits (reading, writing, writing doc content, listing docs, reading
analytics) but does not say which operation falls under which.  The rules below follow
``endpoints.tsv`` of the shared reference: ``GET /docs`` is "listing docs", everything
under ``/analytics`` is "reading analytics", page canvas writes are "writing doc content",
any other ``GET`` is "reading" and every other method (POST/PUT/PATCH and DELETE) is
"writing".  The page-canvas and DELETE assignments are inferences; change them here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # this module is also loaded on its own by tools/coda_codegen.py
    from .types import RateClass

__all__ = ["RATE_CLASS_OVERRIDES", "rate_class_for"]

RATE_CLASS_OVERRIDES: Mapping[str, RateClass] = MappingProxyType(
    {
        "listDocs": "list_docs",
        # Page canvas writes: creating, replacing, deleting pages and deleting page content.
        "createPage": "write_doc_content",
        "updatePage": "write_doc_content",
        "deletePage": "write_doc_content",
        "deletePageContent": "write_doc_content",
    }
)
"""Operations whose class does not follow from their method and path alone."""


def rate_class_for(operation_id: str, method: str, path: str) -> RateClass:
    """The rate-limit class of one operation."""
    override = RATE_CLASS_OVERRIDES.get(operation_id)
    if override is not None:
        return override
    if path == "/analytics" or path.startswith("/analytics/"):
        return "analytics"
    return "read" if method.upper() == "GET" else "write"
