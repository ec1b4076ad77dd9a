"""How names in Coda's API become Python names: ``operationId`` and camelCase wire names
become snake_case (``listDocs`` -> ``list_docs``, ``pageIdOrName`` -> ``page_id_or_name``)."""

from __future__ import annotations

import re

__all__ = ["camel_case", "snake_case"]

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(name: str) -> str:
    """``listDocs`` -> ``list_docs``; ``whoami`` stays ``whoami``."""
    return _BOUNDARY.sub("_", name).lower()


def camel_case(name: str) -> str:
    """``browser_link`` -> ``browserLink`` (the inverse of :func:`snake_case` for Coda's names)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
