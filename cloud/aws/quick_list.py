"""A one-page S3 listing without aiobotocore, for callers bound by start-up time.

``cloud ls s3://bucket/folder/`` would spend most of its time importing aiobotocore (and
with it aiohttp, and httpx where installed) before it sends its one request.
:func:`quick_list` sends that request with the standard library's HTTP client, signed by
botocore's own SigV4 signer with the credentials of botocore's chain, and reads the body
with the walk of :mod:`cloud.aws.listing`.

It answers only where it does exactly what :class:`~cloud.aws.S3Client` would do, and
returns ``None`` for everything else so that the caller uses the client: a setting it
does not reproduce (a proxy, a CA bundle, FIPS or dual-stack endpoints, an endpoint or S3
options in the config file, a partition other than ``aws``, S3 Express and other special
bucket names), any answer but a ``200`` holding the whole listing in one page, and any
network error.  It never retries and never reports an error itself: the client retries,
follows region redirects and says what went wrong.
"""

from __future__ import annotations

import http.client
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote_plus, urlencode, urlsplit

from cloud.common.exceptions import ConfigurationError
from cloud.common.models import ObjectMetadata

from .validation import check_endpoint_url, check_region, is_aws_endpoint

__all__ = ["quick_list"]

SOCKET_TIMEOUT = 15.0
"""Seconds any one socket operation may take before the client is left to do the work."""

# Plain bucket names only: access-point aliases, S3 Express (``--x-s3``), object-lambda
# and other names with ``--`` or special suffixes go to the client.
_PLAIN_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")

# Regions of the ``aws`` partition (China, GovCloud and the isolated partitions have other
# endpoints and rules: the client handles them).
_AWS_PARTITION_REGION = re.compile(r"^(?:us|eu|ap|ca|sa|me|af|il|mx)-(?!gov-|iso)[a-z]+-[0-9]+$")

# Environment variables whose meaning this module reproduces (botocore reads all the
# others it knows; any other AWS_* variable may change the request, so the client runs).
_KNOWN_AWS_VARIABLES = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_CA_BUNDLE",
        "AWS_PAGER",
        "AWS_DEFAULT_OUTPUT",
        # Read by botocore's credential chain only (which this module runs, or which stops at
        # the environment's keys before reaching them).
        "AWS_EC2_METADATA_DISABLED",
        "AWS_EC2_METADATA_V1_DISABLED",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
        "AWS_METADATA_SERVICE_TIMEOUT",
        "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_ROLE_SESSION_NAME",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    }
)
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy")
_CA_VARIABLES = ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE")  # botocore's order

# Profile settings that change where or how botocore sends an S3 request.
_REQUEST_SETTINGS = frozenset(
    {
        "endpoint_url",
        "services",
        "s3",
        "ca_bundle",
        "use_fips_endpoint",
        "use_dualstack_endpoint",
        "defaults_mode",
        "ignore_configured_endpoint_urls",
        "request_checksum_calculation",
        "response_checksum_validation",
        "sigv4a_signing_region_set",
        "account_id_endpoint_mode",
        "proxy_ca_bundle",
        "proxy_client_cert",
        "proxy_use_forwarding_for_https",
    }
)


class _Unanswered(Exception):
    """The listing is left to the client."""


def quick_list(
    bucket: str, prefix: str, delimiter: str | None, options: Mapping[str, Any]
) -> list[ObjectMetadata] | None:
    """Every object (and common prefix, with ``delimiter``) under ``prefix`` in ``bucket``,
    in name order, as :meth:`S3Client.iter_objects <cloud.aws.S3Client.iter_objects>` with
    the constructor arguments ``options`` would give them, when one ``ListObjectsV2`` page
    holds them all; otherwise ``None``."""
    try:
        return _list(bucket, prefix, delimiter, options, os.environ)
    except (_Unanswered, ImportError):  # ImportError: botocore is not installed
        return None


