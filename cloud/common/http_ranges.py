"""HTTP byte ranges, written and read the same way for every provider."""

from __future__ import annotations

__all__ = ["range_header", "total_from_content_range"]


def range_header(offset: int, length: int | None) -> str | None:
    """The ``Range`` value for ``length`` bytes at ``offset`` (``None`` length: to the end;
    ``None`` for the whole object, when no range is needed)."""
    if length is not None:
        return f"bytes={offset}-{offset + length - 1}"
    return f"bytes={offset}-" if offset else None


def total_from_content_range(value: object) -> int | None:
    """The object's total size from a ``Content-Range`` (``bytes 0-99/1234`` -> 1234), or
    ``None`` when there is none or it is unknown (``*``)."""
    if not isinstance(value, str) or "/" not in value:
        return None
    total = value.rsplit("/", 1)[1].strip()
    return int(total) if total.isdigit() else None
