"""Service-account key files, checked when a client opens: readable, JSON, a credential
type, and for a service account an RSA private key that loads."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cloud.common.exceptions import ConfigurationError

__all__ = ["check_private_key", "parse_key", "read_key_file"]


def read_key_file(path: str) -> str:
    """The text of a service-account key file (``ConfigurationError`` if unreadable)."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise ConfigurationError(f"cannot read service_account_file {path!r}: {exc.strerror or exc}") from None


def parse_key(text: str, path: str) -> dict[str, Any]:
    """A key file's JSON, refused before any I/O unless it is a usable credential."""
    try:
        data = json.loads(text)
    except ValueError:
        raise ConfigurationError(f"service_account_file {path!r} is not a JSON key file") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ConfigurationError(f"service_account_file {path!r} has no credential 'type'")
    if data["type"] == "service_account" and not (data.get("client_email") and data.get("private_key")):
        raise ConfigurationError(f"service_account_file {path!r} lacks client_email or private_key")
    check_private_key(data, f"service_account_file {path!r}")
    return data


def check_private_key(data: Mapping[str, Any], where: str) -> None:
    """Refuse a service-account key whose private key does not load as an RSA key: it would
    otherwise fail at each token request, inside the JWT library, with its own exception."""
    if data.get("type") != "service_account":
        return
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = serialization.load_pem_private_key(str(data.get("private_key", "")).encode("utf-8"), password=None)
    except Exception:  # ValueError, TypeError, UnsupportedAlgorithm: the key text says which
        key = None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigurationError(f"the private key in {where} cannot be loaded (not an unencrypted PEM RSA key)")