def _list(
    bucket: str, prefix: str, delimiter: str | None, options: Mapping[str, Any], environ: Mapping[str, str]
) -> list[ObjectMetadata]:
    if not _PLAIN_BUCKET.match(bucket) or ".." in bucket or "--" in bucket or bucket.endswith("-s3alias"):
        raise _Unanswered
    if set(options) - {"endpoint_url", "region", "profile"}:
        raise _Unanswered
    if any(v.startswith("AWS_") and v not in _KNOWN_AWS_VARIABLES for v in environ):
        raise _Unanswered
    if any(environ.get(v) or environ.get(v.upper()) for v in _PROXY_VARIABLES):
        raise _Unanswered
    if any(v in environ and not environ[v].strip() for v in _CA_VARIABLES):
        raise _Unanswered  # botocore refuses a blank CA bundle, whatever the endpoint
    try:
        endpoint = check_endpoint_url(options.get("endpoint_url"))
    except ConfigurationError:
        raise _Unanswered from None
    if endpoint is not None and is_aws_endpoint(endpoint):
        raise _Unanswered  # an explicit amazonaws.com endpoint: the client's rules apply
    credentials, region = _credentials_and_region(options.get("profile"), options.get("region"), environ)
    try:
        check_region(region, aws=endpoint is None)
    except ConfigurationError:
        raise _Unanswered from None
    query = {"list-type": "2", "max-keys": "1000", "prefix": prefix, "encoding-type": "url"}
    if delimiter is not None:
        query["delimiter"] = delimiter
    url = _bucket_url(bucket, endpoint, region) + "?" + urlencode(query, quote_via=quote, safe="-_.~")
    body = _get(url, credentials, region or "us-east-1", environ)

    from . import listing
    from .timestamps import parse_timestamp

    parsed = listing.parse_list_objects_v2(body, parse_timestamp)
    if parsed is None or parsed.get("IsTruncated") is not False:
        raise _Unanswered
    if parsed.get("EncodingType") == "url":
        for entry in parsed.get("Contents", ()):
            entry["Key"] = unquote_plus(entry["Key"])
        for entry in parsed.get("CommonPrefixes", ()):
            entry["Prefix"] = unquote_plus(entry["Prefix"])
    return listing.page_objects(parsed, bucket)


def _credentials_and_region(
    profile: str | None, region: str | None, environ: Mapping[str, str]
) -> tuple[Any, str | None]:
    """botocore's credentials and region for ``profile``: read from the environment when
    that is all botocore would read, else from a botocore session (its whole chain)."""
    from botocore.credentials import ReadOnlyCredentials

    config_file = os.path.expanduser(environ.get("AWS_CONFIG_FILE") or "~/.aws/config")
    key, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    if profile is None and key and secret and not environ.get("AWS_PROFILE") and _empty(config_file):
        token = environ.get("AWS_SESSION_TOKEN") or environ.get("AWS_SECURITY_TOKEN") or None
        return ReadOnlyCredentials(key, secret, token), region or environ.get("AWS_DEFAULT_REGION") or None
    import botocore.session

    try:
        session = botocore.session.Session(profile=profile)
        if set(session.get_scoped_config()) & _REQUEST_SETTINGS:
            raise _Unanswered
        found = session.get_credentials()
        if found is None:
            raise _Unanswered  # the client reports missing credentials
        credentials = found.get_frozen_credentials()
        region = region or session.get_config_variable("region") or None
    except _Unanswered:
        raise
    except Exception:  # a missing profile, a failing credential source: the client says which
        raise _Unanswered from None
    return credentials, region


def _empty(path: str) -> bool:
    """Whether the file at ``path`` is missing or empty (``/dev/null`` too)."""
    try:
        return os.stat(path).st_size == 0
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _bucket_url(bucket: str, endpoint: str | None, region: str | None) -> str:
    """The URL botocore's endpoint rules give a request to ``bucket``: path style on a
    custom endpoint; on AWS, virtual-hosted unless the name holds a dot."""
    if endpoint is not None:
        return f"{endpoint.rstrip('/')}/{bucket}"
    if region is not None and not _AWS_PARTITION_REGION.match(region):
        raise _Unanswered
    host = "s3.amazonaws.com" if region in (None, "us-east-1") else f"s3.{region}.amazonaws.com"
    return f"https://{host}/{bucket}" if "." in bucket else f"https://{bucket}.{host}/"


def _get(url: str, credentials: Any, region: str, environ: Mapping[str, str]) -> bytes:
    """The body of a signed GET of ``url``, when S3 answers 200."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method="GET", url=url)
    S3SigV4Auth(credentials, "s3", region).add_auth(request)
    parts = urlsplit(url)
    target = parts.path + "?" + parts.query
    connection: http.client.HTTPConnection | None = None
    try:
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=SOCKET_TIMEOUT, context=_tls_context(environ)
            )
        else:
            connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=SOCKET_TIMEOUT)
        connection.request("GET", target, headers=dict(request.headers.items()))
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise _Unanswered
    except (OSError, http.client.HTTPException):  # ssl.SSLError is an OSError
        raise _Unanswered from None
    finally:
        if connection is not None:
            connection.close()
    return body


def _tls_context(environ: Mapping[str, str]) -> Any:
    """The trust store botocore verifies with: ``AWS_CA_BUNDLE``, else ``REQUESTS_CA_BUNDLE``,
    else its default bundle (certifi's when installed)."""
    import ssl

    from botocore.httpsession import get_cert_path

    for variable in _CA_VARIABLES:
        if variable in environ:
            return ssl.create_default_context(cafile=environ[variable])
    return ssl.create_default_context(cafile=get_cert_path(True))
