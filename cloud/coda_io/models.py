"""Typed views of the Coda resources users touch most, built tolerantly.

Every model is a frozen dataclass with snake_case attributes (``doc.browser_link``).
:meth:`CodaModel.from_json` ignores fields it does not know (Coda adds fields), fills
missing ones with a neutral default, never fails on a value of an unexpected type (it
becomes the default), and keeps the whole JSON object as ``raw`` for anything not modelled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TypeVar

from .naming import camel_case
from .types import JSONObject

__all__ = [
    "CodaModel",
    "Column",
    "Control",
    "CreatedDoc",
    "Doc",
    "Folder",
    "Formula",
    "MutationResult",
    "MutationStatus",
    "Pack",
    "Page",
    "PageContentExport",
    "Permission",
    "Row",
    "Table",
    "User",
]

M = TypeVar("M", bound="CodaModel")


# -- tolerant converters: the value, or None when it has an unexpected type ------------------


def _as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _as_bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _as_datetime(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _as_object(value: object) -> JSONObject | None:
    return value if isinstance(value, dict) else None


def _as_objects(value: object) -> list[JSONObject] | None:
    if not isinstance(value, list):
        return None
    return [item for item in value if isinstance(item, dict)]


def _as_strs(value: object) -> list[str] | None:
    if not isinstance(value, list):
        return None
    return [item for item in value if isinstance(item, str)]


def _as_is(value: object) -> object:
    return value


# Each field's converter follows from its annotation (kept as a string by
# ``from __future__ import annotations``); a test checks every field has one.
_CONVERTERS: dict[str, Callable[[object], object]] = {
    "str": _as_str,
    "str | None": _as_str,
    "int | None": _as_int,
    "bool": _as_bool,
    "bool | None": _as_bool,
    "datetime | None": _as_datetime,
    "JSONObject": _as_object,
    "JSONObject | None": _as_object,
    "list[JSONObject]": _as_objects,
    "list[str]": _as_strs,
    "object": _as_is,
}

_PLANS: dict[type, list[tuple[str, str, Callable[[object], object]]]] = {}


def _plan(cls: type[CodaModel]) -> list[tuple[str, str, Callable[[object], object]]]:
    """(attribute, wire name, converter) of every field but ``raw``, computed once per class."""
    plan = _PLANS.get(cls)
    if plan is None:
        plan = [(f.name, camel_case(f.name), _CONVERTERS[str(f.type)]) for f in fields(cls) if f.name != "raw"]
        _PLANS[cls] = plan
    return plan


@dataclass(frozen=True)
class CodaModel:
    """Base of the models: ``raw`` is the JSON object the model was built from."""

    raw: JSONObject = field(repr=False, compare=False)

    @classmethod
    def from_json(cls: type[M], data: object) -> M:
        """Build the model from a JSON object (anything else gives an all-default model)."""
        source: JSONObject = data if isinstance(data, dict) else {}
        values: dict[str, object] = {}
        for name, wire, convert in _plan(cls):
            if wire in source:
                converted = convert(source[wire])
                if converted is not None:
                    values[name] = converted
        return cls(raw=source, **values)


@dataclass(frozen=True)
class Doc(CodaModel):
    """A Coda doc (``get_doc``, ``list_docs``)."""

    id: str = ""
    type: str = ""
    href: str = ""
    browser_link: str = ""
    name: str = ""
    owner: str = ""
    owner_name: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    workspace_id: str | None = None
    folder_id: str | None = None
    workspace: JSONObject | None = None
    folder: JSONObject | None = None
    icon: JSONObject | None = None
    doc_size: JSONObject | None = None
    source_doc: JSONObject | None = None
    published: JSONObject | None = None


@dataclass(frozen=True)
class CreatedDoc(Doc):
    """A doc just created by ``create_doc``; ``request_id`` tracks its asynchronous setup
    (see :meth:`~cloud.coda_io.CodaClient.wait_for_mutation`)."""

    request_id: str | None = None


@dataclass(frozen=True)
class Page(CodaModel):
    """A page of a doc (``get_page``, ``list_pages``)."""

    id: str = ""
    type: str = ""
    href: str = ""
    browser_link: str = ""
    name: str = ""
    subtitle: str | None = None
    content_type: str | None = None
    is_hidden: bool | None = None
    is_effectively_hidden: bool | None = None
    parent: JSONObject | None = None
    children: list[JSONObject] = field(default_factory=list)
    icon: JSONObject | None = None
    image: JSONObject | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Table(CodaModel):
    """A table or view (``get_table``; ``list_tables`` gives the shorter reference form)."""

    id: str = ""
    type: str = ""
    table_type: str | None = None
    href: str = ""
    browser_link: str = ""
    name: str = ""
    parent: JSONObject | None = None
    parent_table: JSONObject | None = None
    display_column: JSONObject | None = None
    row_count: int | None = None
    layout: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Column(CodaModel):
    """A column of a table (``get_column``, ``list_columns``)."""

    id: str = ""
    type: str = ""
    href: str = ""
    name: str = ""
    display: bool | None = None
    calculated: bool | None = None
    formula: str | None = None
    default_value: str | None = None
    format: JSONObject | None = None
    parent: JSONObject | None = None


@dataclass(frozen=True)
class Row(CodaModel):
    """A row; ``values`` maps column ids (or names, with ``use_column_names=True``) to cell
    values in the requested ``value_format``."""

    id: str = ""
    type: str = ""
    href: str = ""
    name: str = ""
    index: int | None = None
    browser_link: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    values: JSONObject = field(default_factory=dict)
    parent: JSONObject | None = None


@dataclass(frozen=True)
class Formula(CodaModel):
    """A named formula and its current value."""

    id: str = ""
    type: str = ""
    href: str = ""
    name: str = ""
    parent: JSONObject | None = None
    value: object = None


@dataclass(frozen=True)
class Control(CodaModel):
    """A control (slider, checkbox, select...) and its current value."""

    id: str = ""
    type: str = ""
    href: str = ""
    name: str = ""
    parent: JSONObject | None = None
    control_type: str | None = None
    value: object = None


@dataclass(frozen=True)
class Permission(CodaModel):
    """One entry of a doc's access list: who (``principal``) may do what (``access``)."""

    id: str = ""
    access: str = ""
    principal: JSONObject = field(default_factory=dict)


