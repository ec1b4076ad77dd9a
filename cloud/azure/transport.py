"""What the Azure client needs of azure-core's aiohttp transport: one retry layer (ours),
bodies read from aiohttp itself (broken ones as ``TransportError``, no "Incomplete
download." on stderr), responses closed at once, and whether the environment's proxy
settings apply."""

from __future__ import annotations

import functools
from typing import Any

from cloud.common.exceptions import TransportError

__all__ = ["close_response", "env_proxy_applies", "one_retry_layer_transport", "read_body", "read_some"]


@functools.cache
def one_retry_layer_transport() -> type[Any]:
    """azure-core's aiohttp transport class, subclassed (on first use: azure-core loads with
    the first client) to drop aiohttp's own silent retry of a request whose reused
    connection broke: our retry policy is the one retry layer, and counts it."""
    from azure.core.pipeline.transport import AioHttpTransport

    class _OneRetryLayerTransport(AioHttpTransport):  # type: ignore[misc]
        async def open(self) -> None:
            await super().open()
            if self.session is not None:
                self.session._retry_connection = False

    return _OneRetryLayerTransport


async def read_body(stream: Any) -> bytes:
    """The whole body under an azure-core stream, read from aiohttp itself: azure-core's own
    generator logs "Incomplete download." to the user's stderr when a body breaks off."""
    import aiohttp  # loaded with the client

    try:
        body: bytes = await stream.response.internal_response.read()
    except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
        raise TransportError(f"the response body broke off ({type(exc).__name__})") from exc
    return body


async def read_some(stream: Any) -> bytes:
    """The next piece of the body under an azure-core stream (``b""`` at its end), read from
    aiohttp itself, as :func:`read_body`."""
    import aiohttp  # loaded with the client

    try:
        piece: bytes = await stream.response.internal_response.content.readany()
    except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
        raise TransportError(f"the response body broke off ({type(exc).__name__})") from exc
    return piece


def close_response(stream: Any) -> None:
    """Close the aiohttp response under an azure-core stream (best effort)."""
    internal = getattr(getattr(stream, "response", None), "internal_response", None)
    close = getattr(internal, "close", None)
    if close is not None:
        close()


def env_proxy_applies(account_url: str) -> bool:
    """Whether the environment routes ``account_url`` through a proxy (``HTTPS_PROXY`` and
    friends, minus ``NO_PROXY``), by aiohttp's own rules.

    Only then do our sessions keep azure-core's default ``trust_env``: with it aiohttp makes
    two worker-thread calls per request (the proxy settings, and ``~/.netrc``, whose entry for
    the account host could only clash with the request's own signature), ~10% of the client
    CPU of many small transfers; without a proxy to find they find nothing."""
    from aiohttp.helpers import get_env_proxy_for_url
    from yarl import URL

    try:
        get_env_proxy_for_url(URL(account_url))
    except LookupError:
        return False
    return True
