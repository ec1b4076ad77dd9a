"""The escape hatch: any request to Coda's API, paced, retried and translated like the
generated operations (for endpoints newer than the vendored spec)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from cloud.common.exceptions import ConfigurationError

from ._generated.table import OPERATIONS
from ._operation_base import OperationsBase
from .rate_classes import rate_class_for
from .spec import OperationSpec
from .types import JSONMapping, JSONObject, RateClass

__all__ = ["CodaDirect"]

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_RATE_CLASSES = ("read", "write", "write_doc_content", "list_docs", "analytics")
_TEMPLATES: list[tuple[re.Pattern[str], OperationSpec]] = []


def _known(method: str, path: str) -> OperationSpec | None:
    """The generated operation whose method and path template match, if any."""
    if not _TEMPLATES:
        for spec in OPERATIONS:
            text = re.escape(spec.path)
            for wire in spec.path_params:
                text = text.replace(re.escape("{" + wire + "}"), "[^/]+")
            _TEMPLATES.append((re.compile(text), spec))
    for pattern, spec in _TEMPLATES:
        if spec.method == method and pattern.fullmatch(path):
            return spec
    return None


def _check_path(path: object) -> str:
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
        raise ConfigurationError("request: path must start with one '/' (relative to base_url)", provider="coda")
    if any(ch in path for ch in "?#{}\\") or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in path):
        raise ConfigurationError(
            "request: path must not hold '?', '#', braces, backslashes, spaces or control characters"
            " (pass query= for the query string; percent-encode ids)",
            provider="coda",
        )
    if any(segment in (".", "..") for segment in path.split("/")):
        raise ConfigurationError("request: path must not hold '.' or '..' segments", provider="coda")
    return path


class CodaDirect(OperationsBase):
    """:meth:`request`, mixed into :class:`~cloud.coda_io.CodaClient`."""

    async def _send(
        self,
        spec: OperationSpec,
        path_args: tuple[object, ...],
        *,
        query: Mapping[str, object] | None = None,
        body: JSONMapping | None = None,
        timeout: float | None = None,
    ) -> JSONObject:
        """One API request with limiter, retries and error translation (the client's)."""
        raise NotImplementedError

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, object] | None = None,
        body: JSONMapping | None = None,
        rate_class: RateClass | None = None,
        timeout: float | None = None,
    ) -> JSONObject:
        """Send one request to any endpoint of Coda's API and return its JSON object.

        ``path`` is relative to ``base_url`` (``"/docs/AbCDeF/tables"``), ids in it already
        percent-encoded; ``query`` is encoded like the operations' (booleans ``true``/``false``,
        dates ISO 8601, lists comma-separated, ``None`` left out); ``body`` is sent as JSON.
        The request goes through the same limiter, retries (a 429 for any method, a 5xx only
        for GET, PUT and DELETE) and typed errors as the generated methods.  Its rate class is
        the matching generated operation's, else follows from the method and path (``GET``:
        ``read``, ``/analytics``: ``analytics``, other methods: ``write``); ``rate_class``
        overrides it.
        """
        verb = method.upper() if isinstance(method, str) else ""
        if verb not in _METHODS:
            raise ConfigurationError(f"request: method must be one of {', '.join(_METHODS)}", provider="coda")
        checked = _check_path(path)
        if rate_class is not None and rate_class not in _RATE_CLASSES:
            raise ConfigurationError(f"request: rate_class must be one of {', '.join(_RATE_CLASSES)}", provider="coda")
        known = _known(verb, checked)
        if rate_class is None:
            rate_class = known.rate_class if known is not None else rate_class_for("request", verb, checked)
        spec = _DirectSpec(
            operation_id="request",
            method=verb,
            path=checked,
            tag="",
            path_params=(),
            query_params=tuple(query or ()),
            body_fields=tuple(body or ()),
            has_body=body is not None,
            paginated=False,
            returns_request_id=False,
            success_status=200,
            direct_rate_class=rate_class,
        )
        return await self._send(spec, (), query=query, body=body, timeout=timeout)


@dataclass(frozen=True)
class _DirectSpec(OperationSpec):
    """An ad-hoc operation record whose rate class is given, not derived."""

    direct_rate_class: RateClass = "read"

    @property
    def rate_class(self) -> RateClass:
        """The rate class chosen for this request."""
        return self.direct_rate_class
