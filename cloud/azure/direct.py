"""The hot blob requests (Put Blob, Get Blob, Get Blob Properties, Delete Blob) sent on the
SDK transport's own aiohttp session, signed with SharedKey, without azure-core's pipeline.

The requests carry what the SDK's pipeline sends for them (the same headers, API version,
User-Agent, client request id and date, the same URL quoting of the names, the same socket
timeouts) and their failures become what the SDK's would: transport failures are raised as
the azure-core exceptions its transport raises, and an answer with an unexpected status as
the exception the SDK's own code builds from it (:func:`raise_answer`), so the client's one
error table maps both.  A request is authorized as the SDK's credential policy would:
signed with the account's shared key, a SAS token's query appended to the URL as the SDK
appends it, or a bearer token taken from the SDK's own token policy (its cache, scope and
refresh).  Only azure-core's aiohttp transport as we build it and no proxy from the
environment: decided from the configuration when the service client is built, confirmed when
it opens (:func:`cloud.azure.blob_handles.direct_blobs`).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote

from .sharedkey import SharedKeySigner

if TYPE_CHECKING:
    import aiohttp
    from multidict import CIMultiDictProxy

__all__ = ["Answer", "DirectBlobs", "DirectStream", "blob_url", "metadata_of", "raise_answer", "read_loaded"]

_NO_BODY_HEADERS = ("Content-Type",)  # what azure-core skips on a request without a body


def blob_url(prefix: str, container: str, name: str) -> str:
    """A blob's URL as the SDK writes it (``prefix``: ``scheme://host[/path]/``)."""
    return f"{prefix}{quote(container.encode('utf-8'))}/{quote(name, safe='~/')}"


@dataclass(frozen=True)
class Answer:
    """A whole answer: status, reason, headers and body (read in full), and the aiohttp
    response it came in."""

    status: int
    reason: str
    headers: CIMultiDictProxy[str]
    body: bytes
    response: aiohttp.ClientResponse


class DirectBlobs:
    """Sends blob requests on ``session`` (the SDK transport's, opened and closed with it).

    ``prefix`` is the service URL (``scheme://host[/path]/``); ``api_version`` and
    ``user_agent`` are the SDK's for the same client.  Requests are authorized by one of
    ``signer`` (shared key), ``query`` (a SAS token's query, as the SDK's blob URLs carry
    it), ``sas`` (an ``AzureSasCredential``, read at each request as the SDK's policy reads
    it) or ``bearer`` (the SDK's bearer token policy, whose token cache is shared with the
    SDK path).  Never shows the key or a token."""

    __slots__ = (
        "_bearer",
        "_date",
        "_prefix",
        "_query",
        "_sas",
        "_session",
        "_signer",
        "_timeout",
        "_user_agent",
        "_version",
    )

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        prefix: str,
        api_version: str,
        user_agent: str,
        connection_timeout: float,
        read_timeout: float,
        signer: SharedKeySigner | None = None,
        query: str = "",
        sas: Any = None,
        bearer: Any = None,
    ) -> None:
        import aiohttp

        self._session = session
        self._prefix = prefix
        self._signer = signer
        self._query = query
        self._sas = sas
        self._bearer = bearer
        self._version = api_version
        self._user_agent = user_agent
        self._timeout = aiohttp.ClientTimeout(sock_connect=connection_timeout, sock_read=read_timeout)
        self._date: tuple[int, str] = (0, "")

    def __repr__(self) -> str:
        return f"<DirectBlobs {self._prefix!r}>"

    def url(self, container: str, name: str) -> str:
        """The blob's URL (with the SAS query the SDK appends to it)."""
        url = blob_url(self._prefix, container, name) + self._query
        sas = self._sas
        if sas is not None:
            # AzureSasCredentialPolicy.on_request (the blob URLs carry no query of their own).
            signature = sas.signature
            url = f"{url}?{signature[1:] if signature.startswith('?') else signature}"
        return url

    async def _bearer_token(self) -> str:
        # AsyncBearerTokenCredentialPolicy.on_request, on the SDK's own policy object: the
        # same scope and credential, and one token cache (and refresh) for both paths.
        policy = self._bearer
        if policy._token is None or policy._need_new_token():
            async with policy._lock:
                if policy._token is None or policy._need_new_token():
                    await policy._request_token(*policy._scopes)
        token: str = policy._token.token
        return token

    def needs_sdk(self, response: aiohttp.ClientResponse) -> bool:
        """Whether an unexpected answer is the SDK path's to deal with: a 401 with a bearer
        challenge (the SDK's token policy drops its token and, with a ``WWW-Authenticate``
        header, asks for a new one as the challenge says and sends the request again)."""
        if response.status != 401 or self._bearer is None:
            return False
        self._bearer._token = None  # as the policy does on any 401
        return "WWW-Authenticate" in response.headers

    def _now(self) -> str:
        second = int(time.time())
        cached = self._date
        if cached[0] != second:
            cached = self._date = (second, formatdate(second, usegmt=True))
        return cached[1]

    def _sign(self, method: str, url: str, headers: dict[str, str]) -> dict[str, str]:
        headers["x-ms-version"] = self._version
        headers["Accept"] = "application/xml"
        headers["User-Agent"] = self._user_agent
        headers["x-ms-date"] = self._now()
        headers["x-ms-client-request-id"] = str(uuid.uuid1())
        if self._signer is not None:
            headers["Authorization"] = self._signer.authorization(method, url, headers)
        return headers

    async def open(
        self, method: str, url: str, headers: dict[str, str], data: bytes | memoryview | None = None
    ) -> aiohttp.ClientResponse:
        """Send a request and return the response once its headers arrived (the body is the
        caller's to read or close).  Failures are azure-core's transport exceptions, as its
        aiohttp transport raises them."""
        import aiohttp
        from azure.core.exceptions import (
            ServiceRequestError,
            ServiceRequestTimeoutError,
            ServiceResponseError,
            ServiceResponseTimeoutError,
        )

        self._sign(method, url, headers)
        if self._bearer is not None:
            headers["Authorization"] = "Bearer " + await self._bearer_token()
        options: dict[str, Any] = {} if data else {"skip_auto_headers": _NO_BODY_HEADERS}
        try:
            return await self._session.request(
                method,
                url,
                headers=headers,
                data=data,
                timeout=self._timeout,
                allow_redirects=False,
                proxy=None,
                **options,
            )
        except aiohttp.ClientResponseError as err:
            raise ServiceResponseError(err, error=err) from err
        except aiohttp.ConnectionTimeoutError as err:
            raise ServiceRequestTimeoutError(err, error=err) from err
        except asyncio.TimeoutError as err:
            raise ServiceResponseTimeoutError(err, error=err) from err
        except aiohttp.ClientError as err:
            raise ServiceRequestError(err, error=err) from err

    async def send(
        self, method: str, url: str, headers: dict[str, str], data: bytes | memoryview | None = None
    ) -> Answer:
        """Send a request and read its whole answer (a body that breaks off is azure-core's
        ``IncompleteReadError``, as for the SDK's non-streamed answers)."""
        response = await self.open(method, url, headers, data)
        body = await read_loaded(response)
        return Answer(response.status, response.reason or "", response.headers, body, response)


