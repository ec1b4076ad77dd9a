"""Reading a REST-XML response's header-bound members from the headers the response has.

botocore fills the header-bound members of an output shape by walking every member of
the shape and looking each one up in the headers: ``GetObjectOutput`` and
``HeadObjectOutput`` have some sixty members, of which a response carries about ten.
:func:`install` gives a session's clients a parser that walks the response's headers
instead, against a per-shape table of the header each member is read from, and converts
each value with botocore's own ``_parse_shape``: the same members, values and key order
as botocore's walk.  Status-code and header-map (``x-amz-meta-*``) members are read as
botocore reads them.  An empty body (a PUT's, a HEAD's, a DELETE's answer) fills no body
member, so it is not walked member by member either.
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["install"]

_PLAN_CACHE_LIMIT = 512


class _Plan:
    """How the non-payload members of one output shape are read."""

    __slots__ = ("by_header", "others")

    def __init__(self, member_shapes: Any) -> None:
        self.by_header: dict[str, list[tuple[int, str, Any]]] = {}
        self.others: list[tuple[int, str, Any, str]] = []
        for index, name in enumerate(member_shapes):
            member_shape = member_shapes[name]
            location = member_shape.serialization.get("location")
            if location == "header":
                header_name = member_shape.serialization.get("name", name)
                self.by_header.setdefault(header_name.lower(), []).append((index, name, member_shape))
            elif location in ("statusCode", "headers"):
                self.others.append((index, name, member_shape, location))


_PLANS: dict[int, tuple[Any, _Plan]] = {}
"""Plans by the identity of a shape's member mapping (botocore builds it once per shape and
a parser per response, so the plans live here; each entry holds its mapping alive)."""


def _plan(member_shapes: Any) -> _Plan:
    cached = _PLANS.get(id(member_shapes))
    if cached is None or cached[0] is not member_shapes:
        cached = (member_shapes, _Plan(member_shapes))
        if len(_PLANS) >= _PLAN_CACHE_LIMIT:
            # each client has its own shapes: the oldest plans are of clients long gone
            del _PLANS[next(iter(_PLANS))]
        _PLANS[id(member_shapes)] = cached
    return cached[1]


class _HeaderWalk:
    """Parser mixin: ``_parse_non_payload_attrs`` driven by the response's headers."""

    _parse_shape: Any
    _parse_header_map: Any
    _headers_class: type[Any]

    def _parse_non_payload_attrs(self, response: Any, shape: Any, member_shapes: Any, final_parsed: Any) -> None:
        headers = response["headers"]
        if type(headers) is not self._headers_class:
            # only botocore's case-insensitive HeadersDict looks names up as the table does
            super()._parse_non_payload_attrs(response, shape, member_shapes, final_parsed)  # type: ignore[misc]
            return
        plan = _plan(member_shapes)
        found: list[tuple[int, str, Any]] = []
        for index, name, member_shape, location in plan.others:
            if location == "statusCode":
                found.append((index, name, self._parse_shape(member_shape, response["status_code"])))
            else:
                found.append((index, name, self._parse_header_map(member_shape, headers)))
        by_header = plan.by_header
        if by_header:
            for header_name in headers:
                members = by_header.get(header_name.lower())
                if members is not None:
                    value = headers[header_name]
                    for index, name, member_shape in members:
                        found.append((index, name, self._parse_shape(member_shape, value)))
        found.sort(key=_first)
        for _, name, value in found:
            final_parsed[name] = value

    def _parse_payload(self, response: Any, shape: Any, member_shapes: Any, final_parsed: Any) -> None:
        body = response.get("body")
        if type(body) is bytes and not body and "payload" not in shape.serialization:
            # botocore would walk every member of the shape against an empty element and
            # find none; a member bound to a payload is read as botocore reads it
            return
        super()._parse_payload(response, shape, member_shapes, final_parsed)  # type: ignore[misc]


def _first(item: tuple[int, str, Any]) -> int:
    return item[0]


@functools.cache
def _parser_class(base: Any) -> type[Any]:
    from botocore.awsrequest import HeadersDict  # loaded with the client

    return type(f"HeaderWalk{base.__name__}", (_HeaderWalk, base), {"_headers_class": HeadersDict})


@functools.cache
def _factory_class(base: Any) -> type[Any]:
    class _Factory(base):  # type: ignore[misc]
        _rest_xml: Any = None

        def create_parser(self, protocol_name: str) -> Any:
            # botocore asks for a parser per response: the class is found once
            if protocol_name != "rest-xml":
                return super().create_parser(protocol_name)
            if self._rest_xml is None:
                base: Any = type(super().create_parser(protocol_name))
                self._rest_xml = _parser_class(base)
            return self._rest_xml(**self._defaults)

    return _Factory


def install(session: Any) -> None:
    """Make the REST-XML parsers of clients created from ``session`` (an aiobotocore
    session, after any other parser factory of ours was registered on it) read header-bound
    members by walking the response's headers."""
    current = session.get_component("response_parser_factory")
    factory_class: Any = type(current)
    factory = _factory_class(factory_class)()
    factory.set_parser_defaults(**current._defaults)
    session.register_component("response_parser_factory", factory)
