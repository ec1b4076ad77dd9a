"""Validate requests and responses against a Google API discovery document (the JSON API
descriptions google-api-python-client ships under ``googleapiclient/discovery_cache``).

:meth:`Discovery.match` finds the one method a request calls (HTTP method + path template)
and checks every path and query parameter (known, required, type, enum, pattern, bounds) and
the JSON body against the method's request schema; :meth:`Discovery.check` validates a body
the fake is about to answer against a schema, so the fakes' answers conform too.  Unknown
fields are errors in both directions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import googleapiclient

from .server import Rejected, Request

DOCUMENTS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"


@dataclass
class Method:
    """One method of the API."""

    id: str
    http_method: str
    regex: re.Pattern[str]
    description: dict[str, Any]


@cache
def load(name: str) -> Discovery:
    """The discovery document ``name`` (e.g. ``compute.v1``), parsed once."""
    return Discovery(json.loads((DOCUMENTS / f"{name}.json").read_text()))


class Discovery:
    """One discovery document."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.name = f"{doc['name']}.{doc['version']}"
        self.service_path = "/" + doc.get("servicePath", "")
        self.schemas: dict[str, Any] = doc["schemas"]
        self.global_params: dict[str, Any] = doc.get("parameters", {})
        self.methods: list[Method] = []
        self._collect(doc)

    def _collect(self, node: dict[str, Any]) -> None:
        for method in node.get("methods", {}).values():
            pattern = ""
            for literal, plus, name in re.findall(r"([^{]*)(?:\{(\+?)([^}]+)\})?", method["path"]):
                pattern += re.escape(literal)
                if name:
                    pattern += f"(?P<{name}>{'.+' if plus else '[^/]+'})"
            self.methods.append(Method(method["id"], method["httpMethod"], re.compile(pattern), method))
        for child in node.get("resources", {}).values():
            self._collect(child)

    def match(self, request: Request) -> tuple[str, dict[str, Any], Any]:
        """``(method id, parameters, JSON body)`` of a conforming request; ``Rejected``
        otherwise."""
        if not request.raw_path.startswith(self.service_path):
            raise Rejected(f"{request.raw_path} is outside {self.name}'s service path {self.service_path}")
        rest = request.raw_path[len(self.service_path) :]
        found = [
            (m, match) for m in self.methods if m.http_method == request.method and (match := m.regex.fullmatch(rest))
        ]
        if not found:
            raise Rejected(f"no {self.name} method answers {request.method} {request.raw_path}")
        # the most specific template whose path parameters conform wins
        found.sort(key=lambda pair: len(pair[0].regex.pattern) - 9 * pair[0].regex.pattern.count("(?P<"), reverse=True)
        problems = []
        for method, match in found:
            declared: dict[str, Any] = method.description.get("parameters", {})
            params: dict[str, Any] = {}
            try:
                for name, value in match.groupdict().items():
                    value = unquote(value)
                    self._check_value(method.id, name, declared[name], value)
                    params[name] = value
            except Rejected as exc:
                problems.append(str(exc))
                continue
            break
        else:
            raise Rejected("; ".join(problems))
        for name, values in request.query.items():
            spec = declared.get(name) or self.global_params.get(name)
            if spec is None or spec.get("location") != "query":
                raise Rejected(f"{method.id} has no query parameter {name!r}")
            if len(values) > 1 and not spec.get("repeated"):
                raise Rejected(f"{method.id}: {name} given {len(values)} times")
            for value in values:
                self._check_value(method.id, name, spec, value)
            params[name] = values if spec.get("repeated") else values[0]
        for name, spec in declared.items():
            if spec.get("required") and name not in params:
                raise Rejected(f"{method.id}: required parameter {name!r} missing")
        body: Any = None
        if "request" in method.description:
            if not request.body:
                raise Rejected(f"{method.id} needs a {method.description['request']['$ref']} body")
            if not request.headers.get("content-type", "").startswith("application/json"):
                raise Rejected(f"{method.id}: body must be application/json")
            try:
                body = json.loads(request.body)
            except ValueError as exc:
                raise Rejected(f"{method.id}: body is not JSON: {exc}") from None
            self.check(method.description["request"], body, f"{method.id} request")
        elif request.body:
            raise Rejected(f"{method.id} takes no body")
        return method.id, params, body

    def _check_value(self, method: str, name: str, spec: dict[str, Any], value: str) -> None:
        kind = spec.get("type")
        if kind == "integer":
            if not re.fullmatch(r"-?\d+", value):
                raise Rejected(f"{method}: {name}={value!r} is not an integer")
            number = int(value)
            if "minimum" in spec and number < int(spec["minimum"]):
                raise Rejected(f"{method}: {name}={number} below {spec['minimum']}")
            if "maximum" in spec and number > int(spec["maximum"]):
                raise Rejected(f"{method}: {name}={number} above {spec['maximum']}")
        elif kind == "boolean" and value not in ("true", "false"):
            raise Rejected(f"{method}: {name}={value!r} is not a boolean")
        if "enum" in spec and value not in spec["enum"]:
            raise Rejected(f"{method}: {name}={value!r} not one of {spec['enum']}")
        if "pattern" in spec and not re.fullmatch(spec["pattern"].strip("^$"), value):
            raise Rejected(f"{method}: {name}={value!r} does not match {spec['pattern']}")

    def check(self, schema: dict[str, Any], value: Any, where: str) -> None:
        """Validate ``value`` against ``schema`` (a ``$ref`` or inline); ``Rejected`` names
        the first field that does not conform."""
        if "$ref" in schema:
            schema = self.schemas[schema["$ref"]]
        kind = schema.get("type")
        if kind == "object":
            if not isinstance(value, dict):
                raise Rejected(f"{where}: expected an object, got {type(value).__name__}")
            properties = schema.get("properties")
            extra = schema.get("additionalProperties")
            for key, item in value.items():
                if properties and key in properties:
                    self.check(properties[key], item, f"{where}.{key}")
                elif extra is not None:
                    self.check(extra, item, f"{where}.{key}")
                else:
                    raise Rejected(f"{where}: unknown field {key!r}")
        elif kind == "array":
            if not isinstance(value, list):
                raise Rejected(f"{where}: expected an array")
            for i, item in enumerate(value):
                self.check(schema["items"], item, f"{where}[{i}]")
        elif kind == "string":
            if not isinstance(value, str):
                raise Rejected(f"{where}: expected a string, got {value!r}")
            if "enum" in schema and value not in schema["enum"]:
                raise Rejected(f"{where}: {value!r} not one of {schema['enum']}")
            if schema.get("format") in ("int64", "uint64") and not re.fullmatch(r"-?\d+", value):
                raise Rejected(f"{where}: {value!r} is not an int64 string")
            if schema.get("format") == "byte":
                import base64

                try:
                    base64.b64decode(value, validate=True)
                except ValueError:
                    raise Rejected(f"{where}: not base64") from None
        elif kind == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                raise Rejected(f"{where}: expected an integer")
        elif kind == "number":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise Rejected(f"{where}: expected a number")
        elif kind == "boolean":
            if not isinstance(value, bool):
                raise Rejected(f"{where}: expected a boolean")
        elif kind == "any" or kind is None:
            return
        else:
            raise Rejected(f"{where}: schema type {kind!r} not understood")

    def response(self, method_id: str, data: Any) -> Any:
        """Check an answer the fake is about to send against the method's response schema."""
        method = next(m for m in self.methods if m.id == method_id)
        schema = method.description.get("response")
        if schema is not None:
            self.check(schema, data, f"{method_id} response")
        return data
