"""Argument checks shared by every storage backend (run before any I/O)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from .exceptions import ConfigurationError

__all__ = [
    "MAX_OBJECT_NAME_BYTES",
    "check_content_type",
    "check_data",
    "check_object_name",
    "check_prefix",
    "normalize_metadata",
    "range_needs_size",
    "slice_bounds",
]

MAX_OBJECT_NAME_BYTES = 1024
_METADATA_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_object_name(name: str) -> str:
    """Reject, with ``ConfigurationError`` before any I/O, a name that is not plain data.

    Object names are data, never paths: no name may address another bucket or key.  A name
    must be a non-empty string of at most 1,024 UTF-8 bytes, with no NUL, no lone surrogate
    (it has no UTF-8 form), no ``.`` or ``..`` segment between slashes (``..``, ``./a``,
    ``a/../b``: HTTP clients and servers collapse those in URL paths) and no backslash
    (Azure and GCS's emulator store ``a\\b`` as ``a/b``).  Every other name (``%2e%2e/x``,
    ``?``, ``#``, a leading ``/``, any Unicode) is stored and listed exactly as given.
    """
    if not isinstance(name, str) or not name:
        raise ConfigurationError("object name must be a non-empty string")
    if "\x00" in name:
        raise ConfigurationError("object name must not contain NUL")
    if _encoded_size(name, "object name") > MAX_OBJECT_NAME_BYTES:
        raise ConfigurationError(f"object name is longer than {MAX_OBJECT_NAME_BYTES} UTF-8 bytes")
    if "\\" in name:
        raise ConfigurationError(f"object name {name!r} must not contain a backslash")
    if "." in name and any(part in (".", "..") for part in name.split("/")):
        raise ConfigurationError(f"object name {name!r} must not have a '.' or '..' path segment")
    return name


def check_prefix(prefix: str, delimiter: str | None = None) -> str:
    """Reject a listing ``prefix`` (or ``delimiter``) that cannot be sent, before any I/O: not
    a string, NUL, a lone surrogate, over 1,024 UTF-8 bytes.  A prefix only filters the
    names of the bucket listed, so any other text (``..`` included) is allowed."""
    for what, value in (("prefix", prefix), ("delimiter", "" if delimiter is None else delimiter)):
        if not isinstance(value, str) or "\x00" in value:
            raise ConfigurationError(f"{what} must be a string without NUL")
        if _encoded_size(value, what) > MAX_OBJECT_NAME_BYTES:
            raise ConfigurationError(f"{what} is longer than {MAX_OBJECT_NAME_BYTES} UTF-8 bytes")
    return prefix


def _encoded_size(text: str, what: str) -> int:
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise ConfigurationError(f"{what} {text!r} holds a lone surrogate: it has no UTF-8 form") from None


def check_data(data: bytes) -> bytes:
    """Return ``data`` as ``bytes``; anything but a bytes-like object (e.g. a ``str``, whose
    encoding would be a guess) raises ``ConfigurationError`` before any I/O."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ConfigurationError(f"data must be bytes, not {type(data).__name__}")
    return bytes(data)


def check_content_type(content_type: str) -> str:
    """Reject a content type that is not one line of printable ASCII (it travels in a
    header or a multipart part header, where a line break would forge more headers)."""
    if not isinstance(content_type, str) or not content_type:
        raise ConfigurationError("content_type must be a non-empty string")
    if not content_type.isascii() or not content_type.isprintable():
        raise ConfigurationError("content_type must be printable ASCII on one line")
    return content_type


def normalize_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """Return user metadata with lower-case keys (as every provider hands them back).

    Keys must be identifiers (letters, digits, underscores: the set every provider
    accepts, Azure's being the narrowest); values must be printable ASCII.  The caller's
    mapping is never mutated.
    """
    if not metadata:
        return {}
    out: dict[str, str] = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not _METADATA_KEY.match(key):
            raise ConfigurationError(
                f"metadata key {key!r} is not valid: use letters, digits and underscores, starting with a letter"
            )
        if not isinstance(value, str) or not all(32 <= ord(c) < 127 for c in value):
            raise ConfigurationError(f"metadata value for {key!r} must be printable ASCII text")
        lowered = key.lower()
        if lowered in out:
            raise ConfigurationError(f"metadata key {key!r} differs from another only by case")
        out[lowered] = value
    return out


def range_needs_size(start: int | None, end: int | None) -> bool:
    """Whether resolving ``data[start:end]`` needs the object's size first."""
    return (start is not None and start < 0) or (end is not None and end < 0)


def slice_bounds(start: int | None, end: int | None, size: int) -> tuple[int, int]:
    """Resolve ``data[start:end]`` on an object of ``size`` bytes to ``(offset, length)``."""
    offset, stop, _ = slice(start, end).indices(size)
    return offset, max(0, stop - offset)
