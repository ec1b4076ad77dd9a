"""What the compute and serverless contract suites need from each backend.

A backend module under ``tests/compute/backends/`` builds a :class:`ComputeHarness` and/or a
:class:`ServerlessHarness`: the client classes, constructor arguments reaching the emulator
or fake, and the few things a contract test must arrange outside the client (create
instances and functions, terminate an instance, make a function fail).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ComputeHarness:
    """One compute backend under test."""

    name: str
    async_class: type[Any]
    sync_class: type[Any]
    kwargs: dict[str, Any]
    create_instances: Callable[[int, Mapping[str, str]], Awaitable[list[str]]]
    """Create ``n`` running instances with these tags; return their contract ids."""
    terminate: Callable[[str], Awaitable[None]]
    """Terminate (delete) one instance outside the client."""
    missing_id: str
    """A well-formed id of an instance that does not exist."""
    bad_ids: list[str] = field(default_factory=list)
    """Ids the client must refuse before any I/O."""


@dataclass
class ServerlessHarness:
    """One serverless backend under test."""

    name: str
    async_class: type[Any]
    sync_class: type[Any]
    kwargs: dict[str, Any]
    create_functions: Callable[[list[str], Mapping[str, str]], Awaitable[list[str]]]
    """Create echo functions (they answer with the payload they got); return their ids."""
    fail_next: Callable[[str], Awaitable[None]]
    """Make the next synchronous invocation of this function fail inside the function."""
    missing_name: str
    bad_names: list[str] = field(default_factory=list)
    async_invocation: bool = True
    """Whether ``invoke_function(..., wait=False)`` is supported (else ``ConfigurationError``)."""
    invoke_checks_existence: bool = True
    """Whether invoking a missing function answers 404 (moto's simple Lambda backend answers
    every invocation, existing function or not; real Lambda answers 404)."""
    invocations: Callable[[str], Awaitable[list[bytes]]] | None = None
    """Payloads the function received (fakes only), to see a queued invocation arrive."""
