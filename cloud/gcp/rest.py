"""What the Google compute and functions clients share: JSON REST calls over one
``httpx.AsyncClient`` with gcloud-aio-auth tokens (the GCSClient's credential chain:
Application Default Credentials or a service-account file), the one runner, Google's error
shape, and ID tokens for calling HTTP functions."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import anyio

from cloud.common.enums import CloudProvider
from cloud.common.exceptions import (
    AuthenticationError,
    CloudError,
    ConfigurationError,
    RequestTimeoutError,
    ServerError,
    TransportError,
)
from cloud.common.lazy_open import OpenOnce
from cloud.common.models import CloudCredentials
from cloud.common.operations import OperationRunner
from cloud.common.pagination import AsyncPaginator, Page
from cloud.common.redaction import redact, scrub_exception
from cloud.common.retry import RetryPolicy
from cloud.common.stats import ClientStats
from cloud.common.types import StrPath

from .errors import error_from_response

if TYPE_CHECKING:
    import httpx

__all__ = ["CLOUD_PLATFORM_SCOPE", "GoogleHTTPError", "GoogleRESTClient", "translate"]

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
"""The OAuth scope the compute and functions clients ask for."""

_METADATA_IDENTITY = "http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/identity"
_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class GoogleHTTPError(Exception):
    """An HTTP error answer (status >= 400), raised inside an attempt and translated by
    :func:`translate` (never escapes a client)."""

    def __init__(self, status: int, body: str, headers: Mapping[str, str], *, token_request: bool = False) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.headers = dict(headers)
        self.token_request = token_request


def translate(exc: BaseException, operation: str) -> CloudError | None:
    """The error table of the Google REST clients: Google's JSON error answers through
    :func:`cloud.gcp.errors.error_from_response` (status, then ``errors[0].reason`` or
    ``status``), httpx transport failures as ``TransportError``/``RequestTimeoutError``.
    A vendor exception that becomes the error's cause is scrubbed of its credentials."""
    error = _translate(exc, operation)
    if error is not None:
        scrub_exception(exc)
    return error


def _translate(exc: BaseException, operation: str) -> CloudError | None:
    import httpx

    if isinstance(exc, GoogleHTTPError):
        return error_from_response(
            exc.status, exc.body, exc.headers, operation=operation, token_request=exc.token_request
        )
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeoutError(f"{operation} timed out ({type(exc).__name__})")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ConfigurationError(f"invalid Google API URL ({type(exc).__name__})")
    if isinstance(exc, httpx.TransportError):
        return TransportError(f"no answer from Google: {type(exc).__name__}: {redact(str(exc))[:300]}")
    if isinstance(exc, json.JSONDecodeError):
        return ServerError(f"Google sent a malformed answer ({type(exc).__name__})", code="MalformedResponse")
    return None


