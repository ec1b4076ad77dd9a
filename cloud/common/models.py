"""Dataclass models shared by every client."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

from .enums import CloudProvider, ResourceState, ResourceType

__all__ = [
    "CloudCredentials",
    "CloudResource",
    "ObjectMetadata",
    "TransferResult",
    "plain_etag",
    "utc_datetime",
]


_SECRET_FIELDS = frozenset({"secret_access_key", "session_token", "account_key", "connection_string", "token"})


@dataclass(frozen=True)
class CloudCredentials:
    """Explicit credentials for a provider; secrets never appear in ``repr``.

    Fill the fields that apply: ``access_key_id``/``secret_access_key``/``session_token``
    (AWS or any S3-compatible store), ``service_account_file`` (GCP),
    ``account_name``/``account_key`` or ``connection_string`` (Azure), ``token`` (a bearer
    token, e.g. Coda's API token).
    """

    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    service_account_file: str | None = None
    account_name: str | None = None
    account_key: str | None = field(default=None, repr=False)
    connection_string: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            shown = "'***'" if f.name in _SECRET_FIELDS else repr(value)
            parts.append(f"{f.name}={shown}")
        return f"CloudCredentials({', '.join(parts)})"

    __str__ = __repr__

    def secrets(self) -> list[str]:
        """The secret values held, for redaction of logs and messages."""
        return [v for name in _SECRET_FIELDS if isinstance(v := getattr(self, name), str) and v]


@dataclass(frozen=True, slots=True)
class ObjectMetadata:
    """What a storage backend knows about one object (or, when ``is_prefix``, a common
    prefix returned by a delimiter listing)."""

    name: str
    bucket: str
    size: int
    etag: str | None
    content_type: str | None
    last_modified: datetime | None
    metadata: Mapping[str, str] = field(default_factory=dict)
    provider: CloudProvider = CloudProvider.LOCAL
    is_prefix: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The contract dict returned by ``get_metadata``: the same keys on every provider."""
        return {
            "name": self.name,
            "bucket": self.bucket,
            "size": self.size,
            "etag": self.etag,
            "content_type": self.content_type,
            "last_modified": self.last_modified,
            "metadata": dict(self.metadata),
            "provider": self.provider.value,
        }


def utc_datetime(value: object) -> datetime | None:
    """A provider timestamp as the contract's ``last_modified``: timezone-aware UTC (a naive
    one is taken as UTC); ``None`` for anything that is not a datetime."""
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def plain_etag(value: object) -> str | None:
    """A provider ETag as the contract's ``etag``: without surrounding quotes; ``None`` when
    missing or empty."""
    if not isinstance(value, str) or not value:
        return None
    return value.strip('"')


@dataclass(frozen=True)
class CloudResource:
    """A provider resource (bucket, instance, function...) described generically.

    ``id`` is what the client's methods take back (an EC2 instance id, ``zone/name`` on
    Compute Engine, ``resource-group/name`` on Azure, a function name...); ``state`` is the
    lifecycle state of an instance or function; ``tags`` are its tags (AWS), labels (GCP)
    or tags (Azure); ``raw`` keeps the provider's own description as JSON-like data.
    """

    id: str
    name: str
    provider: CloudProvider
    resource_type: ResourceType
    region: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    state: ResourceState | None = None
    created: datetime | None = None


@dataclass(frozen=True)
class TransferResult:
    """The outcome of one item of a bulk transfer (``upload_many``/``download_many``)."""

    source: str
    destination: str
    ok: bool
    bytes: int = 0
    error: BaseException | None = None
