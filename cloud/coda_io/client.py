"""CodaClient: every operation of Coda API v1 on one pooled ``httpx.AsyncClient``."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, TypeVar
from urllib.parse import urlsplit

from cloud.common.base import CloudClient
from cloud.common.enums import CloudProvider
from cloud.common.exceptions import (
    BadRequestError,
    CloudError,
    ConfigurationError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    ValidationIssue,
    error_for_status,
)
from cloud.common.files import atomic_destination
from cloud.common.logs import get_logger, redact_library_logger
from cloud.common.operations import OperationRunner
from cloud.common.pagination import AsyncPaginator, Page
from cloud.common.redaction import redact, scrub_exception
from cloud.common.retry import RetryPolicy, parse_retry_after

from ._table import OPERATIONS_BY_ID
from ._wire import encode_body, encode_query
from .convenience import CodaConvenience
from .limiter import CodaRateLimiter, CodaRateLimits
from .spec import OperationSpec
from .types import JSONMapping, JSONObject
from .validation import check_arguments

if TYPE_CHECKING:
    import httpx  # loaded by the first request (_session), not with this module

__all__ = ["DEFAULT_BASE_URL", "CodaClient", "CodaPaginator"]

T = TypeVar("T")

DEFAULT_BASE_URL = "https://coda.io/apis/v1"
"""Where Coda API v1 lives."""

TOKEN_ENV = "CODA_API_TOKEN"
"""The environment variable read when no ``api_token`` is given."""

_DEFAULT_HTTP_TIMEOUT = 60.0
_BODY_EXCERPT = 500
_REQUEST_ID_HEADERS = ("x-request-id", "x-coda-request-id", "x-amzn-requestid")
_USER_AGENT = "codomyrmex-cloud (coda_io)"


class CodaPaginator(AsyncPaginator[T]):
    """An :class:`~cloud.common.pagination.AsyncPaginator` that also remembers the
    ``nextSyncToken`` Coda sends with the last page of ``list_rows`` (``None`` until then)."""

    next_sync_token: str | None = None


class CodaClient(CodaConvenience, CloudClient):
    """Async client of the Coda API v1: one coroutine method per operation.

    ``CodaClient(api_token=...)`` (or ``$CODA_API_TOKEN``) authenticates with a bearer
    token; construction does no I/O and the connection pool opens on the first call.  Every
    request goes through a token-bucket limiter per rate class (``rate_limits``: a
    :class:`CodaRateLimits`, or a :class:`CodaRateLimiter` shared by several clients of one
    token -- across processes and machines with an SQLite or Redis ``backend``), then through
    the retry policy: a 429 is retried for any method (honouring ``Retry-After``), a 5xx or a
    lost connection only for GET, PUT and DELETE.  Failures raise
    the typed errors of :mod:`cloud.common.exceptions`.  ``timeout`` bounds each attempt
    (waiting for the limiter included); every method also takes ``timeout=``.
    """

    provider: ClassVar[CloudProvider] = CloudProvider.CODA

    def __init__(
        self,
        *,
        api_token: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        rate_limits: CodaRateLimits | CodaRateLimiter | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__()
        token = api_token if api_token is not None else os.environ.get(TOKEN_ENV)
        if token is None or not token.strip():
            raise ConfigurationError(f"no Coda API token: pass api_token= or set ${TOKEN_ENV}", provider="coda")
        token = token.strip()
        if any(ch in token for ch in "\r\n\0") or any(ch.isspace() for ch in token):
            raise ConfigurationError("the Coda API token contains whitespace or control characters", provider="coda")
        self._token = token
        self.base_url = _check_base_url(base_url)
        if timeout is not None and not timeout > 0:
            raise ConfigurationError("timeout must be positive", provider="coda")
        if isinstance(rate_limits, CodaRateLimiter):
            self.rate_limiter = rate_limits
        elif rate_limits is None or isinstance(rate_limits, CodaRateLimits):
            self.rate_limiter = CodaRateLimiter(rate_limits)
        else:
            raise ConfigurationError("rate_limits must be CodaRateLimits, CodaRateLimiter or None", provider="coda")
        self._timeout = timeout
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._closed = False
        self._logger = get_logger("coda")
        self._runner = OperationRunner(
            provider="coda",
            translate=self._translate,
            retry=retry,
            stats=self.stats,
            timeout=timeout,
            secrets=lambda: [self._token],
            logger=self._logger,
        )

    def __repr__(self) -> str:
        return f"<CodaClient base_url={self.base_url!r} token=***>"

    # -- session -----------------------------------------------------------------------------

    def _session(self) -> httpx.AsyncClient:
        if self._closed:
            raise RuntimeError("this CodaClient is closed")
        if self._http is None:
            import httpx

            redact_library_logger("httpx")
            timeout = self._timeout if self._timeout is not None else _DEFAULT_HTTP_TIMEOUT
            self._http = httpx.AsyncClient(
                transport=self._transport,
                timeout=httpx.Timeout(timeout),
                headers={"Accept": "application/json", "User-Agent": _USER_AGENT},
                follow_redirects=False,
                trust_env=self._transport is None,
            )
        return self._http

    async def aclose(self) -> None:
        """Close the connection pool.  Idempotent; the client cannot be used afterwards."""
        self._closed = True
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()

    # -- the error table -----------------------------------------------------------------------

    def _translate(self, exc: BaseException, operation: str) -> CloudError | None:
        """Coda's error table: HTTP errors and httpx failures into the common tree."""
        import httpx

        if isinstance(exc, httpx.HTTPError):
            scrub_exception(exc, [self._token])
        if isinstance(exc, httpx.HTTPStatusError):
            return self._error_from_response(exc.response)
        if isinstance(exc, httpx.TimeoutException):
            return RequestTimeoutError(f"no answer from Coda in time ({type(exc).__name__})")
        if isinstance(exc, httpx.UnsupportedProtocol):
            return ConfigurationError(f"unsupported URL scheme: {exc}")
        if isinstance(exc, httpx.RequestError):
            return TransportError(f"could not talk to Coda ({type(exc).__name__}: {exc})")
        if isinstance(exc, httpx.InvalidURL):
            return ConfigurationError(f"invalid URL: {exc}")
        return None

    def _error_from_response(self, response: httpx.Response) -> CloudError:
        status = response.status_code
        text = _safe_text(response)
        excerpt = redact(text[:_BODY_EXCERPT], [self._token]) or None
        payload: object = None
        try:
            payload = json.loads(text) if text else None
        except ValueError:
            payload = None
        status_message: str | None = None
        detail: str | None = None
        issues: list[ValidationIssue] = []
        if isinstance(payload, dict):
            raw_status = payload.get("statusMessage")
            raw_message = payload.get("message")
            status_message = raw_status if isinstance(raw_status, str) else None
            detail = raw_message if isinstance(raw_message, str) else None
            issues = _validation_issues(payload, [self._token])
        if status_message is None:
            status_message = response.reason_phrase or None
        message = f"Coda answered HTTP {status}"
        if status_message:
            message += f" {status_message}"
        if detail:
            message += f": {detail}"
        elif not isinstance(payload, dict):
            kind = response.headers.get("content-type", "no content type").split(";")[0]
            message += f" with a non-JSON body ({kind})"
        if issues:
            message += " [" + "; ".join(f"{issue.path}: {issue.message}" for issue in issues) + "]"
        request_id = next((response.headers[h] for h in _REQUEST_ID_HEADERS if h in response.headers), None)
        error = error_for_status(
            status,
            message,
            code=status_message,
            request_id=request_id,
            body=excerpt,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
        if isinstance(error, BadRequestError):
            error.validation_errors = issues
        return error

    # -- the two primitives of the generated methods ----------------------------------------

    async def _call(
        self,
        operation_id: str,
        path_args: tuple[object, ...],
        *,
        query: Mapping[str, object] | None = None,
        body: JSONMapping | None = None,
        timeout: float | None = None,
    ) -> JSONObject:
        spec = OPERATIONS_BY_ID[operation_id]
        return await self._send(spec, path_args, query=query, body=body, timeout=timeout)

    def _paginate(
        self,
        operation_id: str,
        path_args: tuple[object, ...],
        *,
        query: Mapping[str, object],
        limit: int | None,
        page_token: str | None,
        build: Callable[[JSONObject], T],
        timeout: float | None,
    ) -> AsyncPaginator[T]:
        spec = OPERATIONS_BY_ID[operation_id]
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ConfigurationError(f"{spec.name}: limit must be a positive integer", provider="coda")
        # Validate the path and query now, so mistakes surface before any I/O.
        spec.render_path(path_args)
        check_arguments(spec, path_args, {**query, "limit": limit})
        encode_query(query)
        fixed = dict(query)

        async def fetch(token: str | None) -> Page[T]:
            params = dict(fixed)
            if limit is not None:
                params["limit"] = limit
            if token:
                params["pageToken"] = token
            data = await self._send(spec, path_args, query=params, timeout=timeout)
            raw_items = data.get("items")
            items = [build(item) for item in raw_items if isinstance(item, dict)] if isinstance(raw_items, list) else []
            next_token = data.get("nextPageToken")
            sync_token = data.get("nextSyncToken")
            if isinstance(sync_token, str) and sync_token:
                paginator.next_sync_token = sync_token
            return Page(items, next_token if isinstance(next_token, str) and next_token else None)

        paginator: CodaPaginator[T] = CodaPaginator(fetch, start_token=page_token)
        return paginator

    async def _send(
        self,
        spec: OperationSpec,
        path_args: tuple[object, ...],
        *,
        query: Mapping[str, object] | None = None,
        body: JSONMapping | None = None,
        timeout: float | None = None,
    ) -> JSONObject:
        """One API request with limiter, retries and error translation; the JSON object back."""
        with self._runner.errors(spec.name):  # argument mistakes: ConfigurationError, before any I/O
            url = self.base_url + spec.render_path(path_args)
            check_arguments(spec, path_args, query, body)
            params = encode_query(query or {})
            content = encode_body(body) if body is not None else None
        headers = {"Authorization": f"Bearer {self._token}"}
        if content is not None:
            headers["Content-Type"] = "application/json"
        rate_class = spec.rate_class
        limiter = self.rate_limiter

        async def attempt() -> JSONObject:
            session = self._session()
            async with limiter.slot(rate_class):
                response = await session.request(spec.method, url, params=params, content=content, headers=headers)
            if content is not None:
                self.stats.add_sent(len(content))
            self.stats.add_received(len(response.content))
            if not response.is_success:
                import httpx

                raise httpx.HTTPStatusError(f"HTTP {response.status_code}", request=response.request, response=response)
            return _json_object(response)

        return await self._runner.call(spec.name, attempt, idempotent=spec.idempotent, timeout=timeout)

    async def _download(self, url: str, path: Path, *, timeout: float | None) -> int:
        """Fetch a download link into ``path`` atomically, *without* the API token."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ServerError("Coda returned an unusable download link", provider="coda", operation="export_page")

        async def attempt() -> int:
            session = self._session()
            # No Authorization header here: the link may point to another host (file storage).
            async with session.stream("GET", url, headers={"Accept": "*/*"}, follow_redirects=True) as response:
                if not response.is_success:
                    import httpx

                    await response.aread()
                    raise httpx.HTTPStatusError(
                        f"HTTP {response.status_code}", request=response.request, response=response
                    )
                async with atomic_destination(path) as destination:
                    async for chunk in response.aiter_bytes():
                        await destination.write(chunk)
                    written = destination.bytes_written
            self.stats.add_received(written)
            return written

        return await self._runner.call("export_page", attempt, idempotent=True, timeout=timeout)


def _check_base_url(base_url: str) -> str:
    if not isinstance(base_url, str):
        raise ConfigurationError("base_url must be a string", provider="coda")
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"base_url must be an http(s) URL, got {base_url!r}", provider="coda")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise ConfigurationError("base_url must not carry credentials, a query or a fragment", provider="coda")
    return base_url.strip().rstrip("/")


def _validation_issues(payload: Mapping[str, object], secrets: list[str]) -> list[ValidationIssue]:
    """``codaDetail.validationErrors`` of a 400 body (malformed entries left out)."""
    detail = payload.get("codaDetail")
    raw = detail.get("validationErrors") if isinstance(detail, dict) else None
    if not isinstance(raw, list):
        return []
    return [
        ValidationIssue(path=redact(item["path"], secrets), message=redact(item["message"], secrets))
        for item in raw
        if isinstance(item, dict) and isinstance(item.get("path"), str) and isinstance(item.get("message"), str)
    ]


def _safe_text(response: httpx.Response) -> str:
    try:
        return response.text
    except (UnicodeDecodeError, LookupError):
        return response.content.decode("utf-8", errors="replace")


def _json_object(response: httpx.Response) -> JSONObject:
    """The body of a successful answer: a JSON object (``{}`` when empty)."""
    if not response.content.strip():
        return {}
    try:
        data = json.loads(response.content)
    except ValueError as exc:
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        raise ServerError(
            f"Coda answered HTTP {response.status_code} with a body that is not JSON ({kind})",
            status_code=response.status_code,
        ) from exc
    if not isinstance(data, dict):
        raise ServerError(
            f"Coda answered HTTP {response.status_code} with JSON that is not an object",
            status_code=response.status_code,
        )
    return data
