"""Coda's published OpenAPI document, read directly (independently of the generated table),
and sample arguments for every parameter and body field."""

from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

# Vendored in the repository (spec/coda/SOURCE.md names the source and version).
SPEC_DIR = Path(os.environ.get("CODA_SPEC_DIR") or Path(__file__).resolve().parents[2] / "spec" / "coda")
METHODS = ("get", "put", "post", "delete", "patch")

# Bodies that are not a fixed set of fields: the client takes them whole from one keyword.
PAYLOAD_KWARG = {"triggerWebhookAutomation": "payload", "patchPackSystemConnection": "patch"}


def snake(name: str) -> str:
    """camelCase -> snake_case, written here independently of cloud.coda_io.naming."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass
class SpecParam:
    wire: str
    schema: dict[str, Any]
    required: bool


@dataclass
class SpecOp:
    operation_id: str
    method: str
    raw_path: str
    path_params: list[SpecParam]  # in path order
    query_params: list[SpecParam]
    body_schema: dict[str, Any] | None
    success_status: int

    @property
    def path(self) -> str:
        return self.raw_path.replace("${", "{")

    @property
    def paginated(self) -> bool:
        return any(p.wire == "pageToken" for p in self.query_params)


@cache
def document() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SPEC_DIR / "openapi.json").read_text(encoding="utf-8"))
    return data


@cache
def endpoints() -> dict[str, dict[str, str]]:
    with (SPEC_DIR / "endpoints.tsv").open(encoding="utf-8", newline="") as handle:
        return {row["operationId"]: row for row in csv.DictReader(handle, delimiter="\t")}


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    schemas = document()["components"]["schemas"]
    while "$ref" in schema:
        schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


@cache
def operations() -> list[SpecOp]:
    doc = document()
    params = doc["components"]["parameters"]
    out: list[SpecOp] = []
    for raw_path, item in doc["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            found: dict[str, list[SpecParam]] = {"path": [], "query": []}
            for p in [*item.get("parameters", []), *op.get("parameters", [])]:
                if "$ref" in p:
                    p = params[p["$ref"].rsplit("/", 1)[-1]]
                found[p["in"]].append(SpecParam(p["name"], p.get("schema", {}), bool(p.get("required"))))
            order = re.findall(r"\{([^}]+)\}", raw_path.replace("${", "{"))
            path_params = sorted(found["path"], key=lambda p: order.index(p.wire))
            body = op.get("requestBody")
            body_schema = body["content"]["application/json"]["schema"] if body else None
            status = next(int(code) for code in op["responses"] if code.startswith("2"))
            out.append(
                SpecOp(op["operationId"], method.upper(), raw_path, path_params, found["query"], body_schema, status)
            )
    return out


def body_properties(schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    node = resolve(schema)
    if "allOf" in node:
        props: dict[str, Any] = {}
        required: list[str] = []
        for part in node["allOf"]:
            p, r = body_properties(part)
            props.update(p)
            required += r
        return props, required
    return dict(node.get("properties", {})), list(node.get("required", []))


# -- sample values: (python argument, expected JSON value, expected query text) -------------


def sample(schema: dict[str, Any], name: str) -> tuple[Any, Any, str]:
    node = resolve(schema)
    if "enum" in node:
        value = node["enum"][0]
        return value, value, str(value)
    if "allOf" in node or "oneOf" in node or "anyOf" in node or node.get("type") in (None, "object"):
        value = {"k": f"v-{name}", "n": [1, 2], "when": "2024-01-02"}
        return value, value, ""
    kind = node["type"]
    if kind == "array":
        item_node = resolve(node.get("items", {}))
        if "enum" in item_node:
            values = list(item_node["enum"][:2])
            return values, values, ",".join(str(v) for v in values)
        a_py, a_json, a_query = sample(node.get("items", {}), name + "0")
        b_py, b_json, b_query = sample(node.get("items", {}), name + "1")
        return [a_py, b_py], [a_json, b_json], f"{a_query},{b_query}"
    if kind == "string":
        fmt = node.get("format")
        if fmt == "date":
            return date(2024, 5, 6), "2024-05-06", "2024-05-06"
        if fmt == "date-time":
            moment = datetime(2024, 5, 6, 7, 8, 9, tzinfo=timezone.utc)
            return moment, moment.isoformat(), "2024-05-06T07:08:09+00:00"
        return f"s-{name}", f"s-{name}", f"s-{name}"
    if kind == "boolean":
        return True, True, "true"
    if kind == "integer":
        return 7, 7, "7"
    if kind == "number":
        return 2.5, 2.5, "2.5"
    raise AssertionError(f"no sample for {node}")


def path_sample(param: SpecParam) -> tuple[Any, str]:
    """A path argument and its expected encoding (values with '/' and ' ' for strings)."""
    node = resolve(param.schema)
    if "enum" in node:
        return node["enum"][0], quote(str(node["enum"][0]), safe="")
    if node.get("type") == "integer":
        return 42, "42"
    value = f"{param.wire} a/b"
    return value, quote(value, safe="")


# -- spec-conformant response bodies ------------------------------------------------------------

SAMPLE_DATETIME = "2024-05-06T07:08:09.123Z"
SAMPLE_DATE = "2024-05-06"


def schemas() -> dict[str, Any]:
    found: dict[str, Any] = document()["components"]["schemas"]
    return found


def response_schema(op: SpecOp) -> dict[str, Any]:
    """The JSON schema of the operation's success answer."""
    raw = document()["paths"][op.raw_path][op.method.lower()]["responses"][str(op.success_status)]
    if "$ref" in raw:
        raw = document()["components"]["responses"][raw["$ref"].rsplit("/", 1)[-1]]
    found: dict[str, Any] = raw["content"]["application/json"]["schema"]
    return found


