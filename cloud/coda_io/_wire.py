"""Turning Python arguments into Coda's wire format (query strings and JSON bodies)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime

from cloud.common.exceptions import ConfigurationError

__all__ = ["encode_body", "encode_query", "to_json_value"]


def _query_scalar(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigurationError(f"query parameter {name!r} must be a finite number")
        return repr(value)
    if isinstance(value, str):
        return value
    raise ConfigurationError(f"query parameter {name!r} has an unsupported type {type(value).__name__}")


def encode_query(query: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    """Query parameters as Coda expects them: booleans ``true``/``false``, dates in ISO 8601,
    lists comma-separated; ``None`` values left out."""
    out: list[tuple[str, str]] = []
    for name, value in query.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            items = sorted(value) if isinstance(value, (set, frozenset)) else value
            out.append((name, ",".join(_query_scalar(name, item) for item in items)))
        else:
            out.append((name, _query_scalar(name, value)))
    return tuple(out)


def to_json_value(value: object, where: str = "body") -> object:
    """A deep copy of ``value`` made only of JSON types (mappings, sequences, dates become
    objects, lists and ISO 8601 strings).  Raises ``ConfigurationError`` for anything else."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigurationError(f"{where}: {value!r} is not valid JSON")
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        out: dict[str, object] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConfigurationError(f"{where}: object keys must be strings, got {type(key).__name__}")
            out[key] = to_json_value(item, f"{where}.{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [to_json_value(item, f"{where}[{i}]") for i, item in enumerate(value)]
    raise ConfigurationError(f"{where}: {type(value).__name__} cannot be sent as JSON")


def encode_body(body: Mapping[str, object]) -> bytes:
    """The JSON request body (UTF-8, compact)."""
    return json.dumps(to_json_value(body), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
