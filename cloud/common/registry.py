"""The provider registry: one table of every backend the SDK knows.

Each :class:`Provider` entry says which URL schemes reach the backend, which pip extra it
needs, where its async and sync client classes live (``"module:Class"`` paths, imported
only when used) and how a client is configured from a URL, command-line settings and the
environment.  :func:`cloud.open_storage`, :mod:`cloud.transfer`, the ``cloud`` command and
the sync-stub generator all read this table, so a new storage backend is its own package
plus one entry here (or one :func:`register` call)::

    from cloud.common.registry import Provider, register

    register(Provider(
        name="acme",
        schemes=("acme",),
        extra="acme",
        client="acme_cloud.client:AcmeClient",
        sync_client="acme_cloud.sync:SyncAcmeClient",
    ))
    store = cloud.open_storage("acme://bucket")

A package can also be named in the ``CLOUD_PROVIDERS`` environment variable
(comma-separated module names): each is imported on the first registry lookup, so its
``register(...)`` call reaches programs that never import it, such as the ``cloud`` command.
Importing this module imports no provider and no SDK.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union
from urllib.parse import unquote, urlsplit

from .exceptions import ConfigurationError, MissingDependencyError

if TYPE_CHECKING:
    from .base import StorageClient
    from .models import ObjectMetadata

__all__ = [
    "PLUGINS_VARIABLE",
    "BucketLister",
    "ClientSettings",
    "OptionsBuilder",
    "Provider",
    "for_client",
    "for_name",
    "for_scheme",
    "load",
    "providers",
    "register",
    "schemes",
    "storage_providers",
    "unregister",
]


@dataclass(frozen=True)
class ClientSettings:
    """Settings given from outside the code (the ``cloud`` command's options); ``None``
    leaves each to the provider's own default and environment variables."""

    endpoint_url: str | None = None
    """Service endpoint (an emulator, MinIO...)."""
    region: str | None = None
    """Region (AWS)."""
    profile: str | None = None
    """Named credentials profile (AWS)."""
    project: str | None = None
    """Project (Google Cloud)."""


OptionsBuilder = Callable[[str, ClientSettings, Mapping[str, str]], dict[str, Any]]
"""``(url, settings, environ) -> constructor keyword arguments``.  ``url`` is the storage URL
being opened (for a local store it carries the root folder); ``environ`` is empty when only
what the URL and the settings say should count (:func:`cloud.open_storage`)."""

BucketLister = Callable[["StorageClient"], AsyncIterator[str]]
"""``client -> async iterator of bucket names`` (``cloud ls s3://``)."""

QuickLister = Callable[[str, str, Union[str, None], Mapping[str, Any]], Union["list[ObjectMetadata]", None]]
"""``(bucket, prefix, delimiter, client options) -> the whole listing, or None``: a
blocking listing that answers without loading the provider's SDK where it can do exactly
what the client would (``None`` everywhere else: the caller then uses the client)."""

_Ref = Union[str, Callable[..., Any]]


@dataclass(frozen=True)
class Provider:
    """One backend: its URL schemes, extra, client classes and configuration."""

    name: str
    """Short name, the value of :class:`~cloud.common.enums.CloudProvider` (``"aws"``)."""
    schemes: tuple[str, ...]
    """URL schemes (``("s3",)``); the first names objects in messages.  Empty for a
    client that is not a storage backend (Coda)."""
    client: str
    """``"module:Class"`` of the async client."""
    sync_client: str | None = None
    """``"module:Class"`` of the blocking facade."""
    extra: str | None = None
    """The pip extra that installs the SDK (``None``: always available)."""
    options: _Ref | None = None
    """An :data:`OptionsBuilder`, or its ``"module:function"`` path."""
    buckets: _Ref | None = None
    """A :data:`BucketLister`, or its ``"module:function"`` path."""
    quick_list: _Ref | None = None
    """A :data:`QuickLister`, or its ``"module:function"`` path: ``cloud ls`` tries it before
    it opens a client, to start fast."""
    label: str = ""
    """Human name (``"Amazon S3"``)."""
    local: bool = False
    """Objects are files on this machine (``file://``): the command line maps paths to it."""
    endpoint_hint: str = ""
    """Where the endpoint comes from when none is given (for help texts)."""

    @property
    def scheme(self) -> str:
        """The scheme of object URLs (``""`` for a client that is not storage)."""
        return self.schemes[0] if self.schemes else ""

    def _import(self, ref: str) -> Any:
        try:
            return load(ref)
        except MissingDependencyError:
            raise
        except ImportError as exc:
            if self.extra is None:
                raise
            raise MissingDependencyError(
                f"{self.label or self.name} ({', '.join(s + '://' for s in self.schemes) or self.name}) is not "
                f"available in this installation ({exc}): pip install 'codomyrmex-cloud[{self.extra}]'",
                extra=self.extra,
            ) from exc

    def client_class(self) -> type[Any]:
        """The async client class (imports the provider; a missing extra raises
        :class:`~cloud.common.exceptions.MissingDependencyError`)."""
        cls: type[Any] = self._import(self.client)
        return cls

    def sync_client_class(self) -> type[Any]:
        """The blocking facade class."""
        if self.sync_client is None:
            raise ConfigurationError(f"the {self.name!r} provider has no blocking facade")
        cls: type[Any] = self._import(self.sync_client)
        return cls

    def client_options(
        self, url: str = "", settings: ClientSettings | None = None, environ: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Constructor arguments for ``url`` under ``settings`` and ``environ`` (default:
        ``os.environ``)."""
        if self.options is None:
            return {}
        builder: OptionsBuilder = self.options if callable(self.options) else load(self.options)
        return builder(url, settings or ClientSettings(), os.environ if environ is None else environ)

    def create(
        self,
        url: str = "",
        settings: ClientSettings | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        **options: Any,
    ) -> StorageClient:
        """A new async client: :meth:`client_options` overridden by ``options``."""
        kwargs = self.client_options(url, settings, environ)
        kwargs.update(options)
        client: StorageClient = self.client_class()(**kwargs)
        return client

    def iter_buckets(self, client: StorageClient) -> AsyncIterator[str]:
        """The names of the buckets (containers, folders) ``client`` can see."""
        if self.buckets is None:
            raise ConfigurationError(f"{self.label or self.name} cannot list its buckets")
        lister: BucketLister = self.buckets if callable(self.buckets) else load(self.buckets)
        return lister(client)

    def quick_listing(
        self, url: str, bucket: str, prefix: str, delimiter: str | None, settings: ClientSettings | None = None
    ) -> list[ObjectMetadata] | None:
        """The provider's :data:`QuickLister` answer for a listing of ``url`` under
        ``settings`` (``None`` when it has none, or when it leaves the listing to the client)."""
        if self.quick_list is None:
            return None
        lister: QuickLister = self.quick_list if callable(self.quick_list) else load(self.quick_list)
        return lister(bucket, prefix, delimiter, self.client_options(url, settings))


def load(ref: str) -> Any:
    """Import ``"module:attribute"`` and return the attribute."""
    module, sep, attribute = ref.partition(":")
    if not sep or not module or not attribute:
        raise ConfigurationError(f"a registry reference is 'module:attribute', not {ref!r}")
    value: Any = importlib.import_module(module)
    for part in attribute.split("."):
        value = getattr(value, part)
    return value


# -- the built-in providers' configuration ----------------------------------------------------


def _s3_options(url: str, settings: ClientSettings, environ: Mapping[str, str]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    endpoint = settings.endpoint_url or environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    if settings.region:
        kwargs["region"] = settings.region
    if settings.profile:
        kwargs["profile"] = settings.profile
    return kwargs


def _gcs_options(url: str, settings: ClientSettings, environ: Mapping[str, str]) -> dict[str, Any]:
    # GCSClient itself honours STORAGE_EMULATOR_HOST and GOOGLE_CLOUD_PROJECT.
    kwargs: dict[str, Any] = {}
    if settings.endpoint_url:
        kwargs["api_root"] = settings.endpoint_url
    if settings.project:
        kwargs["project"] = settings.project
    return kwargs


def _azure_options(url: str, settings: ClientSettings, environ: Mapping[str, str]) -> dict[str, Any]:
    # AzureBlobClient itself reads AZURE_STORAGE_CONNECTION_STRING / _ACCOUNT_URL / _ACCOUNT.
    return {"account_url": settings.endpoint_url} if settings.endpoint_url else {}


def _local_options(url: str, settings: ClientSettings, environ: Mapping[str, str]) -> dict[str, Any]:
    if "://" not in url:
        return {"root": os.path.abspath(os.path.expanduser(url))} if url else {}
    scheme = url.split("://", 1)[0].lower()
    if scheme != "file":
        return {}
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise ConfigurationError("file:// URLs must be local: file:///path")
    return {"root": os.path.abspath(unquote(parts.path) or "/")}


_BUILTIN = (
    Provider(
        name="aws",
        schemes=("s3",),
        extra="aws",
        client="cloud.aws.client:S3Client",
        sync_client="cloud.aws.sync:SyncS3Client",
        options=_s3_options,
        buckets="cloud.aws.buckets:iter_buckets",
        quick_list="cloud.aws.quick_list:quick_list",
        label="Amazon S3",
        endpoint_hint="AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL",
    ),
    Provider(
        name="gcp",
        schemes=("gs",),
        extra="gcp",
        client="cloud.gcp.client:GCSClient",
        sync_client="cloud.gcp.sync:SyncGCSClient",
        options=_gcs_options,
        buckets="cloud.gcp.buckets:iter_buckets",
        label="Google Cloud Storage",
        endpoint_hint="STORAGE_EMULATOR_HOST",
    ),
    Provider(
        name="azure",
        schemes=("az",),
        extra="azure",
        client="cloud.azure.client:AzureBlobClient",
        sync_client="cloud.azure.sync:SyncAzureBlobClient",
        options=_azure_options,
        buckets="cloud.azure.buckets:iter_buckets",
        label="Azure Blob Storage",
        endpoint_hint="AZURE_STORAGE_CONNECTION_STRING / AZURE_STORAGE_ACCOUNT_URL",
    ),
    Provider(
        name="local",
        schemes=("memory", "file"),
        client="cloud.local.client:LocalStorageClient",
        sync_client="cloud.local.sync:SyncLocalStorageClient",
        options=_local_options,
        buckets="cloud.local.buckets:iter_buckets",
        label="local storage",
        local=True,
    ),
    Provider(
        name="coda",
        schemes=(),
        client="cloud.coda_io.client:CodaClient",
        sync_client="cloud.coda_io.sync:SyncCodaClient",
        label="Coda",
    ),
)

_PROVIDERS: dict[str, Provider] = {p.name: p for p in _BUILTIN}
_plugins_loaded = False

PLUGINS_VARIABLE = "CLOUD_PROVIDERS"
"""Environment variable naming modules that register providers when imported."""


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for module in os.environ.get(PLUGINS_VARIABLE, "").split(","):
        if module.strip():
            try:
                importlib.import_module(module.strip())
            except ImportError as exc:
                raise ConfigurationError(
                    f"{PLUGINS_VARIABLE} names {module.strip()!r}, which cannot be imported: {exc}"
                ) from exc


def register(provider: Provider, *, replace: bool = False) -> Provider:
    """Add a backend.  Its name and schemes must be new unless ``replace``."""
    if not provider.name or not provider.name.replace("-", "").replace("_", "").isalnum():
        raise ConfigurationError(f"invalid provider name {provider.name!r}")
    for scheme in provider.schemes:
        if not scheme or not (scheme[0].isalpha() and all(c.isalnum() or c in "+-." for c in scheme)):
            raise ConfigurationError(f"invalid URL scheme {scheme!r}")
    if not replace:
        if provider.name in _PROVIDERS:
            raise ConfigurationError(f"a provider named {provider.name!r} is already registered")
        for other in _PROVIDERS.values():
            taken = set(other.schemes) & set(provider.schemes)
            if taken:
                raise ConfigurationError(f"the scheme {sorted(taken)[0]}:// already belongs to {other.name!r}")
    else:
        for other in list(_PROVIDERS.values()):
            if other.name != provider.name and set(other.schemes) & set(provider.schemes):
                raise ConfigurationError(f"a scheme of {provider.name!r} already belongs to {other.name!r}")
    _PROVIDERS[provider.name] = provider
    return provider


def unregister(name: str) -> None:
    """Remove a backend added with :func:`register` (unknown names are ignored)."""
    _PROVIDERS.pop(name, None)


def providers() -> tuple[Provider, ...]:
    """Every registered provider, built-ins first."""
    _load_plugins()
    return tuple(_PROVIDERS.values())


def storage_providers() -> Iterator[Provider]:
    """The providers reachable through a storage URL."""
    _load_plugins()
    return (p for p in _PROVIDERS.values() if p.schemes)


def schemes() -> tuple[str, ...]:
    """Every storage URL scheme."""
    return tuple(s for p in storage_providers() for s in p.schemes)


def for_name(name: str) -> Provider | None:
    """The provider of that name, if registered."""
    _load_plugins()
    return _PROVIDERS.get(name)


def for_scheme(scheme: str) -> Provider:
    """The provider of a URL scheme; an unknown scheme is a
    :class:`~cloud.common.exceptions.ConfigurationError` naming the known ones."""
    wanted = scheme.lower()
    for provider in storage_providers():
        if wanted in provider.schemes:
            return provider
    known = ", ".join(f"{s}://" for s in schemes())
    raise ConfigurationError(f"unsupported storage URL scheme {scheme!r}: use one of {known} or a local path")


def for_client(client: object) -> Provider | None:
    """The provider a client object belongs to (by its ``provider`` name)."""
    provider = getattr(client, "provider", None)
    name = getattr(provider, "value", provider)
    return for_name(name) if isinstance(name, str) else None
