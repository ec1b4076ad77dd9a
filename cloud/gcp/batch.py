"""GCS JSON API batch requests: the ``multipart/mixed`` body of many object DELETEs and the
parts of the answer."""

from __future__ import annotations

import re
import secrets
from urllib.parse import quote

from cloud.common.exceptions import ServerError

__all__ = ["delete_batch_body", "parse_batch_response"]


def delete_batch_body(bucket: str, names: list[str]) -> tuple[str, bytes]:
    """The content type and body of one batch request deleting ``names`` from ``bucket``
    (part ``i`` has Content-ID ``<i>``)."""
    boundary = "batch_" + secrets.token_hex(16)
    lines: list[str] = []
    for index, name in enumerate(names):
        lines += [
            f"--{boundary}",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            f"Content-ID: <{index}>",
            "",
            f"DELETE /storage/v1/b/{bucket}/o/{quote(name, safe='')} HTTP/1.1",
            "",
            "",
        ]
    lines.append(f"--{boundary}--")
    return f"multipart/mixed; boundary={boundary}", "\r\n".join(lines).encode("utf-8")


def parse_batch_response(content_type: str, body: bytes) -> list[tuple[str | None, int, str]]:
    """``(content id, status, body)`` of each part of a ``multipart/mixed`` batch answer."""
    match = re.search(r'boundary="?([^";\s]+)"?', content_type)
    if not match:
        raise ServerError("GCS sent a batch answer without a multipart boundary", code="MalformedResponse")
    text = body.decode("utf-8", "replace")
    out: list[tuple[str | None, int, str]] = []
    for part in text.split("--" + match.group(1))[1:]:
        if part.startswith("--"):
            break
        status = re.search(r"HTTP/\d(?:\.\d)?\s+(\d{3})", part)
        if not status:
            continue
        cid = re.search(r"(?im)^content-id:\s*<?(?:response-)?([^>\s]+)>?", part[: status.start()])
        rest = part[status.end() :]
        sep = rest.find("\r\n\r\n")
        out.append((cid.group(1) if cid else None, int(status.group(1)), rest[sep + 4 :].strip() if sep >= 0 else ""))
    return out
