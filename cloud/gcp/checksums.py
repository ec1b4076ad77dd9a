"""CRC32C and MD5 of transferred bytes, in the base64 form GCS reports (``crc32c``,
``md5Hash``, ``x-goog-hash``), and the comparison that turns a mismatch into an error."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import google_crc32c

from .errors import ChecksumMismatchError

__all__ = ["Checksums", "parse_goog_hash", "verify"]

_Checksum: Any = google_crc32c.Checksum  # the package ships no type hints


class Checksums:
    """Running CRC32C and MD5 of a byte stream (fed once, in order)."""

    def __init__(self, data: bytes = b"") -> None:
        self._crc = _Checksum()
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0
        if data:
            self.update(data)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Add the next bytes."""
        # The C extension wants read-only buffers: bytes pass as they are.
        self._crc.update(data if isinstance(data, bytes) else bytes(data))
        self._md5.update(data)
        self.size += len(data)

    @property
    def crc32c(self) -> str:
        """Base64 of the big-endian CRC32C, as in GCS's ``crc32c`` field."""
        return base64.b64encode(self._crc.digest()).decode("ascii")

    @property
    def md5(self) -> str:
        """Base64 of the MD5 digest, as in GCS's ``md5Hash`` field."""
        return base64.b64encode(self._md5.digest()).decode("ascii")

    def goog_hash(self) -> str:
        """The ``X-Goog-Hash`` header value announcing these checksums."""
        return f"crc32c={self.crc32c},md5={self.md5}"


def parse_goog_hash(values: Iterable[str]) -> dict[str, str]:
    """Parse ``x-goog-hash`` header values (``crc32c=...,md5=...``, possibly repeated)."""
    out: dict[str, str] = {}
    for value in values:
        for part in value.split(","):
            name, sep, digest = part.strip().partition("=")
            if sep and name.strip().lower() in ("crc32c", "md5"):
                out[name.strip().lower()] = digest.strip()
    return out


def verify(
    expected: Mapping[str, str | None],
    actual: Checksums,
    *,
    what: str,
) -> None:
    """Compare the server's ``crc32c``/``md5`` (base64, either may be missing) with ``actual``;
    raise :class:`ChecksumMismatchError` when one differs."""
    crc = expected.get("crc32c")
    if crc and crc != actual.crc32c:
        raise ChecksumMismatchError(
            f"CRC32C mismatch for {what}: GCS has {crc}, the bytes transferred give {actual.crc32c}"
        )
    md5 = expected.get("md5")
    if md5 and md5 != actual.md5:
        raise ChecksumMismatchError(f"MD5 mismatch for {what}: GCS has {md5}, the bytes transferred give {actual.md5}")
