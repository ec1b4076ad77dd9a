"""Decoding a JSON answer body that may arrive corrupted.

``json.loads`` of bytes raises ``UnicodeDecodeError`` (not ``json.JSONDecodeError``) for a
body that is not valid UTF-8, e.g. one whose first byte was flipped on the way; the error
tables map ``json.JSONDecodeError`` to a retryable malformed-answer error, so :func:`loads`
raises that for both.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["loads"]


def loads(body: bytes) -> Any:
    """Decode a JSON document; ``json.JSONDecodeError`` when it is malformed, invalid UTF-8
    included."""
    try:
        return json.loads(body)
    except UnicodeDecodeError as exc:
        raise json.JSONDecodeError(f"the body is not valid UTF-8 ({exc.reason})", "", exc.start) from None
