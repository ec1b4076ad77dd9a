"""One User-Agent string per set of request features, built once per client.

botocore builds the ``User-Agent`` header from scratch twice per request (when the
request is serialized and again when it is created, to add the features the request
used): a few dozen component objects, each sanitised character by character.  The
string depends only on the client's fixed configuration and on the request's feature
set, so :func:`cache_user_agent` makes a client build it once per feature set.
"""

from __future__ import annotations

from typing import Any

__all__ = ["cache_user_agent"]

_MAX_VARIANTS = 64


def cache_user_agent(client: Any) -> None:
    """Make ``client`` (an aiobotocore client) reuse the User-Agent string it built for a
    request with the same features; the strings are the ones botocore builds."""
    from botocore.context import get_context
    from botocore.useragent import UserAgentString

    creator = client._user_agent_creator
    if not isinstance(creator, UserAgentString):
        return
    build = UserAgentString.to_string
    cache: dict[tuple[frozenset[str], frozenset[str]], str] = {}
    empty: frozenset[str] = frozenset()

    def to_string() -> str:
        context = get_context()
        key = (
            frozenset(creator._client_features or empty),
            frozenset(context.features) if context is not None else empty,
        )
        value = cache.get(key)
        if value is None:
            value = build(creator)
            if len(cache) < _MAX_VARIANTS:
                cache[key] = value
        return value

    # an instance attribute: the handler botocore registered (the creator's bound
    # rebuild_and_replace_user_agent_handler) calls self.to_string() and finds it
    creator.to_string = to_string
