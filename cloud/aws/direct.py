"""S3's hot object requests sent without botocore's generic request pipeline.

For every ``GetObject``, ``PutObject``, ``HeadObject`` and ``DeleteObject`` the aiobotocore
client validates, serializes, emits some twenty events, resolves the endpoint, signs,
sends and parses.  :func:`direct_client` wraps an open client in a stand-in whose four
methods build the same request from a table derived from the operation's input shape,
sign it with botocore's own :class:`~botocore.auth.S3SigV4Auth` (the client's frozen
credentials, the endpoint's signing region and name), send it on the client's own
aiohttp session (its pool, TLS settings and timeouts) and read the answer with the
client's own response parser and error classes.  Every other method, and any call the
stand-in does not reproduce, goes to the client itself.

The stand-in is used only where it sends what the client would send; that is decided
up front from the configuration (:func:`direct_client` returns the client itself
otherwise): no proxy for the endpoint, the checksum settings botocore knows, SigV4,
and botocore's recursion-detection header not in play.  On AWS endpoints and others
alike it mirrors botocore's flexible checksums: a request carrying its own
``x-amz-checksum-*`` header is sent as is (one botocore would compute a checksum for
goes to the client), ``ChecksumMode`` is added where botocore adds it and a whole
answer carrying a checksum is read through aiobotocore's checksum-verifying body, as
botocore would.  The credentials are taken frozen for every request, as botocore's
signer takes them (refreshable ones refresh there), and the User-Agent carries the
features botocore registers for the request.  A handler registered on the client's
events after it was opened turns the direct path off (the client runs it).  Per
request, a parameter outside the table, metadata that is not ASCII, an endpoint the
ruleset gives extra headers, another auth scheme or a proxy, and an answer that is a
redirect (``301``, ``307``, or a ``400`` naming the region) are handed to the client;
after a redirect the bucket's route is resolved again (the client's redirector then
gives the bucket's region).
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = ["DIRECT_OPERATIONS", "ENABLED", "DirectS3Client", "direct_client"]

ENABLED = True
"""Whether clients opened from now on may take the direct path (a switch for A/B
measurements and tests; where the direct path does not apply it is not used anyway)."""

DIRECT_OPERATIONS: Mapping[str, str] = {
    "get_object": "GetObject",
    "put_object": "PutObject",
    "head_object": "HeadObject",
    "delete_object": "DeleteObject",
}
"""Client method -> S3 operation sent directly."""

_ROUTE_CACHE_LIMIT = 1024
_CHECKSUM_SETTINGS = frozenset({"when_required", "when_supported"})
_REDIRECT_CODES = frozenset({"AuthorizationHeaderMalformed", "IllegalLocationConstraintException"})
_HEADER_TYPES = frozenset({"string", "integer", "long"})
# The parameters the direct path sends (as the headers their input shape names); any
# other one (checksum modes and algorithms, customer keys, request payer...) may need a
# botocore handler, so a call with it goes to the client.
_SENT_AS_HEADERS = frozenset(
    {
        "ContentLength",
        "ContentType",
        "ContentMD5",
        "IfNoneMatch",
        "IfMatch",
        "Range",
        "ChecksumAlgorithm",
        "ChecksumCRC32",
        "ChecksumMode",
    }
)
# botocore.utils.CHECKSUM_HEADER_PATTERN, and the checksum headers that name no algorithm
_CHECKSUM_HEADER = "x-amz-checksum-"
_NOT_ALGORITHMS = frozenset({"algorithm", "mode", "type"})


class _Operation:
    """What the direct path needs of one operation's model: its HTTP method, the header
    each supported parameter is sent in, and the output shape the answer is parsed with."""

    __slots__ = (
        "algorithm_member",
        "checksum_required",
        "headers",
        "http_method",
        "mode_member",
        "model",
        "name",
        "response_algorithms",
        "streaming",
    )

    def __init__(self, model: Any) -> None:
        from botocore.httpchecksum import resolve_response_checksum_algorithms

        self.model = model
        self.name: str = model.name
        self.http_method: str = model.http["method"]
        self.streaming: bool = bool(model.has_streaming_output)
        self.headers: dict[str, str] = {}
        checksum = model.http_checksum
        # botocore's flexible checksums (httpchecksum.resolve_checksum_context): a request
        # checksum it would compute sends the call to the client; an answer's checksum is
        # verified here with the algorithms botocore would try, in its order
        self.algorithm_member: str | None = checksum.get("requestAlgorithmMember")
        self.checksum_required = bool(model.http_checksum_required or checksum.get("requestChecksumRequired"))
        self.mode_member: str | None = checksum.get("requestValidationModeMember")
        self.response_algorithms: list[str] = []
        if self.mode_member:
            request: dict[str, Any] = {"context": {}}
            resolve_response_checksum_algorithms(request, model, {self.mode_member: "ENABLED"})
            self.response_algorithms = list(request["context"]["checksum"]["response_algorithms"])
        shape = model.input_shape
        for name, member in shape.members.items():
            if (
                name in _SENT_AS_HEADERS
                and member.serialization.get("location") == "header"
                and member.type_name in _HEADER_TYPES
                and not member.serialization.get("jsonvalue")
                and not member.metadata.get("jsonvalue")
            ):
                self.headers[name] = member.serialization.get("name", name)


class _Route:
    """Where requests for one bucket go, how they are signed, and the User-Agent features
    resolving the endpoint registered (botocore's region-redirect cache registers one)."""

    __slots__ = ("base", "features", "signer")

    def __init__(self, base: str, signer: Any, features: frozenset[str]) -> None:
        self.base = base
        self.signer = signer
        self.features = features


class _Request:
    """One request as the serializer would write it: the URL path after the bucket's
    route, the headers, the body, and the User-Agent features botocore registers for it."""

    __slots__ = ("body", "features", "headers", "path")

    def __init__(self, path: str, headers: list[tuple[str, str]], body: Any, features: list[str]) -> None:
        self.path = path
        self.headers = headers
        self.body = body
        self.features = features


class DirectS3Client:
    """An aiobotocore S3 client whose ``get_object``, ``put_object``, ``head_object`` and
    ``delete_object`` are sent directly (same requests, same answers, same errors); every
    other attribute is the client's."""

    def __init__(self, client: Any, get_session: Any, proxy_config: Any, user_agent: str) -> None:
        from botocore.awsrequest import HeadersDict
        from botocore.credentials import RefreshableCredentials

        self._client = client
        self._get_session = get_session  # the client's aiohttp session, made on first use as the client does
        self._session: Any = None
        self._proxy_config = proxy_config
        self._signer = client._request_signer
        self._refreshable = RefreshableCredentials
        self._user_agent = user_agent
        self._user_agent_creator = client._user_agent_creator
        self._config = client.meta.config
        self._calculate_when_supported = self._config.request_checksum_calculation == "when_supported"
        self._validate_when_supported = self._config.response_checksum_validation == "when_supported"
        self._parsers = client._endpoint._response_parser_factory
        self._protocol: str = client.meta.service_model.metadata["protocol"]
        self._headers_dict = HeadersDict
        self._operations = {
            method: _Operation(client.meta.service_model.operation_model(name))
            for method, name in DIRECT_OPERATIONS.items()
        }
        self._routes: dict[tuple[str, str], _Route | None] = {}
        self._emitter: Any = getattr(client.meta.events, "_emitter", None)
        self._handlers = getattr(self._emitter, "_lookup_cache", None)
        self._empty_continue = os.environ.get("BOTO_EXPERIMENTAL__NO_EMPTY_CONTINUE", "").lower() == "true"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def __repr__(self) -> str:
        return f"<DirectS3Client of {self._client!r}>"

    @property
    def client(self) -> Any:
        """The aiobotocore client this stand-in sends everything else to."""
        return self._client

    async def get_object(self, **params: Any) -> dict[str, Any]:
        """``GetObject``, sent directly when it can be."""
        return await self._call("get_object", params)

    async def put_object(self, **params: Any) -> dict[str, Any]:
        """``PutObject``, sent directly when it can be."""
        return await self._call("put_object", params)

    async def head_object(self, **params: Any) -> dict[str, Any]:
        """``HeadObject``, sent directly when it can be."""
        return await self._call("head_object", params)

    async def delete_object(self, **params: Any) -> dict[str, Any]:
        """``DeleteObject``, sent directly when it can be."""
        return await self._call("delete_object", params)

    # -- one request --------------------------------------------------------------------

    def _forget_routes(self, bucket: Any) -> None:
        for cache_key in [k for k in self._routes if k[1] == bucket]:
            self._routes.pop(cache_key, None)

    async def _call(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        if self._handlers is None or self._emitter._lookup_cache is not self._handlers:
            # a handler was registered on the client's events after it was opened (or
            # its emitter is not one whose registrations can be seen): it runs on the
            # client path, from now on
            self._handlers = None
            return await self._by_client(method, params)
        operation = self._operations[method]
        sent = params
        mode = operation.mode_member
        if mode is not None and self._validate_when_supported and mode not in params:
            sent = {**params, mode: "ENABLED"}  # botocore's _handle_request_validation_mode_member
        request = self._build(operation, sent)
        if request is None:
            return await self._by_client(method, params)
        route = await self._route(operation, params)
        if route is None:
            return await self._by_client(method, params)
        signed_with = await self._credentials(request.features, route.features)
        if signed_with is None:
            return await self._by_client(method, params)  # the client raises what it raises
        frozen, user_agent = signed_with
        url = route.base + request.path
        return await self._send(
            method, operation, route, frozen, user_agent, url, request.headers, request.body, sent, params
        )

    async def _credentials(self, features: list[str], codes: frozenset[str]) -> tuple[Any, str] | None:
        """The credentials frozen now, as botocore's signer takes them for every request
        (refreshable ones are refreshed here when near expiry), and the User-Agent botocore
        would send with ``features`` (feature ids), ``codes`` (feature codes, as a context
        holds them) and those a refresh registers; ``None`` without usable credentials."""
        from botocore.context import ClientContext, get_context, reset_context, set_context
        from botocore.useragent import register_feature_id

        credentials = self._signer._credentials
        if credentials is None:
            return None
        if not features and not codes and not isinstance(credentials, self._refreshable):
            frozen = await credentials.get_frozen_credentials()
            user_agent = self._user_agent
        else:
            if get_context() is not None:
                return None  # inside a caller's botocore context: its features are the client's to add
            context = ClientContext()
            token = set_context(context)
            try:
                context.features.update(codes)
                for feature in features:
                    register_feature_id(feature)
                frozen = await credentials.get_frozen_credentials()
                user_agent = self._user_agent_creator.to_string() if context.features else self._user_agent
            finally:
                reset_context(token)
        if frozen is None or not frozen.access_key or not frozen.secret_key:
            return None
        return frozen, user_agent

    async def _by_client(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        body = params.get("Body")
        rewind = getattr(body, "seek", None) if not isinstance(body, (bytes, bytearray)) else None
        if rewind is not None:
            rewind(0)
        response: dict[str, Any] = await getattr(self._client, method)(**params)
        return response

    def _build(self, operation: _Operation, params: Mapping[str, Any]) -> _Request | None:
        """The request the serializer would write; ``None`` when a parameter is not one the
        direct path sends, or botocore would compute a checksum for it."""
        from botocore.utils import percent_encode

        headers: list[tuple[str, str]] = []
        body: Any = None
        key: Any = None
        for name, value in params.items():
            if name == "Bucket":
                continue
            if name == "Key":
                key = value
            elif name == "Body" and operation.name == "PutObject":
                body = value
            elif name == "Metadata":
                if not isinstance(value, Mapping):
                    return None
                for meta_key, meta_value in value.items():
                    if not (isinstance(meta_key, str) and isinstance(meta_value, str)):
                        return None
                    if not (meta_key.isascii() and meta_value.isascii()):
                        return None  # botocore refuses it: the client says so
                    headers.append(("x-amz-meta-" + meta_key, meta_value))
            else:
                header = operation.headers.get(name)
                if header is None or value is None:
                    return None
                if isinstance(value, bool):
                    return None
                if isinstance(value, int):
                    value = str(value)
                if not isinstance(value, str):
                    return None
                headers.append((header, value))
        if not isinstance(key, str) or not key:
            return None
        if body is not None and not isinstance(body, (bytes, bytearray)) and not hasattr(body, "read"):
            return None
        features: list[str] = []
        has_checksum = False
        for header, _ in headers:
            lowered = header.lower()
            if lowered.startswith(_CHECKSUM_HEADER):
                has_checksum = True
                algorithm = lowered[len(_CHECKSUM_HEADER) :]
                if algorithm not in _NOT_ALGORITHMS and _preset_checksum_is_a_feature():
                    # botocore's _register_checksum_algorithm_feature_id
                    name = "CRC64" if algorithm == "crc64nvme" else algorithm.upper()
                    features.append("FLEXIBLE_CHECKSUMS_REQ_" + name)
        if not has_checksum and (
            operation.checksum_required
            or (operation.algorithm_member is not None and operation.algorithm_member in params)
            or (operation.algorithm_member is not None and self._calculate_when_supported)
        ):
            return None  # botocore computes a checksum for this request: the client sends it
        if operation.mode_member is not None and operation.mode_member in params and not operation.streaming:
            return None  # an answer botocore checks whole (no such operation here)
        return _Request("/" + percent_encode(key, safe="/~"), headers, body, features)

    async def _route(self, operation: _Operation, params: Mapping[str, Any]) -> _Route | None:
        bucket = params.get("Bucket")
        if not isinstance(bucket, str):
            return None
        cache_key = (operation.name, bucket)
        try:
            return self._routes[cache_key]
        except KeyError:
            pass
        from botocore.context import ClientContext, get_context, reset_context, set_context

        if get_context() is not None:
            return None
        context: dict[str, Any] = {}
        registered = ClientContext()
        token = set_context(registered)
        try:
            endpoint_url, extra_headers, properties = await self._client._resolve_endpoint_ruleset(
                operation.model, {"Bucket": bucket, "Key": params.get("Key")}, context
            )
        except Exception:
            return None  # the client raises what it raises (no region, a bucket the rules refuse...)
        finally:
            reset_context(token)
        signing = context.get("signing") or {}
        route: _Route | None = None
        if (
            not extra_headers
            and set(properties) <= {"authSchemes"}
            and context.get("auth_type") in (None, "s3v4", "v4")
            and set(signing) <= {"region", "signing_name", "disableDoubleEncoding"}
        ):
            region = signing.get("region") or self._client.meta.region_name
            name = signing.get("signing_name") or "s3"
            if region and name == "s3" and not self._proxy_config.proxy_url_for(endpoint_url):
                route = _Route(
                    endpoint_url.rstrip("/"), signer_class()(None, name, region), frozenset(registered.features)
                )
        if len(self._routes) < _ROUTE_CACHE_LIMIT:
            self._routes[cache_key] = route
        return route

    def _sign(
        self,
        method: str,
        url: str,
        route: _Route,
        credentials: Any,
        headers: list[tuple[str, str]],
        body: Any,
        streaming_input: bool,
    ) -> list[tuple[str, str]]:
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
        request.context["client_config"] = self._config
        request.context["has_streaming_input"] = streaming_input
        # the route's signer is shared; nothing awaits between setting its credentials and
        # signing, so each request is signed with its own
        route.signer.credentials = credentials
        route.signer.add_auth(request)
        return list(request.headers.items())

    async def _send(
        self,
        method: str,
        operation: _Operation,
        route: _Route,
        credentials: Any,
        user_agent: str,
        url: str,
        headers: list[tuple[str, str]],
        body: Any,
        sent_params: Mapping[str, Any],
        params: Mapping[str, Any],
    ) -> dict[str, Any]:
        from botocore.utils import determine_content_length
        from multidict import CIMultiDict
        from yarl import URL

        is_put = operation.name == "PutObject"
        if is_put and body is None:
            body = b""
        headers.append(("User-Agent", user_agent))
        if is_put and not (self._empty_continue and _length(body) == 0):
            headers.append(("Expect", "100-continue"))
        rewind = getattr(body, "seek", None)
        if rewind is not None:
            rewind(0)
        signed = self._sign(operation.http_method, url, route, credentials, headers, body, is_put)
        invocation = str(uuid.uuid4())
        sent: CIMultiDict[str] = CIMultiDict(signed)
        sent["amz-sdk-invocation-id"] = invocation
        sent["amz-sdk-request"] = "attempt=1"
        if operation.http_method not in ("GET", "HEAD", "OPTIONS") and not (
            "Content-Length" in sent or "Transfer-Encoding" in sent
        ):
            # botocore's AWSRequestPreparer._prepare_headers
            length = determine_content_length(None if body == b"" else body)
            if length is None:
                return await self._by_client(method, params)  # botocore sends it chunked
            sent["Content-Length"] = str(length)
        sent["Accept-Encoding"] = "identity"
        data: Any = body
        if rewind is not None:
            rewind(0)
            if not hasattr(body, "__aiter__"):
                data = _IOBody(body)
        session = self._session
        if session is None:
            session = self._session = await self._get_session(None)
        try:
            response = await session.request(operation.http_method, URL(url, encoded=True), headers=sent, data=data)
        except BaseException as exc:
            _raise_as_client_would(exc, url)
            raise
        try:
            status = response.status
            raw_headers = {k.decode("utf-8").lower(): v.decode("utf-8") for k, v in response.raw_headers}
            if status >= 300 or not operation.streaming:
                try:
                    content = await response.read()
                except BaseException as exc:
                    _raise_as_client_would(exc, url)
                    raise
                response.release()
            else:
                content = b""
        except BaseException:
            response.close()
            raise
        headers_dict = self._headers_dict(raw_headers)
        if status >= 300:
            failed: dict[str, Any] = await self._parsers.create_parser(self._protocol).parse(
                {"status_code": status, "headers": headers_dict, "body": content}, operation.model.output_shape
            )
            error: Mapping[str, Any] = failed.get("Error") or {}
            code = str(error.get("Code") or "")
            if status in (301, 307) or (status == 400 and (code in _REDIRECT_CODES or operation.name == "HeadObject")):
                # the client follows it (and its redirector remembers the bucket's region,
                # which the next resolution of the route picks up)
                self._forget_routes(params.get("Bucket"))
                return await self._by_client(method, params)
            raise self._client.exceptions.from_code(code)(failed, operation.name)
        if operation.streaming:
            length = raw_headers.get("content-length")
            payload: Any = _aio_body_classes()[0](response, length)
            if operation.response_algorithms and operation.mode_member in sent_params:
                payload = _checked_body(operation, response, headers_dict, payload)
        else:
            payload = content
        parsed: dict[str, Any] = await self._parsers.create_parser(self._protocol).parse(
            {"status_code": status, "headers": headers_dict, "body": payload}, operation.model.output_shape
        )
        metadata = parsed.get("ResponseMetadata")
        if isinstance(metadata, dict):
            metadata["RetryAttempts"] = 0
        return parsed


def _checked_body(operation: _Operation, response: Any, headers: Mapping[str, str], body: Any) -> Any:
    """``body``, or aiobotocore's checksum-verifying body where botocore's
    ``handle_checksum_body`` would wrap it: the first algorithm (in its order) whose
    ``x-amz-checksum-*`` header the answer carries, unless that checksum is a composite of
    part checksums (``-N`` suffix)."""
    from botocore.httpchecksum import _CHECKSUM_CLS

    checksum_body = _aio_body_classes()[1]

    for algorithm in operation.response_algorithms:
        expected = headers.get(_CHECKSUM_HEADER + algorithm)
        if expected is None or "-" in expected:
            continue
        return checksum_body(response, headers.get("content-length"), _CHECKSUM_CLS[algorithm](), expected)
    return body


@functools.cache
def signer_class() -> type[Any]:
    """botocore's :class:`~botocore.auth.S3SigV4Auth` with two of its per-request
    recomputations kept: the derived signing key (one per day, where it does four HMACs
    per request) and the headers to sign (computed twice per request)."""
    from botocore.auth import S3SigV4Auth

    class CachingS3SigV4Auth(S3SigV4Auth):  # type: ignore[misc]
        _day: tuple[str, str] | None = None
        _key: bytes = b""

        def headers_to_sign(self, request: Any) -> Any:
            cached = request.context.get("_direct_headers_to_sign")
            if cached is None or cached[0] != len(request.headers):
                cached = (len(request.headers), super().headers_to_sign(request))
                request.context["_direct_headers_to_sign"] = cached
            return cached[1]

        def signature(self, string_to_sign: str, request: Any) -> str:
            day = request.context["timestamp"][0:8]
            secret = self.credentials.secret_key
            if self._day is None or self._day[0] != day or self._day[1] != secret:
                k_date = self._sign(f"AWS4{secret}".encode(), day)
                k_region = self._sign(k_date, self._region_name)
                k_service = self._sign(k_region, self._service_name)
                self._key = self._sign(k_service, "aws4_request")
                self._day = (day, secret)
            signed: str = self._sign(self._key, string_to_sign, hex=True)
            return signed

    return CachingS3SigV4Auth


class _IOBody:
    """A seekable request body handed to aiohttp as an async iterable (read from its start),
    as the client hands it its wrapper of file objects."""

    def __init__(self, body: Any) -> None:
        self._body = body

    async def __aiter__(self) -> Any:
        self._body.seek(0)
        while True:
            piece = self._body.read(64 * 1024)
            if not piece:
                return
            yield piece


def _length(body: Any) -> int | None:
    try:
        return len(body)
    except TypeError:
        return None


def _raise_as_client_would(exc: BaseException, url: str) -> None:
    """Raise the botocore exception aiobotocore's HTTP session raises for ``exc`` (so the
    error table maps it as it maps the client's); return for anything else."""
    import asyncio
    import socket

    import aiohttp
    import botocore.exceptions as bexc

    if isinstance(exc, aiohttp.ClientSSLError):
        raise bexc.SSLError(endpoint_url=url, error=exc) from exc
    if isinstance(exc, (aiohttp.ClientProxyConnectionError, aiohttp.ClientHttpProxyError)):
        raise bexc.ProxyConnectionError(proxy_url="", error=exc) from exc
    closed = (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.http_exceptions.BadStatusLine)
    if isinstance(exc, closed):
        raise bexc.ConnectionClosedError(error=exc, request=None, endpoint_url=url) from exc
    if isinstance(exc, aiohttp.ServerTimeoutError):
        if str(exc).lower().startswith("connect"):
            raise bexc.ConnectTimeoutError(endpoint_url=url, error=exc) from exc
        raise bexc.ReadTimeoutError(endpoint_url=url, error=exc) from exc
    if isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ClientConnectionError, socket.gaierror)):
        raise bexc.EndpointConnectionError(endpoint_url=url, error=exc) from exc
    if isinstance(exc, asyncio.TimeoutError):
        raise bexc.ReadTimeoutError(endpoint_url=url, error=exc) from exc
    if isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt, SystemExit, GeneratorExit)):
        return
    if isinstance(exc, Exception) and not isinstance(exc, bexc.BotoCoreError):
        raise bexc.HTTPClientError(error=exc) from exc


