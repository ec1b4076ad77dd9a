"""What the command line says about connections: endpoints per scheme, region, profile
and project (kept apart from :mod:`cloud.cli.places` so that the start-up paths of
:mod:`cloud.cli.quick` read them without loading the SDK's client base)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cloud.common import registry
from cloud.common.exceptions import ConfigurationError

__all__ = ["ClientOptions", "UsageError"]


class UsageError(ConfigurationError):
    """The command line itself is wrong (exit code 2)."""


@dataclass
class ClientOptions:
    """Endpoints and credentials given on the command line (environment variables and
    each provider's credential chain fill in the rest)."""

    endpoints: dict[str, str] = field(default_factory=dict)
    """Endpoint URL per scheme; the key ``*`` applies to every cloud scheme."""
    region: str | None = None
    profile: str | None = None
    project: str | None = None

    @classmethod
    def build(
        cls,
        endpoint_urls: Sequence[str] | None,
        *,
        region: str | None = None,
        profile: str | None = None,
        project: str | None = None,
    ) -> ClientOptions:
        """From ``--endpoint-url [SCHEME=]URL`` values (repeatable)."""
        endpoints: dict[str, str] = {}
        for value in endpoint_urls or ():
            scheme, sep, url = value.partition("=")
            if sep and scheme in registry.schemes() and "://" in url:
                endpoints[scheme] = url
            elif "://" in value:
                endpoints["*"] = value
            else:
                raise UsageError(f"--endpoint-url needs a URL (http://host:port) or SCHEME=URL, not {value!r}")
        return cls(endpoints, region, profile, project)

    def endpoint(self, scheme: str) -> str | None:
        """The endpoint given for ``scheme``, if any."""
        return self.endpoints.get(scheme) or self.endpoints.get("*")

    def settings(self, scheme: str) -> registry.ClientSettings:
        """The registry's settings for a client of ``scheme``."""
        return registry.ClientSettings(self.endpoint(scheme), self.region, self.profile, self.project)
