"""What the Azure VM and Functions clients share: Azure Resource Manager management clients
(``azure-mgmt-compute``/``azure-mgmt-web``, async) opened lazily with ``azure-identity``
credentials, the one runner (the SDK's own retries off), the Azure error table, ARM ids
and names, and server pages split to the caller's page size."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
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
from cloud.common.extras import require_extra
from cloud.common.lazy_open import OpenOnce
from cloud.common.operations import OperationRunner
from cloud.common.pagination import AsyncPaginator, Page
from cloud.common.retry import RetryPolicy
from cloud.common.stats import ClientStats

from .errors import translate as translate_azure

__all__ = ["ARM_ERROR_CODES", "ARMClient", "check_name", "check_resource_group", "translate"]

DEFAULT_BASE_URL = "https://management.azure.com"

_RESOURCE_GROUP = re.compile(r"[-\w.()]{0,89}[-\w()]")
_NAME = re.compile(r"[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,62}[A-Za-z0-9_])?")
_SUBSCRIPTION = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def check_resource_group(name: object) -> str:
    """A resource group name (1-90 letters, digits, ``-_.()``, not ending in ``.``)."""
    if not isinstance(name, str) or not _RESOURCE_GROUP.fullmatch(name) or ".." in name:
        raise ConfigurationError(f"invalid Azure resource group name {str(name)[:100]!r}")
    return name


def check_name(name: object, what: str) -> str:
    """A VM, function app or function name (letters, digits, ``-_.``, no ``..``)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise ConfigurationError(f"invalid Azure {what} name {str(name)[:100]!r}")
    return name


ARM_ERROR_CODES: Mapping[str, type[APIError]] = {
    "ResourceNotFound": NotFoundError,
    "ResourceGroupNotFound": NotFoundError,
    "SubscriptionNotFound": NotFoundError,
    "NotFound": NotFoundError,
    "ParentResourceNotFound": NotFoundError,
    "InvalidAuthenticationToken": AuthenticationError,
    "ExpiredAuthenticationToken": AuthenticationError,
    "AuthenticationFailed": AuthenticationError,
    "AuthorizationFailed": PermissionDeniedError,
    "LinkedAuthorizationFailed": PermissionDeniedError,
    "OperationNotAllowed": ConflictError,
    "Conflict": ConflictError,
    "PropertyChangeNotAllowed": ConflictError,
    "InvalidParameter": BadRequestError,
    "InvalidRequestContent": BadRequestError,
    "BadRequest": BadRequestError,
    "TooManyRequests": RateLimitError,
    "RetryableError": ServerError,
    "InternalServerError": ServerError,
    "AllocationFailed": ServerError,
    "ZonalAllocationFailed": ServerError,
    "OverconstrainedAllocationRequest": ServerError,
}
"""Azure Resource Manager error codes -> class, on top of the HTTP status (a failed
long-running operation arrives in a 200 answer: its code alone tells what happened;
capacity failures are retryable server errors)."""


def translate(exc: BaseException, operation: str) -> CloudError | None:
    """The Azure error table (:func:`cloud.azure.errors.translate`) refined for Resource
    Manager: the code of the error body (``exc.error.code``, also for a failed long-running
    operation) becomes ``code`` and, when :data:`ARM_ERROR_CODES` lists it, the class."""
    err = translate_azure(exc, operation)
    body_code = getattr(getattr(exc, "error", None), "code", None)
    if err is None or not isinstance(body_code, str) or not body_code:
        return err
    cls = ARM_ERROR_CODES.get(body_code)
    if isinstance(err, APIError) and cls is not None and type(err) is not cls:
        status = err.status_code if isinstance(err.status_code, int) and err.status_code >= 300 else None
        err = cls(err.message, status_code=status, code=body_code, request_id=err.request_id, body=err.body)
    elif getattr(err, "code", None) in (None, type(exc).__name__):
        err.code = body_code  # type: ignore[attr-defined]
    return err


