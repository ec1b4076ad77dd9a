"""The enumerations of Coda's API used in parameters, as ``Literal`` aliases (generated into
:mod:`cloud.coda_io._generated.enums` from the vendored spec).

The enumerations in *answers* are :class:`~cloud.coda_io.models.CodaEnum` classes in
:mod:`cloud.coda_io.models` (same names, values that Coda adds later accepted).
"""

from __future__ import annotations

from ._generated import enums as _generated
from ._generated.enums import *  # noqa: F403

__all__: list[str] = []
__all__ += _generated.__all__
