"""The operation table (generated into :mod:`cloud.coda_io._generated.table`), where the client
and the tests have always imported it from."""

from __future__ import annotations

from ._generated.table import OPERATIONS, OPERATIONS_BY_ID

__all__ = ["OPERATIONS", "OPERATIONS_BY_ID"]
