"""Opening an aiobotocore client the one way every AWS client of this package needs: our
retry policy as the only retry layer (botocore's off, aiohttp's silent re-send off), the
credentials given or the boto chain's (whose secrets are then read for redaction), and a
stack that closes it."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from typing import Any

import anyio

from cloud.common.models import CloudCredentials

__all__ = ["OpenedClient", "open_client"]


@functools.cache
def _one_retry_layer_session() -> type[Any]:
    """aiobotocore's HTTP session class, subclassed (on first use: aiobotocore loads with the
    first client) to drop aiohttp's own silent retry of a request whose reused connection
    broke: our retry policy is the one retry layer, and counts it."""
    from aiobotocore.httpsession import AIOHTTPSession

    class _OneRetryLayerSession(AIOHTTPSession):  # type: ignore[misc]
        async def _get_session(self, proxy_url: Any) -> Any:
            session = await super()._get_session(proxy_url)
            session._retry_connection = False
            return session

    return _OneRetryLayerSession


async def _chain_secrets(client: Any) -> tuple[str, ...]:
    """The secret parts of the credentials the boto chain found for ``client`` (for
    redaction only; read from its signer, so the chain is not searched a second time)."""
    credentials = getattr(getattr(client, "_request_signer", None), "_credentials", None)
    if credentials is None:
        return ()
    frozen = await credentials.get_frozen_credentials()
    return tuple(s for s in (frozen.secret_key, frozen.token) if s)


class OpenedClient:
    """An open aiobotocore client, the stack that closes it, and the secrets the boto chain
    resolved for it (empty when credentials were given)."""

    def __init__(self, client: Any, stack: AsyncExitStack, secrets: tuple[str, ...]) -> None:
        self.client = client
        self.stack = stack
        self.secrets = secrets


async def open_client(
    service: str,
    *,
    config: Mapping[str, Any],
    region: str | None,
    endpoint_url: str | None,
    credentials: CloudCredentials | None,
    profile: str | None,
    prepare_session: Callable[[Any], None] | None = None,
    prepare_client: Callable[[Any], None] | None = None,
) -> OpenedClient:
    """Create the aiobotocore client of ``service`` with ``config`` (``AioConfig`` options,
    to which the one-retry-layer settings are added); the SDK loads here, on first use."""
    from aiobotocore.config import AioConfig
    from aiobotocore.session import AioSession, get_session

    options = {
        **config,
        "retries": {"total_max_attempts": 1, "mode": "standard"},  # RetryPolicy is the retry loop
        "user_agent_extra": "codomyrmex-cloud",
        "http_session_cls": _one_retry_layer_session(),
    }
    kwargs: dict[str, Any] = {"config": AioConfig(**options)}
    if region is not None:
        kwargs["region_name"] = region
    if endpoint_url is not None:
        kwargs["endpoint_url"] = endpoint_url
    if credentials is not None:
        kwargs["aws_access_key_id"] = credentials.access_key_id
        kwargs["aws_secret_access_key"] = credentials.secret_access_key
        kwargs["aws_session_token"] = credentials.session_token
    session = AioSession(profile=profile) if profile else get_session()
    if prepare_session is not None:
        prepare_session(session)
    stack = AsyncExitStack()
    try:
        client = await stack.enter_async_context(session.create_client(service, **kwargs))
        if prepare_client is not None:
            prepare_client(client)
        secrets = await _chain_secrets(client) if credentials is None else ()
    except BaseException:
        with anyio.CancelScope(shield=True):
            await stack.aclose()
        raise
    return OpenedClient(client, stack, secrets)
