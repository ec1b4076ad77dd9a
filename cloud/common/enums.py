"""Enumerations shared by every client."""

from __future__ import annotations

from enum import Enum

__all__ = ["CloudProvider", "ResourceType"]


class CloudProvider(str, Enum):
    """The backend a client talks to; the value is the short name used in logs and errors."""

    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"
    LOCAL = "local"
    CODA = "coda"


class ResourceType(str, Enum):
    """The kind of a :class:`~cloud.common.models.CloudResource`."""

    BUCKET = "bucket"
    OBJECT = "object"
    INSTANCE = "instance"
    FUNCTION = "function"
    DOC = "doc"
    TABLE = "table"
    OTHER = "other"