class GoogleRESTClient:
    """Mixin of the Google clients on httpx: configuration checked at construction, the
    session and token source opened on the first call, every request through the runner.

    Credentials, in order: ``credentials=CloudCredentials(token=...)`` (a bearer token sent
    as it is, e.g. ``gcloud auth print-access-token``), ``service_account_file=``, else
    Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's user
    credentials, the metadata server), all through gcloud-aio-auth.
    """

    default_api_root: ClassVar[str]
    stats: ClientStats
    provider: ClassVar[CloudProvider]

    def _configure(
        self,
        *,
        project: str | None,
        service_account_file: StrPath | None,
        credentials: CloudCredentials | None,
        api_root: str | None,
        retry: RetryPolicy | None,
        timeout: float | None,
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        if project is not None and (not isinstance(project, str) or not project.strip() or "/" in project):
            raise ConfigurationError("project must be a Google Cloud project id")
        if credentials is not None and not isinstance(credentials, CloudCredentials):
            raise ConfigurationError("credentials must be a CloudCredentials")
        root = (api_root or self.default_api_root).rstrip("/")
        if not root.startswith(("http://", "https://")):
            raise ConfigurationError(f"api_root must be an http(s) URL, not {root!r}")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
        ):
            raise ConfigurationError("timeout must be a positive number of seconds")
        self.project = project
        self.api_root = root
        self.service_account_file = os.fspath(service_account_file) if service_account_file is not None else None
        if self.service_account_file is None and credentials is not None and credentials.service_account_file:
            self.service_account_file = credentials.service_account_file
        self._credentials = credentials
        self._transport = transport
        self._runner = OperationRunner(
            provider=self.provider.value,
            translate=translate,
            retry=retry,
            stats=self.stats,
            timeout=timeout,
            secrets=self._secret_values,
        )
        self._http: httpx.AsyncClient | None = None
        self._token: Any = None
        self._service_data: dict[str, Any] = {}
        self._id_tokens: dict[str, tuple[str, float]] = {}
        self._once: OpenOnce[httpx.AsyncClient] = OpenOnce()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} project={self.project!r} api_root={self.api_root!r}>"

    def _secret_values(self) -> list[str]:
        values = list(self._credentials.secrets()) if self._credentials is not None else []
        for key in ("private_key", "client_secret", "refresh_token"):
            value = self._service_data.get(key)
            if isinstance(value, str) and value:
                values.append(value)
        token = getattr(self._token, "access_token", None)
        if isinstance(token, str) and token:
            values.append(token)
        values.extend(token for token, _ in self._id_tokens.values())
        return values

    # -- session ---------------------------------------------------------------------------

    async def _open(self, operation: str) -> httpx.AsyncClient:
        if self._http is not None:
            return self._http
        with self._runner.errors(operation):
            return await self._once.get(lambda: self._http, self._create)

    async def _create(self) -> None:
        static = self._credentials.token if self._credentials is not None else None
        if not static:
            from gcloud.aio.auth import Token

            service_file: io.StringIO | None = None
            if self.service_account_file is not None:
                try:
                    text = await anyio.Path(self.service_account_file).read_text()
                    self._service_data = json.loads(text)
                except (OSError, ValueError) as exc:
                    raise ConfigurationError(
                        f"cannot read the service-account file {self.service_account_file!r}: {type(exc).__name__}"
                    ) from None
                service_file = io.StringIO(text)
            try:
                self._token = Token(service_file=service_file, scopes=[CLOUD_PLATFORM_SCOPE])
            except Exception as exc:
                raise ConfigurationError(
                    f"could not load Google credentials ({type(exc).__name__}): check service_account_file "
                    "or GOOGLE_APPLICATION_CREDENTIALS"
                ) from None
            data = getattr(self._token, "service_data", None)
            if isinstance(data, dict):
                self._service_data = dict(data)
        import httpx

        self._http = httpx.AsyncClient(
            transport=self._transport,
            timeout=httpx.Timeout(None, connect=60.0),
            headers={"User-Agent": "codomyrmex-cloud"},
        )

    async def aclose(self) -> None:
        """Close the HTTP session and the token source.  Idempotent; a later call opens new
        ones."""
        http, self._http = self._http, None
        token, self._token = self._token, None
        with anyio.CancelScope(shield=True):
            if http is not None:
                await http.aclose()
            if token is not None:
                await token.close()

    async def _project(self) -> str:
        if self.project:
            return self.project
        found = os.environ.get("GOOGLE_CLOUD_PROJECT") or self._service_data.get("project_id")
        if not found and self._token is not None:
            found = await self._token.get_project()
        if not found:
            raise ConfigurationError("no Google Cloud project: pass project= or set GOOGLE_CLOUD_PROJECT")
        self.project = str(found)
        return self.project

    async def _access_token(self) -> str | None:
        if self._credentials is not None and self._credentials.token:
            return self._credentials.token
        if self._token is None:
            return None
        try:
            token = await self._token.get()
        except Exception as exc:
            if isinstance(exc, CloudError):
                raise
            raise AuthenticationError(f"could not obtain a Google access token ({type(exc).__name__})") from None
        return str(token) if token else None

    async def _id_token(self, audience: str) -> str | None:
        """An OpenID Connect ID token for ``audience`` (calling an HTTP function): signed
        by a service-account key, or from the metadata server; with a static token or user
        credentials, the access token (which Google accepts only where configured)."""
        cached = self._id_tokens.get(audience)
        if cached is not None and cached[1] > time.time() + 60:
            return cached[0]
        http = self._http
        assert http is not None
        data = self._service_data
        if self._credentials is not None and self._credentials.token:
            return self._credentials.token
        if data.get("type") == "service_account" and data.get("private_key"):
            import jwt

            now = int(time.time())
            token_uri = str(data.get("token_uri") or "https://oauth2.googleapis.com/token")
            claims = {
                "iss": data.get("client_email"),
                "sub": data.get("client_email"),
                "aud": token_uri,
                "iat": now,
                "exp": now + 3600,
                "target_audience": audience,
            }
            assertion = jwt.encode(claims, data["private_key"], algorithm="RS256")
            response = await http.post(token_uri, data={"grant_type": _JWT_BEARER, "assertion": assertion})
            if response.status_code >= 400:
                raise GoogleHTTPError(response.status_code, response.text, response.headers, token_request=True)
            token = str(response.json().get("id_token") or "")
        elif self._token is not None and not data:
            response = await http.get(
                _METADATA_IDENTITY,
                params={"audience": audience, "format": "full"},
                headers={"Metadata-Flavor": "Google"},
            )
            if response.status_code >= 400:
                raise GoogleHTTPError(response.status_code, response.text, response.headers, token_request=True)
            token = response.text.strip()
        else:
            return await self._access_token()
        if not token:
            raise AuthenticationError("Google answered without an ID token")
        self._id_tokens[audience] = (token, time.time() + 3000)
        return token

    # -- requests --------------------------------------------------------------------------

    async def _send(
        self,
        operation: str,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotent: bool = True,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """One JSON request through the runner; an error status raises the typed error."""
        http = await self._open(operation)

        async def call() -> dict[str, Any]:
            token = await self._access_token()
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            content = json.dumps(body).encode() if body is not None else None
            if content is not None:
                headers["Content-Type"] = "application/json"
                self.stats.add_sent(len(content))
            response = await http.request(method, url, params=params, content=content, headers=headers)
            self.stats.add_received(len(response.content))
            if response.status_code >= 400:
                raise GoogleHTTPError(response.status_code, response.text, response.headers)
            if not response.content:
                return {}
            answer = response.json()
            if not isinstance(answer, dict):
                raise json.JSONDecodeError("not a JSON object", response.text[:100], 0)
            return answer

        return await self._runner.call(operation, call, idempotent=idempotent, timeout=timeout)

    def _paginate(
        self,
        operation: str,
        url: Callable[[], Awaitable[str]],
        params: Mapping[str, str | int],
        *,
        items: Any,
        timeout: float | None,
    ) -> AsyncPaginator[Any]:
        """An :class:`AsyncPaginator` following Google's ``pageToken``/``nextPageToken``;
        ``url`` resolves the URL (and so the project) lazily, on the first page."""

        async def fetch(token: str | None) -> Page[Any]:
            call = dict(params)
            if token:
                call["pageToken"] = token
            answer = await self._send(operation, "GET", await url(), params=call, timeout=timeout)
            return Page(list(items(answer)), answer.get("nextPageToken") or None)

        return AsyncPaginator(fetch)
