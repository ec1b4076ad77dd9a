"""Enumerations shared by every client."""

from __future__ import annotations

from enum import Enum

__all__ = ["CloudProvider", "ResourceState", "ResourceType"]


class CloudProvider(str, Enum):
    """The backend a client talks to; the value is the short name used in logs and errors."""

    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"
    LOCAL = "local"
    CODA = "coda"

    @classmethod
    def _missing_(cls, value: object) -> CloudProvider | None:
        """``CloudProvider("name")`` of a provider added to :mod:`cloud.common.registry`
        (one that is not built in) is a member too, so its client can declare
        ``provider = CloudProvider("name")``."""
        if not isinstance(value, str):
            return None
        from .registry import for_name

        if for_name(value) is None:
            return None
        member = str.__new__(cls, value)
        member._name_ = value.upper().replace("-", "_")
        member._value_ = value
        found: CloudProvider = cls._value2member_map_.setdefault(value, member)  # type: ignore[assignment]
        return found


class ResourceType(str, Enum):
    """The kind of a :class:`~cloud.common.models.CloudResource`."""

    BUCKET = "bucket"
    OBJECT = "object"
    INSTANCE = "instance"
    FUNCTION = "function"
    DOC = "doc"
    TABLE = "table"
    OTHER = "other"


class ResourceState(str, Enum):
    """The lifecycle state of an instance or a function (``CloudResource.state``), the same
    values on every provider; the provider's own word stays in ``CloudResource.raw``.

    Instances: ``PENDING`` (being created or started) -> ``RUNNING`` -> ``STOPPING`` ->
    ``STOPPED`` (deallocated or powered off), ``SUSPENDED``, ``TERMINATED`` (deleted or being
    deleted).  Functions: ``DEPLOYING`` -> ``ACTIVE``, ``INACTIVE``, ``FAILED``.
    ``UNKNOWN`` when the provider reports a state this SDK does not know.
    """

    PENDING = "pending"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    DEPLOYING = "deploying"
    ACTIVE = "active"
    INACTIVE = "inactive"
    FAILED = "failed"
    UNKNOWN = "unknown"
