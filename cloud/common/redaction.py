"""Keeping secrets out of messages, logs and reprs."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from typing import Any

__all__ = ["redact", "redact_url", "scrub_exception"]

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


# Headers whose value is a credential (or a key): Authorization, Proxy-Authorization,
# x-ms-copy-source-authorization, x-ms-encryption-key, x-goog-encryption-key,
# x-amz-security-token, x-functions-key, Cookie...
_SECRET_HEADER = re.compile(r"(?i)authorization|key|token|secret|signature|credential|cookie|sas")
_SECRET_QUERY = re.compile(
    r"(?i)(?:^|[?&])(?:x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential"
    r"|sig|signature|accountkey|sharedaccesssignature|token|access_token|api_key|apikey|key)=([^&#\s]+)"
)
_MASK = "***"


def scrub_exception(exc: BaseException, secrets: Iterable[str] = ()) -> None:
    """Take credentials out of a vendor exception (and the exceptions it chains) in place,
    before it becomes our error's ``__cause__``.

    The cause is pickled with our error wherever tblib's pickling support is installed (Dask
    workers), and its repr shows the request: this replaces the request an httpx, aiohttp or
    azure-core exception keeps by one whose credential headers (``Authorization``, keys,
    tokens) and signature-like query values (a SAS ``sig``, a signed URL) read ``***``, drops
    aiohttp's redirect history (and makes its error picklable), and hides ``secrets`` and the values found in those headers
    and queries from the exception's messages and a response body it keeps.  Never raises:
    an exception shaped in an unexpected way is left as it is."""
    found = [s for s in secrets if s and len(s) >= 4]
    chain: list[BaseException] = []
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        chain.append(item)
        stack += [item.__cause__, item.__context__, getattr(item, "inner_exception", None)]
    for item in chain:
        try:
            _scrub_requests(item, found)
        except Exception:  # pragma: no cover - a vendor object of another shape
            continue
    for item in chain:
        try:
            _scrub_texts(item, found)
        except Exception:  # pragma: no cover - a vendor object of another shape
            continue


def _secret_values(url: str, headers: Iterable[tuple[str, str]]) -> list[str]:
    """The credential values a request carries: its secret headers' values (and the part
    after an auth scheme such as ``Bearer``/``SharedKey account:``), its signature-like
    query values, percent-encoded and decoded."""
    from urllib.parse import unquote

    values: list[str] = []
    for name, value in headers:
        if _SECRET_HEADER.search(name) and value:
            values.append(value)
            values += value.replace(":", " ").split()[1:]
    for match in _SECRET_QUERY.finditer(url):
        values += [match.group(1), unquote(match.group(1))]
    return [v for v in values if len(v) >= 4]


def _masked_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, _MASK if _SECRET_HEADER.search(name) else value) for name, value in headers]


def _masked_url(url: str) -> str:
    return _SECRET_QUERY.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + _MASK, redact_url(url))


def _scrub_requests(exc: BaseException, found: list[str]) -> None:
    """Replace (or mask in place) the request an exception keeps, adding its secrets to ``found``."""
    httpx = sys.modules.get("httpx")
    if httpx is not None and isinstance(exc, httpx.HTTPError):
        request = getattr(exc, "_request", None)
        if isinstance(request, httpx.Request):
            found += _secret_values(str(request.url), request.headers.multi_items())
            scrubbed = httpx.Request(
                request.method, _masked_url(str(request.url)), headers=_masked_headers(request.headers.multi_items())
            )
            exc.request = scrubbed
            response = getattr(exc, "response", None)
            if isinstance(response, httpx.Response):
                response.request = scrubbed
        return
    aiohttp = sys.modules.get("aiohttp")
    if aiohttp is not None and isinstance(exc, aiohttp.ClientResponseError):
        from multidict import CIMultiDict
        from yarl import URL

        info = exc.request_info
        found += _secret_values(str(info.real_url), info.headers.items())
        # Plain CIMultiDicts: aiohttp's read-only proxies cannot be pickled (nor, then, our
        # error with its cause).
        masked = aiohttp.RequestInfo(
            URL(_masked_url(str(info.url)), encoded=True),
            info.method,
            CIMultiDict(_masked_headers(info.headers.items())),
            URL(_masked_url(str(info.real_url)), encoded=True),
        )
        exc.request_info = masked
        history = exc.history
        exc.history = ()  # the redirect's responses: each keeps its request
        # args hold the same request info and history (and tblib pickles args).
        exc.args = tuple(masked if a is info else () if a is history else a for a in exc.args)
        if exc.headers is not None:
            exc.headers = CIMultiDict(exc.headers)
        return
    # azure-core: HttpResponseError.response.request (an HttpRequest: url, headers), which
    # the response pickles with itself.
    sdk_request: Any = getattr(getattr(exc, "response", None), "request", None)
    url, headers = getattr(sdk_request, "url", None), getattr(sdk_request, "headers", None)
    if isinstance(url, str) and headers is not None and hasattr(headers, "items"):
        items = [(str(k), str(v)) for k, v in headers.items()]
        found += _secret_values(url, items)
        sdk_request.url = _masked_url(url)
        for name, _ in items:
            if _SECRET_HEADER.search(name):
                headers[name] = _MASK


def _scrub_texts(exc: BaseException, found: list[str]) -> None:
    """Hide the secrets from an exception's messages and from a response body it keeps."""
    if any(isinstance(a, str) for a in exc.args):
        exc.args = tuple(redact(a, found) if isinstance(a, str) else a for a in exc.args)
    for name, value in list(vars(exc).items()):
        if isinstance(value, str):
            setattr(exc, name, redact(value, found))
    response = getattr(exc, "response", None)
    secrets = [s.encode() for s in found if s.isascii()]
    for attr in ("_content", "_body"):
        content = getattr(response, attr, None)
        if isinstance(content, bytes) and any(s in content for s in secrets):
            for s in secrets:
                content = content.replace(s, _MASK.encode())
            setattr(response, attr, content)
            if hasattr(response, "_text"):
                delattr(response, "_text")
