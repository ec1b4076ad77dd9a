"""The runtime of the generated Coda models (hand-written; ``_generated/models.py`` uses it).

Each generated model lists its fields once, as data (``_fields_``: attribute, wire name,
type spec, default); the converters are compiled from those specs the first time a class
parses JSON, so importing several hundred models costs little.  Type specs:

* ``"str"``, ``"int"``, ``"float"``, ``"bool"``, ``"datetime"``, ``"date"``: the JSON scalar,
  narrowed (``float`` keeps ints and floats as they came; ``datetime`` is always aware, UTC
  when Coda sends no offset);
* ``"object"``: a free-form JSON object (a ``dict``); ``"any"``: any JSON value as is;
* ``("enum", Name)``, ``("model", Name)``: a generated :class:`CodaEnum` or :class:`CodaModel`;
* ``("list", spec)``, ``("map", spec)``: a JSON array, a JSON object of ``spec`` values;
* ``("union", discriminator, ((value, Model), ...), (spec, ...))``: one of several types,
  chosen by the discriminator property where the spec has one, otherwise by trying members.

Parsing is tolerant: a value of an unexpected type becomes the field's default, unknown
fields are ignored (they stay in ``raw``), and unknown enum values become pseudo-members.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import FrozenInstanceError
from datetime import date, datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from .types import JSONObject

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_options: object) -> Callable[[object], object]:
        """Typing-only marker (``typing_extensions.dataclass_transform``) at type-check time."""
        return lambda obj: obj


__all__ = [
    "CodaEnum",
    "CodaModel",
    "FieldTable",
    "LazyConverter",
    "RowCells",
    "compile_spec",
    "parse_date",
    "parse_datetime",
]

M = TypeVar("M", bound="CodaModel")
FieldTable = tuple[tuple[str, str, object, object], ...]
"""A model's fields: (attribute, wire name, type spec, default)."""
Converter = Callable[[object], object]

_LIST = "[]"
_DICT = "{}"


class CodaEnum(str, Enum):
    """Base of the generated enumerations: a ``str`` (compares equal to its value) that
    accepts values Coda adds later: ``Type("newKind")`` is a pseudo-member whose
    ``known`` is ``False`` instead of an error."""

    @classmethod
    def _missing_(cls, value: object) -> CodaEnum | None:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member

    @property
    def known(self) -> bool:
        """Whether the value is one the vendored spec lists."""
        return self._name_ in type(self).__members__

    def __str__(self) -> str:
        return str(self._value_)

    def __format__(self, format_spec: str) -> str:
        return format(str(self._value_), format_spec)


@dataclass_transform(kw_only_default=True, frozen_default=True)
class CodaModel:
    """Base of the models: immutable, snake_case attributes, built by :meth:`from_json`.

    ``raw`` is the JSON object the model was built from (unknown fields included).  Models
    compare equal when their type and fields are equal (``raw`` is not compared).
    """

    _fields_: ClassVar[FieldTable] = ()
    _required_: ClassVar[tuple[str, ...]] = ()
    _consts_: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(self, **values: object) -> None:
        state = self.__dict__
        for attr, _wire, _spec, default in type(self)._fields_:
            state[attr] = values.pop(attr) if attr in values else _default(default)
        raw = values.pop("raw", None)
        if values:
            raise TypeError(f"{type(self).__name__} has no field(s) {sorted(values)}")
        state["_raw"] = raw if isinstance(raw, dict) else {}

    @property
    def raw(self) -> JSONObject:
        """The JSON object as Coda sent it."""
        raw: JSONObject = self.__dict__["_raw"]
        return raw

    @classmethod
    def from_json(cls: type[M], data: object) -> M:
        """Build the model from a JSON object (anything else gives an all-default model)."""
        source: JSONObject = data if isinstance(data, dict) else {}
        plan = cls.__dict__.get("_plan_")
        if plan is None:
            plan = _compile_plan(cls)
        obj = cls.__new__(cls)
        state = obj.__dict__
        for attr, wire, conv, default in plan:
            if wire in source:
                value = conv(source[wire])
                if value is not None:
                    state[attr] = value
                    continue
            state[attr] = _default(default)
        state["_raw"] = source
        return obj

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def _values(self) -> tuple[object, ...]:
        state = self.__dict__
        return tuple(state.get(attr) for attr, _w, _s, _d in type(self)._fields_)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, CodaModel)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        state = self.__dict__
        parts = ", ".join(f"{attr}={state.get(attr)!r}" for attr, _w, _s, _d in type(self)._fields_)
        return f"{type(self).__name__}({parts})"


