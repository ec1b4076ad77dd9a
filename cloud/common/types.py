"""Type aliases used in public signatures."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeAlias, Union

from .models import TransferResult

__all__ = ["ProgressCallback", "ResultCallback", "StrPath"]

StrPath: TypeAlias = Union[str, "os.PathLike[str]"]
"""A local filesystem path."""

ProgressCallback: TypeAlias = Callable[[int], None]
"""Called with the number of bytes just moved (an increment, not a total)."""

ResultCallback: TypeAlias = Callable[[TransferResult], None]
"""Called once per item of a bulk transfer, as soon as that item is finished."""
