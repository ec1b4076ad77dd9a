"""CRC32C and MD5 of transferred bytes, in the base64 form GCS reports (``crc32c``,
``md5Hash``, ``x-goog-hash``), and the comparison that turns a mismatch into an error.

CRC32C is the check of choice: ``google-crc32c`` is a C extension (~12 GB/s here) where MD5
runs at ~0.7 GB/s, and GCS reports a CRC32C for every object (composite objects have no
MD5).  MD5 is computed only when no CRC32C is available to compare with.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import anyio
import google_crc32c

from cloud.common.exceptions import ConfigurationError
from cloud.common.files import SMALL_IO

from .errors import ChecksumMismatchError

__all__ = ["Checksums", "feed", "file_checksums", "parse_goog_hash", "server_hashes", "verify"]

_Checksum: Any = google_crc32c.Checksum  # the package ships no type hints


class Checksums:
    """Running CRC32C and/or MD5 of a byte stream (fed once, in order).

    Both are computed by default; ``crc32c=False`` or ``md5=False`` skips one (its property
    is then ``None``).  :meth:`for_expected` picks the one worth computing to check against
    what a server reported.
    """

    __slots__ = ("_crc", "_md5", "size")

    def __init__(self, data: bytes = b"", *, crc32c: bool = True, md5: bool = True) -> None:
        self._crc = _Checksum() if crc32c else None
        self._md5 = hashlib.md5(usedforsecurity=False) if md5 else None
        self.size = 0
        if data:
            self.update(data)

    @classmethod
    def for_expected(cls, expected: Mapping[str, str | None]) -> Checksums:
        """A hasher for comparing with ``expected`` (``crc32c``/``md5``, base64): CRC32C when
        the server gave one, else MD5 when it gave that, else neither (only the size)."""
        if expected.get("crc32c"):
            return cls(md5=False)
        return cls(crc32c=False, md5=bool(expected.get("md5")))

    @property
    def slow(self) -> bool:
        """Whether updates hash with MD5 (worth moving off the event loop for big pieces)."""
        return self._md5 is not None

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Add the next bytes."""
        if self._crc is not None:
            # The C extension wants read-only buffers: bytes pass as they are.
            self._crc.update(data if type(data) is bytes else bytes(data))
        if self._md5 is not None:
            self._md5.update(data)
        self.size += len(data)

    @property
    def crc32c(self) -> str | None:
        """Base64 of the big-endian CRC32C, as in GCS's ``crc32c`` field (``None`` if not
        computed)."""
        crc = self._crc
        return None if crc is None else base64.b64encode(crc.digest()).decode("ascii")

    @property
    def md5(self) -> str | None:
        """Base64 of the MD5 digest, as in GCS's ``md5Hash`` field (``None`` if not
        computed)."""
        md5 = self._md5
        return None if md5 is None else base64.b64encode(md5.digest()).decode("ascii")

    def goog_hash(self) -> str:
        """The ``X-Goog-Hash`` header value announcing the computed checksums."""
        parts = []
        if self._crc is not None:
            parts.append(f"crc32c={self.crc32c}")
        if self._md5 is not None:
            parts.append(f"md5={self.md5}")
        return ",".join(parts)


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
    raise :class:`ChecksumMismatchError` when they differ.

    CRC32C decides whenever both sides have one; MD5 is compared only when they do not."""
    crc = expected.get("crc32c")
    if crc:
        ours = actual.crc32c
        if ours is not None:
            if crc != ours:
                raise ChecksumMismatchError(
                    f"CRC32C mismatch for {what}: GCS has {crc}, the bytes transferred give {ours}"
                )
            return
    md5 = expected.get("md5")
    if md5:
        ours = actual.md5
        if ours is not None and md5 != ours:
            raise ChecksumMismatchError(f"MD5 mismatch for {what}: GCS has {md5}, the bytes transferred give {ours}")


def server_hashes(headers: Mapping[str, Any]) -> dict[str, str]:
    """The digests a response's ``x-goog-hash`` headers carry, by name."""
    getall = getattr(headers, "getall", None)
    values: list[str] = list(getall("x-goog-hash", [])) if getall is not None else []
    if not values and headers.get("x-goog-hash"):
        values = [headers["x-goog-hash"]]
    return parse_goog_hash(values)


async def feed(received: Checksums, data: bytes) -> None:
    """Hash ``data``: CRC32C on the event loop (~12 GB/s), MD5 of a big piece in a worker
    thread (hashlib releases the GIL)."""
    if received.slow and len(data) > SMALL_IO:
        await anyio.to_thread.run_sync(received.update, data)
    else:
        received.update(data)


def file_checksums(path: str, size: int, block_size: int) -> Checksums:
    """CRC32C of a local file's first ``size`` bytes (read in blocks, in the calling thread);
    ``ConfigurationError`` if it is shorter (it changed since its size was taken)."""
    sums = Checksums(md5=False)
    with open(path, "rb") as f:
        while sums.size < size:
            block = f.read(min(block_size, size - sums.size))
            if not block:
                raise ConfigurationError(f"{path!r} got shorter while it was being read")
            sums.update(block)
    return sums