class RowCells:
    """Cell access on rows (mixed into ``Row`` and ``RowDetail``): ``row["c-tuVwxYz"]`` is
    ``row.values["c-tuVwxYz"]``, keyed as ``values`` is (column ids, or names when listed with
    ``use_column_names=True``).  For cells by name *or* id whatever the listing, see
    :meth:`~cloud.coda_io.CodaClient.iter_rows`."""

    __slots__ = ()

    values: Mapping[str, object]

    def __getitem__(self, key: str) -> object:
        return self.values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __contains__(self, key: object) -> bool:
        return key in self.values

    def get(self, key: str, default: object = None) -> object:
        """The cell under ``key``, ``default`` when the row has none."""
        return self.values.get(key, default)


def _default(marker: object) -> object:
    if marker == _LIST:
        return []
    if marker == _DICT:
        return {}
    return marker


# -- scalar converters ----------------------------------------------------------------------------


def _as_str(value: object) -> object:
    return value if isinstance(value, str) else None


def _as_int(value: object) -> object:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _as_float(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _as_bool(value: object) -> object:
    return value if isinstance(value, bool) else None


def _as_object(value: object) -> object:
    return value if isinstance(value, dict) else None


def _as_is(value: object) -> object:
    return value


_FRACTION = re.compile(r"(\.\d+)")


def parse_datetime(value: object) -> datetime | None:
    """An aware ``datetime`` from Coda's ISO 8601 text (``Z``, offsets, any fraction length);
    ``None`` when it is not one.  A value without an offset is taken as UTC."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    match = _FRACTION.search(text)
    if match is not None:
        digits = match.group(1)[1:]
        text = text[: match.start()] + "." + (digits + "000000")[:6] + text[match.end() :]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def parse_date(value: object) -> date | None:
    """A ``date`` from ``YYYY-MM-DD`` text; ``None`` when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


_SCALARS: dict[str, Converter] = {
    "str": _as_str,
    "int": _as_int,
    "float": _as_float,
    "bool": _as_bool,
    "datetime": parse_datetime,
    "date": parse_date,
    "object": _as_object,
    "any": _as_is,
}


# -- compiling type specs -------------------------------------------------------------------------


def _namespace(cls: type) -> Mapping[str, Any]:
    return vars(sys.modules[cls.__module__])


def _compile_plan(cls: type[CodaModel]) -> tuple[tuple[str, str, Converter, object], ...]:
    names = _namespace(cls)
    plan = tuple((attr, wire, compile_spec(spec, names), default) for attr, wire, spec, default in cls._fields_)
    type.__setattr__(cls, "_plan_", plan)
    return plan


def compile_spec(spec: object, names: Mapping[str, Any]) -> Converter:
    """The converter of one type spec; ``names`` resolves model and enum names."""
    if isinstance(spec, str):
        return _SCALARS[spec]
    if not isinstance(spec, tuple) or not spec:
        raise ValueError(f"bad type spec {spec!r}")
    kind = spec[0]
    if kind == "enum":
        return _enum_converter(names[spec[1]])
    if kind == "model":
        return _model_converter(names[spec[1]])
    if kind == "list":
        return _list_converter(compile_spec(spec[1], names))
    if kind == "map":
        return _map_converter(compile_spec(spec[1], names))
    if kind == "union":
        return _union_converter(spec, names)
    raise ValueError(f"bad type spec {spec!r}")


def _enum_converter(enum: type[CodaEnum]) -> Converter:
    def convert_enum(value: object) -> object:
        return enum(value) if isinstance(value, str) else None

    return convert_enum


def _model_converter(model: type[CodaModel]) -> Converter:
    def convert_model(value: object) -> object:
        return model.from_json(value) if isinstance(value, dict) else None

    return convert_model


def _list_converter(item: Converter) -> Converter:
    def convert_list(value: object) -> object:
        if not isinstance(value, list):
            return None
        out = []
        for element in value:
            converted = item(element)
            if converted is not None:
                out.append(converted)
        return out

    return convert_list


def _map_converter(item: Converter) -> Converter:
    def convert_map(value: object) -> object:
        if not isinstance(value, dict):
            return None
        return {key: item(element) for key, element in value.items() if isinstance(key, str)}

    return convert_map


_PRIMITIVE_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "datetime": (str,),
    "date": (str,),
}