def narrow(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema resolved; an ``allOf`` of one reference and parts that only describe it
    (no properties) is that reference."""
    node = resolve(schema)
    while "allOf" in node:
        refs = [part for part in node["allOf"] if "$ref" in part]
        others = [part for part in node["allOf"] if "$ref" not in part]
        if len(refs) != 1 or any("properties" in p or "allOf" in p or "oneOf" in p for p in others):
            break
        node = resolve(refs[0])
    return node


def object_properties(schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]] | None:
    """Properties and required names of an object schema (``allOf`` merged); ``None`` when it
    is not an object with declared properties."""
    node = narrow(schema)
    if "allOf" in node:
        return body_properties(node)
    if "properties" in node:
        return dict(node["properties"]), list(node.get("required", []))
    if node.get("type") == "object" and not isinstance(node.get("additionalProperties"), dict):
        return {}, []
    return None


def example(schema: dict[str, Any], *, variant: int = 0, seen: tuple[str, ...] = ()) -> Any:
    """A value conforming to ``schema`` with every property present (``variant`` picks the
    ``oneOf`` member, modulo the number of members)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if seen.count(name) >= 2:
            return None
        seen = (*seen, name)
    node = narrow(schema)
    if "enum" in node:
        return node["enum"][variant % len(node["enum"])]
    if "oneOf" in node or "anyOf" in node:
        options = node.get("oneOf") or node["anyOf"]
        return example(options[variant % len(options)], variant=variant, seen=seen)
    props = object_properties(node)
    if props is not None:
        out: dict[str, Any] = {}
        for name, prop in props[0].items():
            value = example(prop, variant=variant, seen=seen)
            if value is not None:
                out[name] = value
        return out
    kind = node.get("type")
    if kind == "array":
        item = example(node.get("items", {}), variant=variant, seen=seen)
        return [] if item is None else [item]
    if kind == "object":
        extra = node["additionalProperties"]
        value = example(extra, variant=variant, seen=seen)
        return {} if value is None else {"key": value}
    if kind == "string":
        fmt = node.get("format")
        return SAMPLE_DATETIME if fmt == "date-time" else SAMPLE_DATE if fmt == "date" else "text"
    if kind == "integer":
        return 7
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    return {"free": [1, "two"]}
