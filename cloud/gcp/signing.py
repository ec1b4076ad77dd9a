"""V4 signed URLs (``GOOG4-RSA-SHA256``) signed locally with a service-account key.

https://cloud.google.com/storage/docs/access-control/signing-urls-manually
"""

from __future__ import annotations

import binascii
import hashlib
from datetime import datetime, timezone
from urllib.parse import quote, urlsplit

from cloud.common.exceptions import ConfigurationError

__all__ = ["MAX_EXPIRES", "SIGNABLE_METHODS", "sign_v4_url", "string_to_sign"]

MAX_EXPIRES = 7 * 24 * 3600
"""GCS refuses V4 signatures valid for more than seven days."""

SIGNABLE_METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE"})


def _canonical_query(params: dict[str, str]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(params.items()))


def string_to_sign(
    *,
    method: str,
    host: str,
    canonical_uri: str,
    query: dict[str, str],
    timestamp: str,
    scope: str,
) -> str:
    """The V4 string to sign for a request with only the ``host`` header signed."""
    canonical_request = "\n".join(
        [method, canonical_uri, _canonical_query(query), f"host:{host}\n", "host", "UNSIGNED-PAYLOAD"]
    )
    digest = hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    return "\n".join(["GOOG4-RSA-SHA256", timestamp, scope, digest])


def sign_v4_url(
    *,
    endpoint: str,
    bucket: str,
    object_name: str,
    method: str,
    expires: int,
    client_email: str,
    private_key_pem: str,
    now: datetime | None = None,
) -> str:
    """Return a V4 signed URL for ``method`` on ``bucket/object_name`` at ``endpoint``
    (``https://storage.googleapis.com`` or an emulator's root), valid ``expires`` seconds."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    method = method.upper()
    if method not in SIGNABLE_METHODS:
        raise ConfigurationError(f"cannot sign method {method!r}: use one of {', '.join(sorted(SIGNABLE_METHODS))}")
    if not isinstance(expires, int) or not 1 <= expires <= MAX_EXPIRES:
        raise ConfigurationError(f"expires must be 1 to {MAX_EXPIRES} seconds (seven days)")
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode("utf-8"), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            "the service-account private key cannot be loaded (not an unencrypted PEM key)"
        ) from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigurationError("the service-account private key is not an RSA key")

    parts = urlsplit(endpoint)
    host = parts.netloc
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    timestamp = moment.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{moment.strftime('%Y%m%d')}/auto/storage/goog4_request"
    canonical_uri = f"{parts.path.rstrip('/')}/{bucket}/{quote(object_name, safe='/~')}"
    query = {
        "X-Goog-Algorithm": "GOOG4-RSA-SHA256",
        "X-Goog-Credential": f"{client_email}/{scope}",
        "X-Goog-Date": timestamp,
        "X-Goog-Expires": str(expires),
        "X-Goog-SignedHeaders": "host",
    }
    to_sign = string_to_sign(
        method=method, host=host, canonical_uri=canonical_uri, query=query, timestamp=timestamp, scope=scope
    )
    signature = key.sign(to_sign.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return (
        f"{parts.scheme}://{host}{canonical_uri}?{_canonical_query(query)}"
        f"&X-Goog-Signature={binascii.hexlify(signature).decode('ascii')}"
    )
