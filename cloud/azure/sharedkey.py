"""Azure Storage SharedKey signing: the ``Authorization`` header of a request, computed as
azure-storage-blob's ``SharedKeyCredentialPolicy`` computes it (the same string-to-sign,
HMAC-SHA256 with the account key).

Used by the direct blob requests (:mod:`cloud.azure.direct`); a test checks that the header
equals the SDK policy's for the same requests.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import urlsplit

__all__ = ["SharedKeySigner"]

# The standard headers of the string-to-sign, in Azure's order ("byte_range" is the SDK's:
# no request has such a header, so it always signs an empty line).
_STANDARD = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "byte_range",
)


@functools.lru_cache(maxsize=256)
def _sorted_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """The ``x-ms-`` header names in the order the SDK signs them (its emulation of the
    service's sort; cached: a client sends few distinct header sets)."""
    from azure.storage.blob._shared.authentication import _storage_header_sort

    return tuple(name for name, _ in _storage_header_sort([(name, "") for name in names]))


@functools.lru_cache(maxsize=4096)
def _canonical_path(url: str) -> str:
    # The SDK signs the path as aiohttp's URL renders it (its aiohttp-transport branch).
    from yarl import URL  # loaded with aiohttp, on the first request

    return str(URL(urlsplit(url).path))


class SharedKeySigner:
    """Signs requests with an account's shared key (never shown in ``repr``)."""

    __slots__ = ("_account", "_key")

    def __init__(self, account_name: str, account_key: str) -> None:
        self._account = account_name
        self._key = base64.b64decode(account_key)

    def __repr__(self) -> str:
        return f"<SharedKeySigner account={self._account!r}>"

    def string_to_sign(self, method: str, url: str, headers: Mapping[str, str]) -> str:
        """The string-to-sign of a request without query parameters."""
        lower = {name.lower(): value for name, value in headers.items() if value}
        if lower.get("content-length") == "0":
            del lower["content-length"]
        standard = "\n".join(lower.get(name, "") for name in _STANDARD)
        x_ms = {name.lower(): value for name, value in headers.items() if name.startswith("x-ms-")}
        canonical = "".join(f"{name}:{x_ms[name]}\n" for name in _sorted_names(tuple(x_ms)))
        return f"{method}\n{standard}\n{canonical}/{self._account}{_canonical_path(url)}"

    def authorization(self, method: str, url: str, headers: Mapping[str, str]) -> str:
        """The ``Authorization`` header value for the request."""
        signed = hmac.new(self._key, self.string_to_sign(method, url, headers).encode("utf-8"), hashlib.sha256)
        return f"SharedKey {self._account}:{base64.b64encode(signed.digest()).decode('ascii')}"
