"""Type aliases used in the Coda client's public signatures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeAlias

__all__ = ["JSONMapping", "JSONObject", "OutputFormat", "RateClass"]

JSONObject: TypeAlias = dict[str, object]
"""A JSON object as Coda returned it (values still need narrowing before use)."""

JSONMapping: TypeAlias = Mapping[str, object]
"""A JSON object you pass in: any mapping of strings to JSON-serialisable values.  It is
copied before it is sent, never mutated."""

RateClass: TypeAlias = Literal["read", "write", "write_doc_content", "list_docs", "analytics"]
"""The rate-limit class of an operation (see :mod:`cloud.coda_io.rate_classes`)."""

OutputFormat: TypeAlias = Literal["markdown", "html"]
"""The file format of a page export."""
