"""Checks of S3 arguments and settings, all run before any I/O."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from cloud.common.exceptions import ConfigurationError

__all__ = ["check_bucket_name", "check_endpoint_url", "check_region", "is_aws_endpoint"]

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_LEGACY_BUCKET = re.compile(r"^[A-Za-z0-9._-]{3,255}$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--table-s3")
# botocore's own rule for a region name, and the shape of AWS's regions (eu-west-1, us-gov-east-1).
_REGION = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
_AWS_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")
_AWS_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


def check_bucket_name(bucket: str, *, creating: bool = False) -> str:
    """Reject names S3 does not accept.

    Creating a bucket applies S3's naming rules: 3 to 63 characters, lower-case letters,
    digits, dots and hyphens, starting and ending with a letter or digit, no ``..``, not an
    IP address, none of the reserved prefixes and suffixes.  Other calls also accept the
    legacy names older buckets may have (up to 255 characters, upper case, underscores) and
    access point ARNs.
    """
    if not isinstance(bucket, str) or not bucket:
        raise ConfigurationError("bucket name must be a non-empty string")
    if not creating:
        if _LEGACY_BUCKET.match(bucket) or (
            bucket.startswith("arn:") and "/" in bucket and bucket.isprintable() and " " not in bucket
        ):
            return bucket
        raise ConfigurationError(f"invalid S3 bucket name {bucket[:80]!r}")
    problem = _bucket_problem(bucket)
    if problem:
        raise ConfigurationError(f"invalid S3 bucket name {bucket[:80]!r}: {problem}")
    return bucket


def _bucket_problem(bucket: str) -> str | None:
    if not 3 <= len(bucket) <= 63:
        return "it must be 3 to 63 characters long"
    if not _BUCKET.match(bucket):
        return "use lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit"
    if ".." in bucket:
        return "it must not contain two adjacent dots"
    try:
        ipaddress.IPv4Address(bucket)
    except ValueError:
        pass
    else:
        return "it must not look like an IP address"
    if bucket.startswith(_RESERVED_PREFIXES):
        return f"it must not start with {', '.join(_RESERVED_PREFIXES)}"
    if bucket.endswith(_RESERVED_SUFFIXES):
        return f"it must not end with {', '.join(_RESERVED_SUFFIXES)}"
    return None


def check_endpoint_url(endpoint_url: str | None) -> str | None:
    """An endpoint must be an absolute ``http://`` or ``https://`` URL with a host."""
    if endpoint_url is None:
        return None
    if not isinstance(endpoint_url, str) or not endpoint_url.strip():
        raise ConfigurationError("endpoint_url must be a non-empty URL such as 'https://s3.example.com'")
    url = endpoint_url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"endpoint_url must start with http:// or https:// (got {url[:100]!r}); "
            f"for example 'http://{url[:60]}' for a local S3-compatible store"
        )
    if "@" in parts.netloc:
        raise ConfigurationError("endpoint_url must not contain user credentials; pass credentials= instead")
    if parts.query or parts.fragment:
        raise ConfigurationError("endpoint_url must not have a query string or fragment")
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ConfigurationError(f"endpoint_url has an invalid port: {url[:100]!r}") from exc
    if not parts.hostname:
        raise ConfigurationError(f"endpoint_url has no host name: {url[:100]!r}")
    return url


def is_aws_endpoint(endpoint_url: str | None) -> bool:
    """Whether requests go to AWS itself (no endpoint, or an ``*.amazonaws.com`` host)."""
    if endpoint_url is None:
        return True
    host = (urlsplit(endpoint_url).hostname or "").lower()
    return host.endswith(_AWS_HOST_SUFFIXES)


def check_region(region: str | None, *, aws: bool) -> str | None:
    """A region must be a valid host label; on AWS it must also look like an AWS region."""
    if region is None:
        return None
    if not isinstance(region, str) or not _REGION.match(region):
        raise ConfigurationError(
            f"invalid region {str(region)[:80]!r}: use a region name such as 'eu-west-1' "
            "(letters, digits and hyphens only)"
        )
    if aws and not _AWS_REGION.match(region):
        raise ConfigurationError(
            f"invalid AWS region {region!r}: use an AWS region name such as 'us-east-1' or 'eu-west-1' "
            "(other names are accepted only with endpoint_url= for S3-compatible stores)"
        )
    return region