def _union_converter(spec: tuple[Any, ...], names: Mapping[str, Any]) -> Converter:
    _, discriminator, mapping, members = spec
    by_value: dict[str, type[CodaModel]] = {value: names[model] for value, model in mapping}
    models: list[type[CodaModel]] = []
    arrays: list[Converter] = []
    maps: list[Converter] = []
    scalars: list[tuple[tuple[type, ...], Converter, bool]] = []
    free = False
    for member in members:
        if isinstance(member, tuple) and member[0] == "model":
            models.append(names[member[1]])
        elif isinstance(member, tuple) and member[0] == "list":
            arrays.append(compile_spec(member, names))
        elif isinstance(member, tuple) and member[0] == "map":
            maps.append(compile_spec(member, names))
        elif isinstance(member, tuple) and member[0] == "enum":
            scalars.append(((str,), compile_spec(member, names), False))
        elif member in ("object", "any"):
            free = True
        elif isinstance(member, str):
            scalars.append((_PRIMITIVE_TYPES[member], _SCALARS[member], member != "bool"))

    def pick(value: JSONObject) -> type[CodaModel] | None:
        if discriminator is not None:
            tag = value.get(discriminator)
            if isinstance(tag, str) and tag in by_value:
                return by_value[tag]
        best: type[CodaModel] | None = None
        best_score: tuple[int, int, int] = (-1, -1, -1)
        for model in models:
            consts_ok = all(value.get(wire, const) == const for wire, const in model._consts_)
            required_ok = all(wire in value for wire in model._required_)
            known = sum(1 for _a, wire, _s, _d in model._fields_ if wire in value)
            score = (int(consts_ok), int(required_ok), known)
            if score > best_score:
                best, best_score = model, score
        return best

    def convert_union(value: object) -> object:
        if isinstance(value, dict):
            model = pick(value) if models else None
            if model is not None:
                return model.from_json(value)
            if maps:
                return maps[0](value)
            return value if free else None
        if isinstance(value, list):
            if arrays:
                return arrays[0](value)
            return value if free else None
        for types, conv, not_bool in scalars:
            if isinstance(value, types) and not (not_bool and isinstance(value, bool)):
                converted = conv(value)
                if converted is not None:
                    return converted
        return value if free and value is not None else None

    return convert_union


class LazyConverter:
    """A converter compiled on its first call (the generated ``parse_*`` functions use it)."""

    __slots__ = ("_convert", "_module", "_spec")

    def __init__(self, spec: object, module: str) -> None:
        self._spec = spec
        self._module = module
        self._convert: Converter | None = None

    def __call__(self, data: object) -> object:
        if self._convert is None:
            self._convert = compile_spec(self._spec, vars(sys.modules[self._module]))
        return self._convert(data)