@dataclass(frozen=True)
class Folder(CodaModel):
    """A folder of docs."""

    id: str = ""
    type: str = ""
    name: str = ""
    browser_link: str = ""
    description: str | None = None
    created_at: datetime | None = None
    can_edit: bool | None = None
    workspace: JSONObject | None = None
    icon: JSONObject | None = None


@dataclass(frozen=True)
class Pack(CodaModel):
    """A Pack (``get_pack``; ``list_packs`` gives the summary form)."""

    id: int | None = None
    name: str = ""
    description: str = ""
    short_description: str = ""
    workspace_id: str | None = None
    categories: list[JSONObject] = field(default_factory=list)
    logo_url: str | None = None
    cover_url: str | None = None
    certified: bool | None = None
    source_code_visibility: str | None = None
    support_email: str | None = None
    terms_of_service_url: str | None = None
    privacy_policy_url: str | None = None


@dataclass(frozen=True)
class MutationStatus(CodaModel):
    """Whether an asynchronous mutation has been applied (``get_mutation_status``)."""

    completed: bool = False
    warning: str | None = None


@dataclass(frozen=True)
class MutationResult(CodaModel):
    """The answer to a write that Coda applies asynchronously (202 + ``requestId``).

    Pass ``request_id`` to :meth:`~cloud.coda_io.CodaClient.wait_for_mutation`.  ``id`` is
    the new object's id where Coda returns one (``create_page``), ``added_row_ids`` the rows
    an upsert inserted, ``row_ids`` the rows a delete removed.
    """

    request_id: str = ""
    id: str | None = None
    added_row_ids: list[str] = field(default_factory=list)
    row_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PageContentExport(CodaModel):
    """State of a page export: ``status`` is ``inProgress``, ``complete`` or ``failed``;
    ``download_link`` is set once complete."""

    id: str = ""
    status: str = ""
    href: str = ""
    download_link: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class User(CodaModel):
    """The user an API token belongs to (``whoami``)."""

    name: str = ""
    login_id: str = ""
    type: str = ""
    picture_link: str | None = None
    scoped: bool | None = None
    token_name: str | None = None
    href: str = ""
    workspace: JSONObject | None = None
