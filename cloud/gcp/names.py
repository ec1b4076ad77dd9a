"""Bucket and object names GCS accepts, checked before any I/O."""

from __future__ import annotations

import re

from cloud.common.exceptions import ConfigurationError
from cloud.common.validation import check_object_name

__all__ = ["check_bucket_name", "check_object_name_for_gcs"]

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*[a-z0-9]$")


_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def check_bucket_name(bucket: str) -> str:
    """Reject names GCS refuses, before any I/O: 3-63 characters (222 with dots, 63 per
    dot-separated part) of lower-case letters, digits, ``-``, ``_`` and ``.``, starting and
    ending with a letter or digit, not an IP address, not starting with ``goog`` nor
    containing ``google``."""
    if not isinstance(bucket, str) or not 3 <= len(bucket) <= 222 or not _BUCKET_NAME.match(bucket):
        raise ConfigurationError(
            f"invalid GCS bucket name {bucket!r}: use 3-63 lower-case letters, digits, '-', '_' or '.', "
            "starting and ending with a letter or digit"
        )
    parts = bucket.split(".")
    if any(not 1 <= len(part) <= 63 for part in parts):
        raise ConfigurationError(f"invalid GCS bucket name {bucket!r}: each dot-separated part must be 1-63 characters")
    if _IPV4.match(bucket) or bucket.startswith("goog") or "google" in bucket:
        raise ConfigurationError(f"invalid GCS bucket name {bucket!r}: reserved by Google")
    return bucket


def check_object_name_for_gcs(name: str) -> str:
    check_object_name(name)
    if "\r" in name or "\n" in name:
        raise ConfigurationError("GCS object names must not contain carriage returns or line feeds")
    if name in (".", "..") or name.startswith(".well-known/acme-challenge/"):
        raise ConfigurationError(f"GCS does not allow the object name {name!r}")
    return name
