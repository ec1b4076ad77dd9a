"""JSON decoding of large answers (listing pages) with orjson when it is installed.

orjson decodes a listing page several times faster than the standard library; without it
(it is an optional dependency of the ``gcp`` extra) :func:`loads` is ``json.loads``.  Both
raise ``json.JSONDecodeError`` (orjson's error subclasses it) for malformed input.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["loads"]


def _pick() -> Callable[[bytes], Any]:
    try:
        import orjson
    except ImportError:  # pragma: no cover - the dev environment installs orjson
        return json.loads
    return orjson.loads


loads: Callable[[bytes], Any] = _pick()
"""Decode a UTF-8 JSON document; ``json.JSONDecodeError`` when it is malformed."""
