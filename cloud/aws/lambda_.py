"""LambdaClient: the serverless contract on AWS Lambda (aiobotocore ``lambda``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from cloud.common.base import ServerlessClient, encode_payload
from cloud.common.enums import CloudProvider, ResourceState, ResourceType
from cloud.common.exceptions import ConfigurationError, FunctionError
from cloud.common.models import CloudCredentials, CloudResource
from cloud.common.pagination import AsyncPaginator
from cloud.common.retry import RetryPolicy

from .service import AWSServiceClient, check_page_size

__all__ = ["LAMBDA_STATES", "LambdaClient"]

LAMBDA_STATES: Mapping[str, ResourceState] = {
    "Pending": ResourceState.DEPLOYING,
    "Active": ResourceState.ACTIVE,
    "Inactive": ResourceState.INACTIVE,
    "Deactivating": ResourceState.INACTIVE,
    "Deactivated": ResourceState.INACTIVE,
    "ActiveNonInvocable": ResourceState.FAILED,  # deployed but cannot be invoked
    "Failed": ResourceState.FAILED,
    "Deleting": ResourceState.TERMINATED,
}
"""Lambda ``Configuration.State`` -> :class:`ResourceState`."""

# A name, a partial ARN (123456789012:function:name) or a full ARN, with an optional
# version or alias qualifier.
_FUNCTION = re.compile(
    r"(?:arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:|\d{12}:function:)?[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9$_-]{1,128})?"
)
_PAYLOAD_EXCERPT = 300


def check_function_name(name: object) -> str:
    """A Lambda function name, partial ARN or ARN (optionally qualified), or
    ``ConfigurationError`` before any I/O."""
    if not isinstance(name, str) or not _FUNCTION.fullmatch(name):
        raise ConfigurationError(
            f"invalid Lambda function name {str(name)[:80]!r}: letters, digits, '-' and '_' (or an ARN)"
        )
    return name


class LambdaClient(AWSServiceClient, ServerlessClient):
    """The serverless contract on AWS Lambda (or a Lambda-compatible endpoint such as moto).

    Constructor arguments as :class:`EC2Client`.  Functions are :class:`CloudResource`
    objects whose ``id`` is the function name, ``state`` from ``Configuration.State`` and
    ``tags`` the function's tags (:meth:`get_function`; listings carry none).
    :meth:`invoke_function` sends ``RequestResponse`` invocations, or ``Event`` ones
    (queued, fire and forget) with ``wait=False``; a function that raised answers with
    ``FunctionError`` and becomes :class:`~cloud.common.exceptions.FunctionError`.
    """

    provider: ClassVar[CloudProvider] = CloudProvider.AWS
    service: ClassVar[str] = "lambda"

    def __init__(
        self,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        credentials: CloudCredentials | None = None,
        profile: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
    ) -> None:
        super().__init__()
        self._configure(
            region=region,
            endpoint_url=endpoint_url,
            credentials=credentials,
            profile=profile,
            retry=retry,
            timeout=timeout,
        )

    def list_functions(
        self, *, page_size: int | None = None, timeout: float | None = None
    ) -> AsyncPaginator[CloudResource]:
        """List functions lazily, one ``ListFunctions`` page at a time (at most 50)."""
        size = check_page_size(page_size, 1, 50)
        params: dict[str, Any] = {} if size is None else {"MaxItems": size}
        return self._paginate(
            "list_functions",
            "list_functions",
            params,
            token_in="Marker",
            token_out="NextMarker",
            items=lambda response: (self._resource(f, {}) for f in response.get("Functions") or ()),
            timeout=timeout,
        )

    async def get_function(self, name: str, *, timeout: float | None = None) -> CloudResource:
        """Describe one function with its tags (``NotFoundError`` if missing)."""
        check_function_name(name)
        response = await self._request("get_function", "get_function", {"FunctionName": name}, timeout=timeout)
        return self._resource(response.get("Configuration") or {}, response.get("Tags") or {})

    async def invoke_function(
        self,
        name: str,
        payload: bytes | Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        timeout: float | None = None,
    ) -> bytes:
        """Invoke the function and return its response payload (``b""`` with
        ``wait=False``, once Lambda queued the event).  Not retried except on throttling
        (429: Lambda did not run it).  A function error raises ``FunctionError`` with
        Lambda's error payload."""
        check_function_name(name)
        body = encode_payload(payload)
        client = await self._get_client("invoke_function")
        params = {
            "FunctionName": name,
            "InvocationType": "RequestResponse" if wait else "Event",
            "Payload": body,
        }

        async def call() -> tuple[dict[str, Any], bytes]:
            response: dict[str, Any] = await client.invoke(**params)
            stream = response.get("Payload")
            data: bytes = await stream.read() if stream is not None else b""
            return response, data

        response, data = await self._runner.call("invoke_function", call, idempotent=False, timeout=timeout)
        self.stats.add_sent(len(body))
        self.stats.add_received(len(data))
        failure = response.get("FunctionError")
        if failure:
            err = FunctionError(
                f"function {name!r} failed ({failure}): {_excerpt(data)}",
                function=name,
                error_type=str(failure),
                payload=data,
                status_code=response.get("StatusCode"),
                provider="aws",
                operation="invoke_function",
            )
            self.stats.record_error(err)
            raise err
        return data if wait else b""

    def _resource(self, config: Mapping[str, Any], tags: Mapping[str, Any]) -> CloudResource:
        name = str(config.get("FunctionName", ""))
        arn = str(config.get("FunctionArn", ""))
        parts = arn.split(":")
        return CloudResource(
            id=name,
            name=name,
            provider=CloudProvider.AWS,
            resource_type=ResourceType.FUNCTION,
            region=parts[3] if len(parts) > 3 and parts[3] else self.region,
            tags={str(k): str(v) for k, v in tags.items()},
            raw=dict(config),
            state=LAMBDA_STATES.get(str(config.get("State", "Active")), ResourceState.UNKNOWN),
        )


def _excerpt(data: bytes) -> str:
    text = data[:_PAYLOAD_EXCERPT].decode("utf-8", "replace")
    return text + ("..." if len(data) > _PAYLOAD_EXCERPT else "")
