"""Running one command: the options every storage command shares (:class:`Context`), an
event loop, errors as one line, exit codes (0 ok, 1 failure, 2 usage)."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio

from cloud.common.exceptions import CloudError, ConfigurationError, TransportError

from .options import ClientOptions, UsageError
from .output import Output
from .places import Clients

__all__ = ["Context", "command", "describe_error", "exit_code_for", "run_command"]

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


def run_command(out: Output, main: Callable[[], Awaitable[int]]) -> int:
    """Run ``main`` in an event loop and return its exit code; an exception becomes one line
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
    sys.stdout.flush()
    return code


@dataclass
class Context:
    """What the shared options of a storage command say: how to print and how to reach
    each provider.  Built once per command from the parsed arguments."""

    out: Output
    options: ClientOptions

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Context:
        """From the parsed ``--json --quiet --debug --endpoint-url --region --profile
        --project`` options (a bad ``--endpoint-url`` is a usage error)."""
        out = Output(
            json=getattr(args, "json", False), quiet=getattr(args, "quiet", False), debug=getattr(args, "debug", False)
        )
        options = ClientOptions.build(
            getattr(args, "endpoint_url", None),
            region=getattr(args, "region", None),
            profile=getattr(args, "profile", None),
            project=getattr(args, "project", None),
        )
        return cls(out, options)

    def run(self, body: Callable[[Clients], Awaitable[int]]) -> int:
        """Run ``body`` with the command's clients (closed afterwards) and return the exit
        code; errors become one line."""
        out = self.out

        async def main() -> int:
            clients = Clients(self.options)
            try:
                return await body(clients)
            finally:
                with anyio.CancelScope(shield=True):
                    try:
                        await clients.aclose()
                    except Exception:  # closing must not hide the real outcome
                        if out.debug:
                            traceback.print_exc()

        return run_command(out, main)


def command(
    fn: Callable[[Context, Clients, argparse.Namespace], Awaitable[int]],
) -> Callable[[argparse.Namespace], int]:
    """Turn ``async fn(ctx, clients, args) -> exit code`` into a command handler: the
    shared options are read once into a :class:`Context`, clients are closed afterwards."""

    def handler(args: argparse.Namespace) -> int:
        try:
            ctx = Context.from_args(args)
        except UsageError as exc:
            Output().error(describe_error(exc))
            return 2
        return ctx.run(lambda clients: fn(ctx, clients, args))

    handler.__doc__ = fn.__doc__
    handler.__name__ = fn.__name__
    return handler
