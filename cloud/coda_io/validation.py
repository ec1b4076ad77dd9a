"""Arguments checked against Coda's spec before any request is sent.

Coda answers a malformed request with a 400 at best, and at worst reads it differently
than meant (``doc_ids=["a,b"]`` is two ids on the wire).  :func:`check_arguments` raises
:class:`~cloud.common.exceptions.ConfigurationError` first, for:

- values outside an enum, below ``minimum`` / above ``maximum``, strings or arrays of the
  wrong length (the facts of :data:`cloud.coda_io._generated.rules.RULES`, generated from
  the spec by ``tools/coda_codegen.py`` and loaded on the first check);
- ``date`` parameters given anything but a :class:`~datetime.date` or ``YYYY-MM-DD``
  (a :class:`~datetime.datetime` is refused: which day it is depends on a time zone);
- ``date-time`` parameters given anything but an aware datetime or an RFC 3339 string;
- naive datetimes anywhere, body included: Coda would have to guess their zone;
- an item of a comma-joined query array that contains a comma.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from cloud.common.exceptions import ConfigurationError

from .naming import snake_case
from .spec import OperationSpec

__all__ = ["ParamRule", "check_arguments"]


@dataclass(frozen=True)
class ParamRule:
    """The checkable constraints of one parameter or body field (``None``: unconstrained)."""

    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    min_items: int | None = None
    max_items: int | None = None
    format: str | None = None
    """``"date"`` or ``"date-time"``."""
    items: ParamRule | None = None
    """The rule of each item of an array."""


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_NO_RULE = ParamRule()
_NO_RULES: Mapping[str, ParamRule] = {}


@functools.cache
def _rules() -> Mapping[str, Mapping[str, ParamRule]]:
    """The generated rules table, imported on the first check rather than with the client."""
    from ._generated.rules import RULES

    return RULES


def check_arguments(
    spec: OperationSpec,
    path_args: Sequence[object] = (),
    query: Mapping[str, object] | None = None,
    body: Mapping[str, object] | None = None,
) -> None:
    """Raise :class:`ConfigurationError` if an argument of ``spec`` breaks the spec's rules."""
    rules = _rules().get(spec.operation_id, _NO_RULES)
    for wire, value in zip(spec.path_params, path_args, strict=True):
        _check(spec, snake_case(wire), value, rules.get(wire, _NO_RULE))
    for wire, value in (query or {}).items():
        if value is None:
            continue
        name = snake_case(wire)
        _check(spec, name, value, rules.get(wire, _NO_RULE))
        if isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                if isinstance(item, str) and "," in item:
                    raise ConfigurationError(
                        f"{spec.name}: {name} items are sent comma-separated, so no item may contain a comma"
                        f" (got {item!r})"
                    )
    for wire, value in (body or {}).items():
        if value is not None:
            _check(spec, snake_case(wire), value, rules.get(wire, _NO_RULE))


def _check(spec: OperationSpec, name: str, value: object, rule: ParamRule) -> None:
    where = f"{spec.name}: {name}"
    if rule.format is not None:
        _check_format(where, value, rule.format)
    _check_no_naive_datetime(where, value)
    if rule.enum is not None and not (isinstance(value, str) and value in rule.enum):
        allowed = ", ".join(repr(v) for v in rule.enum)
        raise ConfigurationError(f"{where} must be one of {allowed}; got {value!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if rule.minimum is not None and value < rule.minimum:
            raise ConfigurationError(f"{where} must be at least {rule.minimum:g}; got {value!r}")
        if rule.maximum is not None and value > rule.maximum:
            raise ConfigurationError(f"{where} must be at most {rule.maximum:g}; got {value!r}")
    if isinstance(value, str):
        if rule.min_length is not None and len(value) < rule.min_length:
            raise ConfigurationError(f"{where} must be at least {rule.min_length} characters long")
        if rule.max_length is not None and len(value) > rule.max_length:
            raise ConfigurationError(f"{where} must be at most {rule.max_length} characters long; got {len(value)}")
    if isinstance(value, (list, tuple, set, frozenset)):
        if rule.min_items is not None and len(value) < rule.min_items:
            raise ConfigurationError(f"{where} needs at least {rule.min_items} item(s); got {len(value)}")
        if rule.max_items is not None and len(value) > rule.max_items:
            raise ConfigurationError(f"{where} takes at most {rule.max_items} item(s); got {len(value)}")
        if rule.items is not None:
            for item in value:
                _check(spec, f"{name} item", item, rule.items)


def _check_format(where: str, value: object, fmt: str) -> None:
    if fmt == "date":
        if isinstance(value, datetime):
            raise ConfigurationError(
                f"{where} is a date: pass a datetime.date (e.g. moment.date() in the zone you mean), not a datetime"
            )
        if isinstance(value, date):
            return
        if isinstance(value, str) and _DATE.fullmatch(value) and _parses(date.fromisoformat, value):
            return
        raise ConfigurationError(f"{where} must be a datetime.date or a 'YYYY-MM-DD' string; got {value!r}")
    if fmt == "date-time":
        if isinstance(value, datetime):
            return  # naive ones are refused by _check_no_naive_datetime
        if isinstance(value, str):
            match = _DATE_TIME.fullmatch(value)
            if match and _parses(lambda text: datetime.strptime(text.upper(), "%Y-%m-%dT%H:%M:%S"), match[1]):
                return
        raise ConfigurationError(
            f"{where} must be an aware datetime or an RFC 3339 string with a zone"
            f" ('2024-05-06T07:08:09Z'); got {value!r}"
        )


def _check_no_naive_datetime(where: str, value: object) -> None:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ConfigurationError(
                f"{where} is a naive datetime ({value.isoformat()}): pass an aware datetime,"
                " e.g. datetime.now(timezone.utc) or moment.replace(tzinfo=...)"
            )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_no_naive_datetime(f"{where}.{key}", item)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_no_naive_datetime(f"{where}[{index}]", item)


def _parses(parse: Callable[[str], object], text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True
