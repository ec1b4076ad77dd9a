"""Checks and parsing done before any I/O: container names, connection strings, keys."""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cloud.common.exceptions import ConfigurationError

__all__ = [
    "AZURITE_ACCOUNT",
    "AZURITE_KEY",
    "ConnectionInfo",
    "account_name_from_url",
    "check_account_key",
    "check_account_url",
    "check_container_name",
    "parse_connection_string",
    "settings_from_environment",
]

_CONTAINER = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$")
_SYSTEM_CONTAINERS = frozenset({"$root", "$web", "$logs"})

AZURITE_ACCOUNT = "devstoreaccount1"
"""Account name of the storage emulator (``UseDevelopmentStorage=true``)."""
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
"""The emulator's published, well-known account key (not a secret)."""


def check_container_name(name: str) -> str:
    """Reject names Azure does not accept as container names, before any I/O.

    3 to 63 characters: lower-case letters, digits and single hyphens, starting and ending
    with a letter or digit (plus the system containers ``$root``, ``$web``, ``$logs``).
    """
    if isinstance(name, str) and name in _SYSTEM_CONTAINERS:
        return name
    if not isinstance(name, str) or not 3 <= len(name) <= 63 or not _CONTAINER.match(name):
        shown = repr(name[:70]) if isinstance(name, str) else type(name).__name__
        raise ConfigurationError(
            f"invalid Azure container name {shown}: use 3-63 lower-case letters, digits and single "
            "hyphens, starting and ending with a letter or digit"
        )
    return name


def check_account_key(key: str) -> str:
    """An account key must be base64 (Azure keys are 64 bytes, base64-encoded)."""
    try:
        base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ConfigurationError("the Azure account key is not valid base64") from None
    return key


@dataclass(frozen=True)
class ConnectionInfo:
    """What a connection string says (secrets hidden from ``repr``)."""

    account_url: str
    account_name: str | None
    account_key: str | None = field(default=None, repr=False)
    sas_token: str | None = field(default=None, repr=False)


def parse_connection_string(connection_string: str) -> ConnectionInfo:
    """Parse an Azure Storage connection string (``Key=Value;...``) without echoing it in
    errors (it holds the account key)."""
    if not isinstance(connection_string, str) or not connection_string.strip(" ;"):
        raise ConfigurationError("connection_string is empty")
    settings: dict[str, str] = {}
    for part in connection_string.strip().rstrip(";").split(";"):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ConfigurationError("connection_string is malformed: expected 'Name=value' pairs separated by ';'")
        settings[key.strip().lower()] = value.strip()
    if settings.get("usedevelopmentstorage", "").lower() == "true":
        return ConnectionInfo(f"http://127.0.0.1:10000/{AZURITE_ACCOUNT}", AZURITE_ACCOUNT, AZURITE_KEY)
    name = settings.get("accountname") or None
    account_key = settings.get("accountkey") or None
    sas = settings.get("sharedaccesssignature") or None
    if account_key is not None:
        if name is None:
            raise ConfigurationError("connection_string has an AccountKey but no AccountName")
        check_account_key(account_key)
    url = settings.get("blobendpoint") or ""
    if not url:
        if name is None:
            raise ConfigurationError("connection_string needs a BlobEndpoint or an AccountName")
        protocol = settings.get("defaultendpointsprotocol", "https")
        suffix = settings.get("endpointsuffix", "core.windows.net")
        url = f"{protocol}://{name}.blob.{suffix}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError("connection_string has a BlobEndpoint that is not an http(s) URL")
    if name is None:
        name = account_name_from_url(url)
    return ConnectionInfo(url.rstrip("/"), name, account_key, sas)


def account_name_from_url(url: str) -> str | None:
    """The account name in an account URL: the first host label, or the first path segment
    for IP-style URLs (``http://127.0.0.1:10000/devstoreaccount1``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host and not re.match(r"^[\d.]+$|^localhost$|^\[", host) and "." in host:
        return host.split(".")[0]
    segment = parts.path.strip("/").split("/")[0]
    return segment or None


def check_account_url(url: str) -> str:
    """An account URL must be ``http(s)://host[...]``."""
    if not isinstance(url, str):
        raise ConfigurationError("account_url must be a string")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError("account_url must be an http(s) URL, e.g. https://ACCOUNT.blob.core.windows.net")
    return url


def settings_from_environment(environ: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    """``(connection_string, account_url)`` from the standard variables, used when the
    constructor is given neither: ``AZURE_STORAGE_CONNECTION_STRING``, else
    ``AZURE_STORAGE_ACCOUNT_URL`` or ``AZURE_STORAGE_ACCOUNT`` (then the credential is
    ``DefaultAzureCredential``)."""
    env = os.environ if environ is None else environ
    connection_string = env.get("AZURE_STORAGE_CONNECTION_STRING") or None
    if connection_string:
        return connection_string, None
    url = env.get("AZURE_STORAGE_ACCOUNT_URL") or None
    if url:
        return None, url
    account = env.get("AZURE_STORAGE_ACCOUNT") or None
    if account:
        return None, f"https://{account}.blob.core.windows.net"
    return None, None