async def read_loaded(response: aiohttp.ClientResponse) -> bytes:
    """The whole body, failures mapped as azure-core's ``load_body`` maps them; the
    connection is closed at once if the read does not finish (cancelled or broken)."""
    import aiohttp
    from azure.core.exceptions import (
        IncompleteReadError,
        ServiceRequestError,
        ServiceResponseError,
        ServiceResponseTimeoutError,
    )

    finished = False
    try:
        body = await response.read()
        finished = True
    except aiohttp.ClientPayloadError as err:
        raise IncompleteReadError(err, error=err) from err
    except aiohttp.ClientResponseError as err:
        raise ServiceResponseError(err, error=err) from err
    except asyncio.TimeoutError as err:
        raise ServiceResponseTimeoutError(err, error=err) from err
    except aiohttp.ClientError as err:
        raise ServiceRequestError(err, error=err) from err
    finally:
        if not finished:
            response.close()
    return body


class DirectStream:
    """A Get Blob answer whose body is still to be read, with the parts of the SDK's
    download stream the client reads (``response.internal_response``, ``response.headers``,
    ``properties.etag``, ``properties.content_range``): one reading and closing code serves
    both paths."""

    __slots__ = ("content_range", "etag", "headers", "internal_response")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.internal_response = response
        self.headers = response.headers
        self.etag = response.headers.get("ETag")
        self.content_range = response.headers.get("Content-Range")

    @property
    def response(self) -> DirectStream:
        """The answer (this object), as the SDK stream's ``response``."""
        return self

    @property
    def properties(self) -> DirectStream:
        """The blob's properties the client reads (this object), as the SDK stream's."""
        return self


async def raise_answer(
    method: str,
    url: str,
    headers: dict[str, str],
    response: aiohttp.ClientResponse,
    *,
    storage_error: bool,
) -> NoReturn:
    """Raise the SDK's exception for an answer with an unexpected status, built by the SDK's
    own code from it (the body loaded as azure-core loads it, its ``map_error`` table, and,
    with ``storage_error``, the blob client's ``process_storage_error``, which reads the
    service's error code and message from the body): the client's error table maps it as it
    maps the SDK path's, and it becomes the error's ``__cause__``, scrubbed of the request's
    ``Authorization`` as the SDK's are."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ResourceExistsError,
        ResourceNotFoundError,
        ResourceNotModifiedError,
        map_error,
    )
    from azure.core.pipeline.transport import AioHttpTransportResponse, HttpRequest
    from azure.storage.blob._shared.constants import DATA_BLOCK_SIZE
    from azure.storage.blob._shared.response_handlers import process_storage_error

    answer = AioHttpTransportResponse(HttpRequest(method, url, headers=headers), response, DATA_BLOCK_SIZE)
    await answer.load_body()
    error_map: dict[int, type[HttpResponseError]] = {
        401: ClientAuthenticationError,
        404: ResourceNotFoundError,
        409: ResourceExistsError,
        304: ResourceNotModifiedError,
    }
    try:
        map_error(status_code=answer.status_code, response=answer, error_map=error_map)
        raise HttpResponseError(response=answer)
    except HttpResponseError as error:
        if not storage_error:
            raise
        process_storage_error(error)


def metadata_of(headers: Mapping[str, str]) -> dict[str, str]:
    """The user metadata of an answer's ``x-ms-meta-*`` headers, as the SDK reads them."""
    return {k[10:]: v for k, v in headers.items() if k.lower().startswith("x-ms-meta-")}