async def direct_client(client: Any, *, endpoint_url: str | None) -> Any:
    """``client`` (an open aiobotocore S3 client) wrapped in a :class:`DirectS3Client`
    when the direct path sends exactly what it would, else ``client`` itself."""
    if not ENABLED:
        return client
    if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
        return client  # botocore adds a recursion-detection header there
    from botocore.useragent import UserAgentString

    config = client.meta.config
    if config.proxies or getattr(config, "proxies_config", None):
        return client
    if config.request_checksum_calculation not in _CHECKSUM_SETTINGS or (
        config.response_checksum_validation not in _CHECKSUM_SETTINGS
    ):
        return client
    if (config.signature_version or "s3v4") != "s3v4":
        return client
    signer = getattr(client, "_request_signer", None)
    if signer is None or getattr(signer, "_credentials", None) is None:
        return client
    http = getattr(getattr(client, "_endpoint", None), "http_session", None)
    get_session = getattr(http, "_get_session", None)
    proxy_config = getattr(http, "_proxy_config", None)
    if get_session is None or proxy_config is None:
        return client
    if endpoint_url is not None and proxy_config.proxy_url_for(endpoint_url):
        return client
    creator = getattr(client, "_user_agent_creator", None)
    if not isinstance(creator, UserAgentString):
        return client
    return DirectS3Client(client, get_session, proxy_config, creator.to_string())


