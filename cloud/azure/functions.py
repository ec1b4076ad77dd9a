"""AzureFunctionsClient: the serverless contract on Azure Functions (``azure-mgmt-web``
async for the function apps, HTTP for the invocations)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from cloud.common.base import ServerlessClient, encode_payload
from cloud.common.enums import CloudProvider, ResourceState, ResourceType
from cloud.common.exceptions import (
    ConfigurationError,
    FunctionError,
    RequestTimeoutError,
    TransportError,
    error_for_status,
)
from cloud.common.models import CloudResource
from cloud.common.pagination import AsyncPaginator, Page
from cloud.common.redaction import scrub_exception
from cloud.common.retry import RetryPolicy

from .arm import ARMClient, as_mapping, check_name, check_resource_group

if TYPE_CHECKING:
    import httpx
    from azure.core.credentials_async import AsyncTokenCredential

__all__ = ["AzureFunctionsClient"]

_PAYLOAD_EXCERPT = 300


class AzureFunctionsClient(ARMClient, ServerlessClient):
    """The serverless contract on Azure Functions.

    Credentials and ``base_url=`` as :class:`AzureVMClient`.  Function ids are
    ``resource-group/function-app/function``; ``resource_group=`` and ``function_app=``
    narrow listings (without ``function_app`` every function app of the group or
    subscription is listed, one app's page of functions at a time).  ``tags`` are the
    function app's tags; ``state`` is ``inactive`` for a disabled function or a stopped
    app, else ``active``.

    :meth:`invoke_function` POSTs the payload to the function's ``invoke_url_template``
    with its default function key (``x-functions-key``, fetched through Resource Manager and
    never logged); an answer of 5xx is the function's own failure (:class:`FunctionError`).
    Azure Functions has no asynchronous invocation of HTTP functions: ``wait=False``
    raises ``ConfigurationError``.  ``transport=`` is the httpx transport of invocations.
    Needs the ``azure-compute`` extra.
    """

    provider: ClassVar[CloudProvider] = CloudProvider.AZURE
    _sdk_modules: ClassVar[tuple[str, ...]] = ("azure.mgmt.web.aio",)

    def __init__(
        self,
        *,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        function_app: str | None = None,
        credential: AsyncTokenCredential | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__()
        self.resource_group = check_resource_group(resource_group) if resource_group is not None else None
        if function_app is not None and resource_group is None:
            raise ConfigurationError("function_app= needs resource_group=")
        self.function_app = check_name(function_app, "function app") if function_app is not None else None
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._keys: list[str] = []
        self._configure(
            subscription_id=subscription_id, credential=credential, base_url=base_url, retry=retry, timeout=timeout
        )
        self._runner.secrets = lambda: list(self._keys)

    def _create_sdk(self, credential: Any) -> Any:
        from azure.mgmt.web.aio import WebSiteManagementClient

        return WebSiteManagementClient(credential, self.subscription_id, **self._sdk_options())

    async def aclose(self) -> None:
        """Close the management client, the invocation session and an owned credential."""
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()
        await super().aclose()

    def _split(self, name: object) -> tuple[str, str, str]:
        if not isinstance(name, str):
            raise ConfigurationError("the function must be named 'resource-group/function-app/function'")
        parts = name.split("/")
        if len(parts) == 1 and self.function_app is not None:
            parts = [self.resource_group or "", self.function_app, parts[0]]
        if len(parts) != 3:
            raise ConfigurationError(
                f"invalid Azure function {name[:100]!r}: use 'resource-group/function-app/function'"
            )
        try:
            return (
                check_resource_group(parts[0]),
                check_name(parts[1], "function app"),
                check_name(parts[2], "function"),
            )
        except ConfigurationError:
            raise ConfigurationError(
                f"invalid Azure function {name[:100]!r}: use 'resource-group/function-app/function'"
            ) from None

    def list_functions(
        self, *, page_size: int | None = None, timeout: float | None = None
    ) -> AsyncPaginator[CloudResource]:
        """List functions lazily: those of ``function_app``, else of every function app."""
        options = self._call_options
        if self.function_app is not None:
            group, app = self.resource_group or "", self.function_app
            return self._pages(
                "list_functions",
                lambda sdk: sdk.web_apps.list_functions(group, app, **options),
                lambda f: self._resource(f, group, None),
                page_size=page_size,
                timeout=timeout,
            )
        if page_size is not None and (isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1):
            raise ConfigurationError("page_size must be a positive integer")
        group_filter = self.resource_group

        def apps_pager(sdk: Any) -> Any:
            if group_filter is not None:
                return sdk.web_apps.list_by_resource_group(group_filter, **options)
            return sdk.web_apps.list(**options)

        apps = self._pages("list_functions", apps_pager, lambda site: site, page_size=None, timeout=timeout)
        found_apps: list[Any] = []
        app_pages = apps.pages()
        # the fetcher of the app being listed: it keeps that app's last server page while it is split
        fetchers: dict[int, Callable[[str | None], Awaitable[Page[CloudResource]]]] = {}

        async def app_at(index: int) -> Any:
            while len(found_apps) <= index:
                try:
                    page = await app_pages.__anext__()
                except StopAsyncIteration:
                    return None
                found_apps.extend(s for s in page.items if "functionapp" in str(getattr(s, "kind", "") or ""))
            return found_apps[index]

        async def fetch(token: str | None) -> Page[CloudResource]:
            index_text, _, inner = (token or "0|").partition("|")
            index = int(index_text)
            site = await app_at(index)
            if site is None:
                return Page([], None)
            functions = fetchers.get(index)
            if functions is None:
                group, app = _group_of(site), str(site.name)
                fetchers.clear()  # only the app being listed keeps a page
                functions = fetchers[index] = self._page_fetcher(
                    "list_functions",
                    lambda sdk: sdk.web_apps.list_functions(group, app, **options),
                    lambda f: self._resource(f, group, site),
                    page_size=page_size,
                    timeout=timeout,
                )
            page = await functions(inner or None)
            if page.next_token:
                return Page(page.items, f"{index}|{page.next_token}")
            return Page(page.items, f"{index + 1}|" if await app_at(index + 1) is not None else None)

        return AsyncPaginator(fetch)

    async def get_function(self, name: str, *, timeout: float | None = None) -> CloudResource:
        """Describe one function with its app's tags (``NotFoundError`` if missing)."""
        group, app, short = self._split(name)
        options = self._call_options
        function = await self._call(
            "get_function", lambda sdk: sdk.web_apps.get_function(group, app, short, **options), timeout=timeout
        )
        site = await self._call("get_function", lambda sdk: sdk.web_apps.get(group, app, **options), timeout=timeout)
        return self._resource(function, group, site)

    async def invoke_function(
        self,
        name: str,
        payload: bytes | Mapping[str, Any] | None = None,
        *,
        wait: bool = True,
        timeout: float | None = None,
    ) -> bytes:
        """POST ``payload`` to the function's URL with its function key and return the
        answer.  A 5xx answer raises :class:`FunctionError`; ``wait=False`` is a
        ``ConfigurationError`` (no asynchronous invocation of HTTP functions on Azure)."""
        group, app, short = self._split(name)
        body = encode_payload(payload)
        if not wait:
            raise ConfigurationError(
                "Azure Functions has no asynchronous invocation of HTTP functions: use wait=True "
                "(or send to the queue that triggers a queue-triggered function)"
            )
        options = self._call_options
        function = await self._call(
            "invoke_function", lambda sdk: sdk.web_apps.get_function(group, app, short, **options), timeout=timeout
        )
        url = str(getattr(getattr(function, "properties", None), "invoke_url_template", None) or "")
        if not url.startswith(("https://", "http://")):
            raise ConfigurationError(f"function {name!r} has no invocation URL (is it HTTP-triggered?)")
        keys = await self._call(
            "invoke_function",
            lambda sdk: sdk.web_apps.list_function_keys(group, app, short, **options),
            timeout=timeout,
        )
        values = dict(getattr(keys, "properties", None) or {})
        key = str(values.get("default") or next(iter(values.values()), "") or "")
        if key:
            self._keys.append(key)
        import httpx  # on the first invocation: the package imports without it

        if self._http is None:
            self._http = httpx.AsyncClient(transport=self._transport, timeout=httpx.Timeout(None, connect=60.0))
        http = self._http
        content_type = "application/json" if isinstance(payload, Mapping) else "application/octet-stream"

        async def call() -> bytes:
            headers = {"Content-Type": content_type}
            if key:
                headers["x-functions-key"] = key
            try:
                response = await http.post(url, content=body, headers=headers)
            except httpx.TimeoutException as exc:
                scrub_exception(exc, [key])  # its request carries the function key
                raise RequestTimeoutError(f"invoke_function timed out ({type(exc).__name__})") from exc
            except httpx.TransportError as exc:
                scrub_exception(exc, [key])
                raise TransportError(f"no answer from the function: {type(exc).__name__}") from exc
            self.stats.add_received(len(response.content))
            if response.status_code >= 500:
                raise FunctionError(
                    f"function {name!r} failed (HTTP {response.status_code}): {_excerpt(response.content)}",
                    function=name,
                    error_type=f"HTTP {response.status_code}",
                    payload=response.content,
                    status_code=response.status_code,
                )
            if response.status_code >= 400:
                raise error_for_status(
                    response.status_code,
                    f"function {name!r} answered HTTP {response.status_code}: {_excerpt(response.content)}",
                    body=_excerpt(response.content),
                )
            return response.content

        self.stats.add_sent(len(body))
        result: bytes = await self._runner.call("invoke_function", call, idempotent=False, timeout=timeout)
        return result

    def _resource(self, function: Any, group: str, site: Any) -> CloudResource:
        raw = as_mapping(function)
        full = str(raw.get("name") or "")  # "app/function"
        app, _, short = full.rpartition("/")
        disabled = bool((raw.get("properties") or {}).get("isDisabled"))
        site_raw = as_mapping(site) if site is not None else {}
        app_state = str((site_raw.get("properties") or {}).get("state") or "Running")
        state = ResourceState.INACTIVE if disabled or app_state.lower() == "stopped" else ResourceState.ACTIVE
        return CloudResource(
            id=f"{group}/{app}/{short}",
            name=short,
            provider=CloudProvider.AZURE,
            resource_type=ResourceType.FUNCTION,
            region=site_raw.get("location") or raw.get("location"),
            tags={str(k): str(v) for k, v in (site_raw.get("tags") or {}).items()},
            raw={**raw, "functionApp": json.loads(json.dumps(site_raw, default=str))} if site_raw else raw,
            state=state,
        )


def _group_of(site: Any) -> str:
    group = getattr(getattr(site, "properties", None), "resource_group", None)
    if group:
        return str(group)
    parts = str(getattr(site, "id", "") or "").split("/")
    return parts[4] if len(parts) > 4 else ""


def _excerpt(data: bytes) -> str:
    text = data[:_PAYLOAD_EXCERPT].decode("utf-8", "replace")
    return text + ("..." if len(data) > _PAYLOAD_EXCERPT else "")