class ARMClient:
    """Mixin of the Azure management clients: checked configuration, one management client
    of :attr:`sdk_client` opened on the first call (with ``retry_total=0``: the
    :class:`~cloud.common.retry.RetryPolicy` is the one retry loop), every call through the
    runner.

    ``credential=`` is any ``azure.core`` async token credential (default
    ``DefaultAzureCredential``, created and closed by the client); ``base_url=`` another
    Resource Manager endpoint (default ``https://management.azure.com``; a plain-HTTP
    loopback URL is accepted for fakes and emulators, bearer tokens included).
    """

    stats: ClientStats
    provider: ClassVar[CloudProvider]
    extra: ClassVar[str] = "azure-compute"

    def _configure(
        self,
        *,
        subscription_id: str | None,
        credential: Any,
        base_url: str | None,
        retry: RetryPolicy | None,
        timeout: float | None,
        polling_interval: float | None = None,
    ) -> None:
        if polling_interval is not None and (
            isinstance(polling_interval, bool) or not isinstance(polling_interval, (int, float)) or polling_interval < 0
        ):
            raise ConfigurationError("polling_interval must be a number of seconds")
        self.polling_interval = polling_interval
        subscription = subscription_id or os.environ.get("AZURE_SUBSCRIPTION_ID")
        if not isinstance(subscription, str) or not _SUBSCRIPTION.fullmatch(subscription):
            raise ConfigurationError(
                "subscription_id must be an Azure subscription id (a GUID): pass subscription_id= "
                "or set AZURE_SUBSCRIPTION_ID"
            )
        root = (base_url or DEFAULT_BASE_URL).rstrip("/")
        if not root.startswith(("https://", "http://")):
            raise ConfigurationError(f"base_url must be an http(s) URL, not {root!r}")
        if credential is not None and not callable(getattr(credential, "get_token", None)):
            raise ConfigurationError("credential must be an async token credential (azure.identity.aio)")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
        ):
            raise ConfigurationError("timeout must be a positive number of seconds")
        self.subscription_id = subscription
        self.base_url = root
        self._credential = credential
        self._owned_credential: Any = None
        self._runner = OperationRunner(
            provider=self.provider.value,
            translate=translate,
            retry=retry,
            stats=self.stats,
            timeout=timeout,
        )
        self._sdk: Any = None
        self._once: OpenOnce[Any] = OpenOnce()
        # azure-core refuses bearer tokens over plain HTTP unless told; only for an
        # explicit http:// base_url (a fake or emulator on loopback)
        self._call_options: dict[str, Any] = {"enforce_https": False} if root.startswith("http://") else {}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} subscription={self.subscription_id!r} base_url={self.base_url!r}>"

    def _create_sdk(self, credential: Any) -> Any:
        """Build the SDK's async management client (called once, under the lock)."""
        raise NotImplementedError

    async def _client(self, operation: str) -> Any:
        if self._sdk is not None:
            return self._sdk
        with self._runner.errors(operation):
            return await self._once.get(lambda: self._sdk, self._open)

    async def _open(self) -> None:
        """Build the management client (called once, under the lock)."""
        require_extra(self.extra, *self._sdk_modules)
        credential = self._credential
        if credential is None:
            from azure.identity.aio import DefaultAzureCredential

            credential = self._owned_credential = DefaultAzureCredential()
        self._sdk = self._create_sdk(credential)

    _sdk_modules: ClassVar[tuple[str, ...]] = ()

    def _sdk_options(self) -> dict[str, Any]:
        """Constructor options every management client gets."""
        options: dict[str, Any] = {"base_url": self.base_url, "retry_total": 0, "logging_enable": False}
        if self.polling_interval is not None:
            options["polling_interval"] = self.polling_interval
        return options

    async def aclose(self) -> None:
        """Close the management client and a credential this client created.  Idempotent;
        a later call opens new ones."""
        sdk, self._sdk = self._sdk, None
        owned, self._owned_credential = self._owned_credential, None
        with anyio.CancelScope(shield=True):
            if sdk is not None:
                await sdk.close()
            if owned is not None:
                await owned.close()

    async def _call(
        self,
        operation: str,
        fn: Callable[[Any], Awaitable[Any]],
        *,
        idempotent: bool = True,
        timeout: float | None = None,
    ) -> Any:
        """``await fn(sdk_client)`` through the runner (deadline, retries, error table)."""
        sdk = await self._client(operation)
        return await self._runner.call(operation, lambda: fn(sdk), idempotent=idempotent, timeout=timeout)

    def _pages(
        self,
        operation: str,
        pager: Callable[[Any], Any],
        convert: Callable[[Any], Any],
        *,
        page_size: int | None,
        timeout: float | None,
    ) -> AsyncPaginator[Any]:
        """An :class:`AsyncPaginator` over an ``AsyncItemPaged`` (``pager(sdk)``), one ARM
        page (``nextLink``) at a time, split into pages of at most ``page_size`` items (ARM
        listings take no page size); the last server page is kept for the split."""
        return AsyncPaginator(self._page_fetcher(operation, pager, convert, page_size=page_size, timeout=timeout))

    def _page_fetcher(
        self,
        operation: str,
        pager: Callable[[Any], Any],
        convert: Callable[[Any], Any],
        *,
        page_size: int | None,
        timeout: float | None,
    ) -> Callable[[str | None], Awaitable[Page[Any]]]:
        """The ``fetch_page`` of :meth:`_pages`."""
        if page_size is not None and (isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1):
            raise ConfigurationError("page_size must be a positive integer")
        cache: dict[str, tuple[list[Any], str | None]] = {}

        async def server_page(link: str) -> tuple[list[Any], str | None]:
            if link in cache:
                return cache[link]
            sdk = await self._client(operation)

            async def fetch() -> tuple[list[Any], str | None]:
                pages = pager(sdk).by_page(continuation_token=link or None)
                try:
                    page = await pages.__anext__()
                except StopAsyncIteration:
                    return [], None
                items = [convert(item) async for item in page]
                return items, pages.continuation_token or None

            found = await self._runner.call(operation, fetch, timeout=timeout)
            cache.clear()
            cache[link] = found
            return found

        async def fetch_page(token: str | None) -> Page[Any]:
            offset, _, link = (token or "0|").partition("|")
            items, next_link = await server_page(link)
            start = int(offset)
            end = len(items) if page_size is None else start + page_size
            if end < len(items):
                return Page(items[start:end], f"{end}|{link}")
            return Page(items[start:], f"0|{next_link}" if next_link else None)

        return fetch_page


async def collect_async(iterator: AsyncIterator[Any]) -> list[Any]:
    """All items of an async iterator."""
    return [item async for item in iterator]


def as_mapping(model: Any) -> Mapping[str, Any]:
    """An SDK model as its wire-format dict (``raw`` of a :class:`CloudResource`)."""
    as_dict = getattr(model, "as_dict", None)
    return dict(as_dict()) if callable(as_dict) else {}
