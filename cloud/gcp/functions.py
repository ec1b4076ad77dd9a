"""CloudFunctionsClient: the serverless contract on Google Cloud Functions (API v2, httpx,
gcloud-aio-auth tokens)."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from cloud.common.base import ServerlessClient, encode_payload
from cloud.common.enums import CloudProvider, ResourceState, ResourceType
from cloud.common.exceptions import ConfigurationError, FunctionError
from cloud.common.models import CloudCredentials, CloudResource, utc_datetime
from cloud.common.pagination import AsyncPaginator
from cloud.common.retry import RetryPolicy
from cloud.common.types import StrPath

from .rest import GoogleHTTPError, GoogleRESTClient

if TYPE_CHECKING:
    import httpx

__all__ = ["FUNCTION_STATES", "CloudFunctionsClient"]

FUNCTION_STATES: Mapping[str, ResourceState] = {
    "ACTIVE": ResourceState.ACTIVE,
    "DEPLOYING": ResourceState.DEPLOYING,
    "FAILED": ResourceState.FAILED,
    "DELETING": ResourceState.TERMINATED,
    "DETACHING": ResourceState.DEPLOYING,
    "DETACH_FAILED": ResourceState.ACTIVE,
    "UNKNOWN": ResourceState.UNKNOWN,
}
"""Cloud Functions v2 ``Function.state`` -> :class:`ResourceState`."""

_LOCATION = re.compile(r"[a-z]+(?:-[a-z0-9]+)+")
_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?")
_MAX_PAGE = 1000
_PAYLOAD_EXCERPT = 300


class CloudFunctionsClient(GoogleRESTClient, ServerlessClient):
    """The serverless contract on Google Cloud Functions (2nd gen, API v2).

    Credentials and ``api_root=`` (default ``https://cloudfunctions.googleapis.com``) as
    :class:`ComputeEngineClient`.  Function ids are ``location/name``
    (``us-central1/hello``), or just ``name`` when ``location=`` is given (listings then
    cover that location only; otherwise every location).  ``tags`` are the function's
    labels.

    :meth:`invoke_function` POSTs the payload to the function's HTTPS URL with an ID token
    for that URL (signed by the service-account key, or from the metadata server); an
    answer of 5xx is the function's own failure (:class:`FunctionError`), other error
    statuses the usual typed errors.  ``wait=False`` publishes the payload to the Pub/Sub
    topic of a function triggered by one (the asynchronous way to invoke a function on
    Google Cloud; ``pubsub_api_root=``, default ``https://pubsub.googleapis.com`` or
    ``api_root`` when that is given); an HTTP function has no asynchronous invocation and
    raises ``ConfigurationError``.
    """

    provider: ClassVar[CloudProvider] = CloudProvider.GCP
    default_api_root: ClassVar[str] = "https://cloudfunctions.googleapis.com"

    def __init__(
        self,
        *,
        project: str | None = None,
        location: str | None = None,
        service_account_file: StrPath | None = None,
        credentials: CloudCredentials | None = None,
        api_root: str | None = None,
        pubsub_api_root: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__()
        if location is not None and (not isinstance(location, str) or not _LOCATION.fullmatch(location)):
            raise ConfigurationError(f"invalid location {str(location)[:80]!r}: use a region such as 'us-central1'")
        self.location = location
        self._configure(
            project=project,
            service_account_file=service_account_file,
            credentials=credentials,
            api_root=api_root,
            retry=retry,
            timeout=timeout,
            transport=transport,
        )
        pubsub = pubsub_api_root or (api_root and self.api_root) or "https://pubsub.googleapis.com"
        if not pubsub.startswith(("http://", "https://")):
            raise ConfigurationError(f"pubsub_api_root must be an http(s) URL, not {pubsub!r}")
        self.pubsub_api_root = pubsub.rstrip("/")

    def _split(self, name: object) -> tuple[str, str]:
        if not isinstance(name, str):
            raise ConfigurationError("the function must be named 'location/name'")
        location, sep, short = name.rpartition("/")
        if not sep:
            location = self.location or ""
        if not _LOCATION.fullmatch(location) or not _NAME.fullmatch(short):
            raise ConfigurationError(
                f"invalid Cloud Functions name {name[:80]!r}: use 'location/name' (or a name with location=)"
            )
        return location, short

    async def _parent(self, location: str) -> str:
        return f"{self.api_root}/v2/projects/{quote(await self._project(), safe='')}/locations/{location}"

    def list_functions(
        self, *, page_size: int | None = None, timeout: float | None = None
    ) -> AsyncPaginator[CloudResource]:
        """List functions lazily (``pageSize`` pages of at most 1000), of ``location`` when
        the client has one, else of every location."""
        if page_size is not None and (isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1):
            raise ConfigurationError("page_size must be a positive integer")
        params: dict[str, str | int] = {} if page_size is None else {"pageSize": min(page_size, _MAX_PAGE)}
        location = self.location or "-"

        async def url() -> str:
            return f"{await self._parent(location)}/functions"

        return self._paginate(
            "list_functions",
            url,
            params,
            items=lambda answer: (self._resource(f) for f in answer.get("functions") or ()),
            timeout=timeout,
        )

    async def get_function(self, name: str, *, timeout: float | None = None) -> CloudResource:
        """Describe one function (``NotFoundError`` if missing)."""
        location, short = self._split(name)
        url = f"{await self._parent(location)}/functions/{short}"
        return self._resource(await self._send("get_function", "GET", url, timeout=timeout))

    async def invoke_function(
        self,
        name: str,
        payload: bytes | Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        timeout: float | None = None,
    ) -> bytes:
        """Call the function's URL with ``payload`` and return its answer (or, with
        ``wait=False``, publish it to the function's Pub/Sub trigger and return ``b""``).
        A 5xx answer raises :class:`FunctionError` with the function's body."""
        self._split(name)
        body = encode_payload(payload)
        function = await self.get_function(name, timeout=timeout)
        if not wait:
            await self._publish(function, body, timeout=timeout)
            return b""
        raw = function.raw
        url = str(raw.get("url") or (raw.get("serviceConfig") or {}).get("uri") or "")
        if not url.startswith(("https://", "http://")):
            raise ConfigurationError(f"function {name!r} has no HTTPS URL to invoke (is it HTTP-triggered?)")
        http = await self._open("invoke_function")
        content_type = "application/json" if isinstance(payload, Mapping) else "application/octet-stream"
        audience = url.split("?", 1)[0]

        async def call() -> bytes:
            token = await self._id_token(audience)
            headers = {"Content-Type": content_type}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            response = await http.post(url, content=body, headers=headers)
            self.stats.add_received(len(response.content))
            if response.status_code >= 500:
                raise FunctionError(
                    f"function {name!r} failed (HTTP {response.status_code}): {_excerpt(response.content)}",
                    function=name,
                    error_type=f"HTTP {response.status_code}",
                    payload=response.content,
                    status_code=response.status_code,
                )
            if response.status_code >= 400:
                raise GoogleHTTPError(response.status_code, response.text, response.headers)
            return response.content

        self.stats.add_sent(len(body))
        return await self._runner.call("invoke_function", call, idempotent=False, timeout=timeout)

    async def _publish(self, function: CloudResource, body: bytes, *, timeout: float | None) -> None:
        topic = str(((function.raw.get("eventTrigger") or {}).get("pubsubTopic")) or "")
        if not re.fullmatch(r"projects/[^/]+/topics/[^/]+", topic):
            raise ConfigurationError(
                f"function {function.id!r} is not triggered by a Pub/Sub topic: Cloud Functions has no "
                "asynchronous invocation of HTTP functions (use wait=True)"
            )
        message = {"messages": [{"data": base64.b64encode(body).decode()}]}
        await self._send(
            "invoke_function",
            "POST",
            f"{self.pubsub_api_root}/v1/{topic}:publish",
            body=message,
            idempotent=False,
            timeout=timeout,
        )

    def _resource(self, data: Mapping[str, Any]) -> CloudResource:
        full = str(data.get("name") or "")  # projects/p/locations/l/functions/f
        parts = full.split("/")
        location = parts[3] if len(parts) >= 6 else None
        short = parts[-1]
        labels = data.get("labels") or {}
        return CloudResource(
            id=f"{location}/{short}" if location else short,
            name=short,
            provider=CloudProvider.GCP,
            resource_type=ResourceType.FUNCTION,
            region=location,
            tags={str(k): str(v) for k, v in labels.items()},
            raw=dict(data),
            state=FUNCTION_STATES.get(str(data.get("state")), ResourceState.UNKNOWN),
            created=_timestamp(data.get("createTime") or data.get("updateTime")),
        )


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    text = value.replace("Z", "+00:00")
    # RFC 3339 with nanoseconds: keep microseconds
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        return utc_datetime(datetime.fromisoformat(text))
    except ValueError:
        return None


def _excerpt(data: bytes) -> str:
    text = data[:_PAYLOAD_EXCERPT].decode("utf-8", "replace")
    return text + ("..." if len(data) > _PAYLOAD_EXCERPT else "")
