"""A ``ListObjectsV2`` body parser for botocore's response parsers.

botocore walks every response body with its generic, model-driven XML walker: per listed
object a dict of child nodes, a shape lookup and a decorated handler per field.  For the
one body a listing is made of, :func:`install` gives a session a REST-XML parser that
reads ``ListObjectsV2`` pages with a direct walk of the (C-built) element tree and gives
the same dict botocore would; headers, response metadata and errors stay botocore's, and
any element the walk does not know sends the whole body to botocore's walker.  The tree
is the one botocore's 200-error check already built for the page (parsed once).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any
from xml.etree import ElementTree

from cloud.common.enums import CloudProvider
from cloud.common.models import ObjectMetadata, plain_etag, utc_datetime

__all__ = ["install", "page_objects", "parse_list_objects_v2", "read_list_objects_v2"]

_OPERATION = "ListObjectsV2"
_OUTPUT = "ListObjectsV2Output"
_BEFORE_PARSE = "before-parse.s3.*"
_ROOT_KEY = "cloud_listing_root"  # on a response dict: (its body, the body's parsed tree)

# Members of ListObjectsV2Output and of its Object entries, by XML tag, with how botocore
# converts their text.
_STRING, _INT, _BOOL = 0, 1, 2
_TOP = {
    "IsTruncated": _BOOL,
    "Name": _STRING,
    "Prefix": _STRING,
    "Delimiter": _STRING,
    "MaxKeys": _INT,
    "EncodingType": _STRING,
    "KeyCount": _INT,
    "ContinuationToken": _STRING,
    "NextContinuationToken": _STRING,
    "StartAfter": _STRING,
}
_OBJECT_STRINGS = frozenset({"Key", "ETag", "ChecksumType", "StorageClass"})
_OWNER_STRINGS = frozenset({"DisplayName", "ID"})


class _Unexpected(Exception):
    """The body holds something the direct walk does not read as botocore would."""


def _local(tag: str) -> str:
    # botocore strips namespaces with re.sub("{.*}", "", tag).
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def _text(node: ElementTree.Element) -> str:
    text = node.text
    return "" if text is None else text


def _leaf(node: ElementTree.Element) -> str:
    if len(node):
        raise _Unexpected  # botocore would read a node with children differently
    return _text(node)


def _owner(node: ElementTree.Element) -> dict[str, str]:
    owner: dict[str, str] = {}
    for child in node:
        tag = _local(child.tag)
        if tag not in _OWNER_STRINGS or tag in owner:
            raise _Unexpected
        owner[tag] = _leaf(child)
    return owner


def _object(node: ElementTree.Element, parse_time: Callable[[str], Any], names: dict[str, str]) -> dict[str, Any]:
    # Called per listed object: tags are looked up in ``names`` (namespaced tag -> local
    # name, filled as met) and leaves read inline, no helper call per field.
    entry: dict[str, Any] = {}
    algorithms: list[str] | None = None
    for child in node:
        tag = names.get(child.tag)
        if tag is None:
            tag = names[child.tag] = _local(child.tag)
        if len(child):
            if tag != "Owner" or tag in entry:
                raise _Unexpected
            entry[tag] = _owner(child)
            continue
        text = child.text
        if text is None:
            text = ""
        if tag == "ChecksumAlgorithm":
            if algorithms is None:
                algorithms = entry["ChecksumAlgorithm"] = []
            algorithms.append(text)
            continue
        if tag in entry:
            raise _Unexpected  # a repeated scalar: botocore keeps a list of nodes
        if tag in _OBJECT_STRINGS:
            entry[tag] = text
        elif tag == "LastModified":
            entry[tag] = parse_time(text)
        elif tag == "Size":
            entry[tag] = int(text)
        elif tag == "Owner":
            entry[tag] = {}
        else:
            raise _Unexpected
    return entry


def _parse_xml(body: bytes) -> ElementTree.Element:
    # As botocore parses a body (its parser and its 200-error check).
    parser = ElementTree.XMLParser(target=ElementTree.TreeBuilder(), encoding="utf-8")
    parser.feed(body)
    root: ElementTree.Element = parser.close()
    return root


def parse_list_objects_v2(body: bytes, parse_time: Callable[[str], Any]) -> dict[str, Any] | None:
    """The members botocore's REST-XML parser reads from a ``ListObjectsV2`` response body
    (times through ``parse_time``), or ``None`` when the body holds anything else than the
    elements this walk knows (the caller then uses botocore's walker)."""
    try:
        root = _parse_xml(body)
    except ElementTree.ParseError:
        return None  # botocore raises its own error for it
    return read_list_objects_v2(root, parse_time)


def read_list_objects_v2(root: ElementTree.Element, parse_time: Callable[[str], Any]) -> dict[str, Any] | None:
    """:func:`parse_list_objects_v2` of a body already parsed into ``root``."""
    parsed: dict[str, Any] = {}
    contents: list[dict[str, Any]] | None = None
    prefixes: list[dict[str, str]] | None = None
    names: dict[str, str] = {}
    try:
        for child in root:
            tag = _local(child.tag)
            if tag == "Contents":
                if contents is None:
                    contents = parsed["Contents"] = []
                contents.append(_object(child, parse_time, names))
            elif tag == "CommonPrefixes":
                if prefixes is None:
                    prefixes = parsed["CommonPrefixes"] = []
                entry: dict[str, str] = {}
                for sub in child:
                    if _local(sub.tag) != "Prefix" or entry:
                        raise _Unexpected
                    entry["Prefix"] = _leaf(sub)
                prefixes.append(entry)
            else:
                kind = _TOP.get(tag)
                if kind is None or tag in parsed:
                    raise _Unexpected
                text = _leaf(child)
                parsed[tag] = text if kind == _STRING else int(text) if kind == _INT else text == "true"
    except (_Unexpected, ValueError):
        return None
    return parsed


@functools.cache
def _parser_class() -> type[Any]:
    """aiobotocore's REST-XML parser with the direct walk for ``ListObjectsV2`` bodies
    (built on first use: aiobotocore loads with the first client)."""
    from aiobotocore.parsers import AioRestXMLParser

    class _ListingRestXMLParser(AioRestXMLParser):  # type: ignore[misc]
        def _parse_payload(self, response: Any, shape: Any, member_shapes: Any, final_parsed: Any) -> None:
            body = response.get("body")
            root = response.pop(_ROOT_KEY, None)
            if shape.name == _OUTPUT and body and isinstance(body, bytes) and "payload" not in shape.serialization:
                if root is not None and root[0] is body:
                    parsed = read_list_objects_v2(root[1], self._timestamp_parser)
                else:
                    parsed = parse_list_objects_v2(body, self._timestamp_parser)
                if parsed is not None:
                    final_parsed.update(parsed)
                    return
            super()._parse_payload(response, shape, member_shapes, final_parsed)

    return _ListingRestXMLParser


@functools.cache
def _factory_class() -> type[Any]:
    from aiobotocore.parsers import AioResponseParserFactory

    class _Factory(AioResponseParserFactory):  # type: ignore[misc]
        def create_parser(self, protocol_name: str) -> Any:
            if protocol_name == "rest-xml":
                return _parser_class()(**self._defaults)
            return super().create_parser(protocol_name)

    return _Factory


def _check_200_error(operation_model: Any, response_dict: Any, **kwargs: Any) -> None:
    """botocore's ``_handle_200_error`` (S3 can answer 200 with an error body: it becomes a
    500), which parses every 200 body to look at its root; for a ``ListObjectsV2`` body
    that is no error, the parsed tree is kept on the response for the parser to walk
    instead of parsing the body a second time."""
    from botocore.handlers import _handle_200_error

    body = response_dict.get("body") if response_dict else None
    if operation_model.name == _OPERATION and type(body) is bytes and body and response_dict.get("status_code") == 200:
        try:
            root = _parse_xml(body)
        except ElementTree.ParseError:
            root = None
        if root is not None and root.tag != "Error":
            response_dict[_ROOT_KEY] = (body, root)
            return
    _handle_200_error(operation_model, response_dict, **kwargs)


def install(session: Any, timestamp_parser: Callable[[Any], Any]) -> None:
    """Make clients created from ``session`` (an aiobotocore session) parse responses
    with ``timestamp_parser`` and read ``ListObjectsV2`` bodies with the direct walk,
    parsing each body once."""
    from botocore.handlers import _handle_200_error

    factory = _factory_class()()
    factory.set_parser_defaults(timestamp_parser=timestamp_parser)
    session.register_component("response_parser_factory", factory)
    events = session.get_component("event_emitter")
    events.unregister(_BEFORE_PARSE, _handle_200_error)
    events.register_first(_BEFORE_PARSE, _check_200_error)


def page_objects(parsed: Mapping[str, Any], bucket: str) -> list[ObjectMetadata]:
    """The objects and common prefixes of one parsed ``ListObjectsV2`` page (the dict
    botocore gives, keys already URL-decoded) as the contract's entries, in name order."""
    provider = CloudProvider.AWS
    # Built per listed object: positional arguments (cheaper than keywords).
    items = [
        ObjectMetadata(
            entry["Key"],
            bucket,
            int(entry.get("Size", 0)),
            plain_etag(entry.get("ETag")),
            None,
            utc_datetime(entry.get("LastModified")),
            {},
            provider,
        )
        for entry in parsed.get("Contents", ())
    ]
    items.extend(
        ObjectMetadata(
            name=entry["Prefix"],
            bucket=bucket,
            size=0,
            etag=None,
            content_type=None,
            last_modified=None,
            provider=provider,
            is_prefix=True,
        )
        for entry in parsed.get("CommonPrefixes", ())
    )
    items.sort(key=lambda m: m.name)
    return items