@functools.cache
def _aio_body_classes() -> tuple[Any, Any]:
    """aiobotocore's streaming body and checksum-verifying body classes (their names in
    aiobotocore 3; the same classes were ``StreamingBody``/``StreamingChecksumBody`` in 2.x)."""
    try:
        from aiobotocore.httpchecksum import AioStreamingChecksumBody as checked
        from aiobotocore.response import AioStreamingBody as body
    except ImportError:  # aiobotocore 2.x
        from aiobotocore.httpchecksum import StreamingChecksumBody as checked
        from aiobotocore.response import StreamingBody as body
    return body, checked


@functools.cache
def _preset_checksum_is_a_feature() -> bool:
    """Whether the installed botocore names the checksum algorithm in the User-Agent of a
    request whose checksum header the caller set (newer versions do, in
    ``_register_checksum_feature_ids``; older ones, 1.40 among them, only when they compute
    the checksum themselves): asked of botocore's own handlers, once."""
    try:
        from botocore import httpchecksum
        from botocore.context import ClientContext, get_context, reset_context, set_context

        algorithm = {"in": "header", "name": "x-amz-checksum-crc32", "algorithm": "crc32"}
        probe = {
            "headers": {"x-amz-checksum-crc32": "AAAAAA=="},
            "body": b"",
            "context": {"checksum": {"request_algorithm": algorithm}},
        }
        token = set_context(ClientContext())
        try:
            register = getattr(httpchecksum, "_register_checksum_feature_ids", None)
            if register is not None:
                register(probe)
            httpchecksum._apply_request_header_checksum(probe)
            return bool(get_context().features)
        finally:
            reset_context(token)
    except Exception:  # a botocore without these internals: say what the newer ones do
        return True
