"""Running one command: an event loop, errors as one line, exit codes (0 ok, 1 failure,
2 usage)."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Awaitable, Callable

import anyio
import typer

from cloud.common.exceptions import CloudError, ConfigurationError, TransportError

from .output import Output
from .places import UsageError

__all__ = ["describe_error", "exit_code_for", "run_command"]

_LABELS: dict[str, str] = {
    "NotFoundError": "not found",
    "PermissionDeniedError": "permission denied",
    "AuthenticationError": "authentication failed",
    "MissingDependencyError": "missing dependency",
}


def _unwrap(exc: BaseException) -> BaseException:
    """The single error inside (nested) exception groups, if that is what it is."""
    while True:
        inner = getattr(exc, "exceptions", None)
        if not isinstance(inner, tuple) or len(inner) != 1 or not isinstance(inner[0], BaseException):
            return exc
        exc = inner[0]


def describe_error(exc: BaseException) -> str:
    """One line for an error."""
    if isinstance(exc, UsageError):
        return f"usage: {exc}"
    if isinstance(exc, CloudError):
        label = _LABELS.get(type(exc).__name__)
        if label is None and isinstance(exc, TransportError):
            label = "cannot reach the service"
        message = " ".join(str(exc).split())
        return f"{label}: {message}" if label else f"error: {message}"
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"error: {exc.strerror or exc}{where}"
    return f"error: {type(exc).__name__}: {exc}"


def exit_code_for(exc: BaseException) -> int:
    """2 for usage and configuration errors, 1 for every other failure."""
    return 2 if isinstance(exc, ConfigurationError) else 1


def run_command(out: Output, main: Callable[[], Awaitable[int]]) -> None:
    """Run ``main`` in an event loop and exit with its code; an exception becomes one line
    on stderr (with the traceback only under ``--debug``)."""
    try:
        code = anyio.run(main)
    except KeyboardInterrupt:
        out.error("interrupted")
        code = 130
    except BrokenPipeError:
        # The reader went away (``cloud cat URL | head``): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    except Exception as raised:
        exc = _unwrap(raised)
        if out.debug:
            traceback.print_exception(type(raised), raised, raised.__traceback__)
        out.error(describe_error(exc))
        if not out.debug and not isinstance(exc, (CloudError, OSError)):
            out.error("(run with --debug for the traceback)")
        code = exit_code_for(exc)
    raise typer.Exit(code)
