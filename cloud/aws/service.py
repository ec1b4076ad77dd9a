"""What the AWS compute and serverless clients share: one lazily opened aiobotocore client
of a named service, the runner (retries, error table, stats, redaction, deadlines) and the
error codes of EC2 and Lambda on top of the S3 table of :mod:`cloud.aws.errors`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from typing import Any, ClassVar

import anyio

from cloud.common.enums import CloudProvider
from cloud.common.exceptions import (
    APIError,
    AuthenticationError,
    BadRequestError,
    CloudError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from cloud.common.lazy_open import OpenOnce
from cloud.common.models import CloudCredentials
from cloud.common.operations import OperationRunner
from cloud.common.pagination import AsyncPaginator, Page
from cloud.common.retry import RetryPolicy
from cloud.common.stats import ClientStats

from .errors import translate as translate_s3
from .session import OpenedClient, open_client
from .validation import check_endpoint_url, check_region, is_aws_endpoint

__all__ = ["COMPUTE_ERROR_CODES", "AWSServiceClient", "check_page_size", "translate"]

COMPUTE_ERROR_CODES: Mapping[str, type[APIError]] = {
    # EC2
    "InvalidInstanceID.NotFound": NotFoundError,
    "InvalidInstanceID.Malformed": BadRequestError,
    "InvalidInstanceID": BadRequestError,
    "IncorrectInstanceState": ConflictError,
    "IncorrectState": ConflictError,
    "IncorrectSpotRequestState": ConflictError,
    "UnsupportedOperation": BadRequestError,
    "OperationNotPermitted": PermissionDeniedError,
    "UnauthorizedOperation": PermissionDeniedError,
    "AuthFailure": AuthenticationError,
    "InvalidParameterValue": BadRequestError,
    "InvalidParameterCombination": BadRequestError,
    "InvalidParameter": BadRequestError,
    "MissingParameter": BadRequestError,
    "InvalidPaginationToken": BadRequestError,
    "InvalidNextToken": BadRequestError,
    "InsufficientInstanceCapacity": ServerError,
    "InstanceLimitExceeded": PermissionDeniedError,
    "VcpuLimitExceeded": PermissionDeniedError,
    "RequestLimitExceeded": RateLimitError,
    "Unavailable": ServerError,
    # Lambda
    "ResourceNotFoundException": NotFoundError,
    "ResourceConflictException": ConflictError,
    "ResourceInUseException": ConflictError,
    "ResourceNotReadyException": ServerError,
    "PreconditionFailedException": ConflictError,
    "InvalidParameterValueException": BadRequestError,
    "InvalidRequestContentException": BadRequestError,
    "RequestTooLargeException": BadRequestError,
    "UnsupportedMediaTypeException": BadRequestError,
    "InvalidRuntimeException": ServerError,
    "AccessDeniedException": PermissionDeniedError,
    "ServiceException": ServerError,
    "TooManyRequestsException": RateLimitError,
    "CodeStorageExceededException": BadRequestError,
}
"""EC2 and Lambda error codes -> class (EC2 answers most of them with HTTP 400, so the status
alone would say ``BadRequestError`` for a missing instance).  Codes not listed here go
through the S3 table and then the HTTP status."""


def translate(exc: BaseException, operation: str, *, secrets: list[str]) -> CloudError | None:
    """The EC2/Lambda error table: :func:`cloud.aws.errors.translate`, with the class
    refined by :data:`COMPUTE_ERROR_CODES` when the service named a listed code."""
    err = translate_s3(exc, operation, secrets=secrets)
    cls = COMPUTE_ERROR_CODES.get(err.code or "") if isinstance(err, APIError) else None
    if isinstance(err, APIError) and cls is not None and type(err) is not cls:
        kwargs: dict[str, Any] = {
            "status_code": err.status_code,
            "code": err.code,
            "request_id": err.request_id,
            "body": err.body,
        }
        if cls is RateLimitError:
            kwargs["retry_after"] = getattr(err, "retry_after", None)
        return cls(err.message, **kwargs)
    return err


def check_page_size(page_size: object, low: int, high: int) -> int | None:
    """``page_size`` clamped to the service's range ``[low, high]``; ``None`` stays ``None``;
    anything but a positive integer is a ``ConfigurationError`` before any I/O."""
    if page_size is None:
        return None
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
        raise ConfigurationError("page_size must be a positive integer")
    return max(low, min(page_size, high))


class AttemptChecks:
    """What one attempt of a call does around it: ``before()`` as it starts, ``after(answer)``
    with the answer (an exception fails the attempt, which the retry policy may repeat)."""

    def __init__(self, before: Callable[[], object], after: Callable[[Mapping[str, Any]], object]) -> None:
        self.before = before
        self.after = after


class BotocoreSession:
    """One aiobotocore client opened on a client's first call (concurrent first calls share
    it) and closed by :meth:`aclose`: the session part of :class:`S3Client` and of
    :class:`AWSServiceClient`.  The class supplies ``_open`` (which calls :meth:`_adopt`)."""

    _runner: OperationRunner
    _credentials: CloudCredentials | None

    def _init_session(self) -> None:
        self._client: Any = None
        self._stack: AsyncExitStack | None = None
        self._once: OpenOnce[Any] = OpenOnce()
        self._resolved_secrets: tuple[str, ...] = ()

    def _secret_values(self) -> list[str]:
        values = list(self._credentials.secrets()) if self._credentials is not None else []
        values.extend(self._resolved_secrets)
        return values

    async def _open(self) -> None:
        raise NotImplementedError

    def _adopt(self, opened: OpenedClient) -> None:
        self._resolved_secrets = opened.secrets
        self._stack = opened.stack
        self._client = opened.client

    async def _get_client(self, operation: str = "open") -> Any:
        """The aiobotocore client, created on first use (concurrent first calls share it)."""
        if self._client is not None:
            return self._client
        with self._runner.errors(operation):
            return await self._once.get(lambda: self._client, self._open)

    def _attempt_checks(self, params: Mapping[str, Any]) -> AttemptChecks | None:
        """What every attempt of a call with ``params`` does before it is sent and with its
        answer (none by default; S3 rewinds and checks bodies)."""
        return None

    async def _request(
        self,
        operation: str,
        method: str,
        params: Mapping[str, Any],
        *,
        idempotent: bool = True,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """One API call through the runner (deadline, retries, error table, stats)."""
        client = await self._get_client(operation)
        bound = getattr(client, method)
        checks = self._attempt_checks(params)

        async def call() -> dict[str, Any]:
            if checks is not None:
                checks.before()
            response: dict[str, Any] = await bound(**params)
            if checks is not None:
                checks.after(response)  # inside the attempt: a failed check is retried
            return response

        return await self._runner.call(operation, call, idempotent=idempotent, timeout=timeout)

    async def aclose(self) -> None:
        """Close the aiobotocore client and its connections.  Idempotent; a later call
        opens a new one."""
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            with anyio.CancelScope(shield=True):
                await stack.aclose()


class AWSServiceClient(BotocoreSession):
    """Mixin of the AWS clients other than S3: configuration checked at construction, one
    aiobotocore client of :attr:`service` opened on the first call (botocore's retries off:
    the :class:`~cloud.common.retry.RetryPolicy` is the one retry loop), every request
    through the client's :class:`~cloud.common.operations.OperationRunner`."""

    service: ClassVar[str]
    """The botocore service name (``ec2``, ``lambda``)."""

    stats: ClientStats
    provider: ClassVar[CloudProvider]

    def _configure(
        self,
        *,
        region: str | None,
        endpoint_url: str | None,
        credentials: CloudCredentials | None,
        profile: str | None,
        retry: RetryPolicy | None,
        timeout: float | None,
    ) -> None:
        if profile is not None and (not isinstance(profile, str) or not profile.strip()):
            raise ConfigurationError("profile must be the name of an AWS profile")
        self.profile = profile
        self.endpoint_url = check_endpoint_url(endpoint_url)
        self.region = check_region(region, aws=is_aws_endpoint(self.endpoint_url))
        if credentials is not None:
            if not isinstance(credentials, CloudCredentials):
                raise ConfigurationError("credentials must be a CloudCredentials")
            if not credentials.access_key_id or not credentials.secret_access_key:
                raise ConfigurationError("AWS credentials need both access_key_id and secret_access_key")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
        ):
            raise ConfigurationError("timeout must be a positive number of seconds")
        self._credentials = credentials
        self._runner = OperationRunner(
            provider=self.provider.value,
            translate=self._translate,
            retry=retry,
            stats=self.stats,
            timeout=timeout,
            secrets=self._secret_values,
        )
        self._init_session()

    def __repr__(self) -> str:
        where = f"endpoint_url={self.endpoint_url!r}" if self.endpoint_url else "AWS"
        return f"<{type(self).__name__} {where} region={self.region!r}>"

    def _translate(self, exc: BaseException, operation: str) -> CloudError | None:
        return translate(exc, operation, secrets=self._secret_values())

    async def _open(self) -> None:
        # a synchronous invocation may run for up to 15 minutes; the whole-call deadline
        # (timeout=) is what bounds it
        opened = await open_client(
            self.service,
            config={"read_timeout": 900},
            region=self.region,
            endpoint_url=self.endpoint_url,
            credentials=self._credentials,
            profile=self.profile,
        )
        self._adopt(opened)

    def _paginate(
        self,
        operation: str,
        method: str,
        params: Mapping[str, Any],
        *,
        token_in: str,
        token_out: str,
        items: Any,
        timeout: float | None,
    ) -> AsyncPaginator[Any]:
        """An :class:`AsyncPaginator` over a token-paged call: ``items(response)`` gives a
        page's items, ``token_in``/``token_out`` name the request and response tokens."""

        async def fetch(token: str | None) -> Page[Any]:
            call = dict(params)
            if token:
                call[token_in] = token
            response = await self._request(operation, method, call, timeout=timeout)
            return Page(list(items(response)), response.get(token_out) or None)

        return AsyncPaginator(fetch)
