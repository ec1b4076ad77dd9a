"""The endpoint-ruleset parameters of a request, gathered from a per-operation table.

For every request botocore resolves each of the ruleset's parameters (seventeen for S3)
by asking, in turn, the operation's static context parameters, its context parameters
(``Bucket``, ``Key``), its JMESPath context parameters, the client's context parameters
and the built-ins, through a chain of cached lookups per parameter.  The answer to all
but the call arguments and the built-ins is fixed per operation, so
:func:`fast_endpoint_params` makes a client's resolver read it from a table built once
per operation, in botocore's order, with botocore's own code for JMESPath parameters,
the ``before-endpoint-resolution`` event (region redirects, path-style addressing) and
the feature ids a value registers.  The parameters, hence the endpoint, are the same.
"""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["fast_endpoint_params"]

_TABLE_LIMIT = 1024

_Row = tuple[str, Any, Any, bool, Any, Any]


def _table(resolver: Any, operation_model: Any) -> list[_Row]:
    """Per ruleset parameter, in botocore's order: (name, static value, call-argument
    member, has a JMESPath context parameter, client context variable, built-in)."""
    from botocore.regions import EndpointResolverBuiltins

    static = {param.name: param.value for param in operation_model.static_context_parameters}
    dynamic = {param.name: param.member_name for param in operation_model.context_parameters}
    jmespath = operation_model.operation_context_parameters
    client_names = resolver._get_client_context_params()
    known_builtins = set(EndpointResolverBuiltins.__members__.values())
    rows: list[_Row] = []
    for name, definition in resolver._param_definitions.items():
        builtin = definition.builtin
        if builtin is not None and builtin not in known_builtins:
            builtin = ("unknown", builtin)  # botocore raises when it gets there
        rows.append((name, static.get(name), dynamic.get(name), name in jmespath, client_names.get(name), builtin))
    return rows


def fast_endpoint_params(client: Any) -> None:
    """Make ``client``'s (an aiobotocore client's) endpoint-ruleset resolver gather each
    request's parameters from a per-operation table; a client without a ruleset
    resolver is left alone."""
    resolver = getattr(client, "_ruleset_resolver", None)
    if resolver is None:
        return
    tables: dict[str, tuple[Any, list[_Row]]] = {}

    async def get_provider_params(operation_model: Any, call_args: Any, request_context: Any) -> dict[str, Any]:
        cached = tables.get(operation_model.name)
        if cached is None or cached[0] is not operation_model:
            cached = (operation_model, _table(resolver, operation_model))
            if len(tables) < _TABLE_LIMIT:
                tables[operation_model.name] = cached
        builtins = await resolver._get_customized_builtins(operation_model, call_args, request_context)
        client_context = resolver._client_context
        params: dict[str, Any] = {}
        for name, value, member, jmespath, client_name, builtin in cached[1]:
            if value is None and member is not None:
                value = call_args.get(member)
            if value is None and jmespath:
                value = resolver._resolve_param_as_operation_context_param(name, operation_model, call_args)
            if value is None and client_name is not None:
                value = client_context.get(client_name)
            if value is None and builtin is not None:
                if type(builtin) is tuple:
                    resolver._resolve_param_as_builtin(builtin_name=builtin[1], builtins=builtins)
                value = builtins.get(builtin)
                if callable(value):
                    value = value()
                if inspect.isawaitable(value):
                    value = await value
            if value is not None:
                params[name] = value
                resolver._register_endpoint_feature_ids(name, value)
        return params

    resolver._get_provider_params = get_provider_params
