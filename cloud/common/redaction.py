"""Keeping secrets out of messages, logs and reprs."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["redact", "redact_url"]

_PATTERNS = [
    # Authorization headers and bearer tokens.
    (re.compile(r"(?i)(authorization\s*[:=]\s*)(bearer\s+)?[^\s,;'\"]+"), r"\1\2***"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1***"),
    # Query-string signatures and keys (presigned URLs, SAS tokens).
    (
        re.compile(
            r"(?i)((?:x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential|sig|signature|accountkey|sharedaccesssignature|token|access_token|api_key|apikey|key)=)[^&\s;'\"]+"
        ),
        r"\1***",
    ),
    # AWS secret keys written as key=value in messages.
    (re.compile(r"(?i)(aws_secret_access_key\s*[:=]\s*)\S+"), r"\1***"),
]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with known secret values and secret-looking fields replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def redact_url(url: str) -> str:
    """Return ``url`` without user-info and with signature-like query values hidden."""
    url = re.sub(r"(?<=://)[^/@\s]+@", "***@", url)
    return redact(url)
