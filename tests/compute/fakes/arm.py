"""Validate Azure Resource Manager requests against the management SDK's own request
builders: every ``build_*_request`` function of ``azure-mgmt-compute`` and ``azure-mgmt-web``
gives an operation's HTTP method, URL template, query parameters and ``api-version``; a
request must match exactly one builder, use its ``api-version`` and send no query parameter
it does not know (``$skiptoken`` only on the ``nextLink`` the fake issued)."""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass
from functools import cache

from .server import Rejected, Request


@dataclass(frozen=True)
class Operation:
    """One SDK request builder."""

    name: str
    method: str
    template: str
    regex: re.Pattern[str]
    query: frozenset[str]
    api_version: str


_BUILDER = re.compile(r"^def (build_\w+_request)\(.*?^    return HttpRequest\(method=\"(\w+)\"", re.S | re.M)


@cache
def operations(module: str) -> tuple[Operation, ...]:
    """Every request builder of ``module`` (e.g. ``azure.mgmt.compute.operations._operations``)."""
    source = inspect.getsource(importlib.import_module(module))
    found = []
    for match in _BUILDER.finditer(source):
        body = match.group(0)
        url = re.search(r'_url = \(?\s*"([^"]+)"', body)
        version = re.search(r'_params\.pop\("api-version", "([^"]+)"\)', body)
        if url is None or version is None:
            continue
        template = url.group(1)
        pattern = re.sub(r"\\\{(\w+)\\\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(template))
        query = frozenset(re.findall(r'_params\["([^"]+)"\]', body))
        found.append(Operation(match.group(1), match.group(2), template, re.compile(pattern), query, version.group(1)))
    return tuple(found)


class ARMValidator:
    """Match requests to the builders of some SDK modules."""

    def __init__(self, *modules: str) -> None:
        self.operations = [op for module in modules for op in operations(module)]

    def match(self, request: Request, *, skiptokens: set[str]) -> tuple[Operation, dict[str, str]]:
        found = [
            (op, m)
            for op in self.operations
            if op.method == request.method and (m := op.regex.fullmatch(request.raw_path))
        ]
        if not found:
            raise Rejected(f"no SDK request builder answers {request.method} {request.raw_path}")
        # the most specific template wins (fewest parameters, then the longest)
        op, m = min(found, key=lambda pair: (pair[0].template.count("{"), -len(pair[0].template)))
        query = {k: v[0] for k, v in request.query.items()}
        if query.get("api-version") != op.api_version:
            raise Rejected(f"{op.name}: api-version {query.get('api-version')!r}, the SDK sends {op.api_version!r}")
        for key in query:
            if key == "$skiptoken":
                if query[key] not in skiptokens:
                    raise Rejected(f"{op.name}: $skiptoken {query[key]!r} was never issued")
            elif key not in op.query:
                raise Rejected(f"{op.name} has no query parameter {key!r} (it knows {sorted(op.query)})")
        if op.method in ("GET", "DELETE") and request.body:
            raise Rejected(f"{op.name} takes no body")
        params = {k: __import__("urllib.parse").parse.unquote(v) for k, v in m.groupdict().items()}
        return op, {**params, **query}
