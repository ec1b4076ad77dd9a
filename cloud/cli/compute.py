"""``cloud compute ls|start|stop`` and ``cloud functions ls|invoke``: instances and functions
of AWS (EC2, Lambda), Google Cloud (Compute Engine, Cloud Functions) and Azure (VMs,
Functions).

Importing this module imports nothing but argparse: :func:`add_commands` declares the
commands for ``cloud --help``; a provider's SDK loads only when a command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cloud.common.base import ComputeClient, ServerlessClient
    from cloud.common.models import CloudResource

__all__ = ["add_commands", "compute_ls", "compute_start", "compute_stop", "functions_invoke", "functions_ls"]

PROVIDERS = ("aws", "gcp", "azure")


def add_commands(commands: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    """Declare the ``compute`` and ``functions`` command groups on ``commands`` (the
    top-level subparsers of ``cloud``)."""
    common = parser_class(add_help=False)
    group = common.add_argument_group("provider (defaults: each provider's environment and credential chain)")
    group.add_argument("--provider", "-p", choices=PROVIDERS, required=True, help="aws, gcp or azure")
    group.add_argument(
        "--endpoint-url", help="API endpoint (an emulator or fake): AWS endpoint_url, GCP api_root, Azure base_url"
    )
    group.add_argument("--region", help="AWS region")
    group.add_argument("--profile", help="AWS profile of ~/.aws/config")
    group.add_argument("--project", help="Google Cloud project (default: GOOGLE_CLOUD_PROJECT)")
    group.add_argument("--zone", help="Compute Engine zone (instances may then be named without it)")
    group.add_argument("--location", help="Cloud Functions location (functions may then be named without it)")
    group.add_argument("--subscription", help="Azure subscription id (default: AZURE_SUBSCRIPTION_ID)")
    group.add_argument("--resource-group", help="Azure resource group (narrows listings)")
    group.add_argument("--function-app", help="Azure function app (needs --resource-group)")
    group.add_argument("--timeout", type=float, help="seconds the whole command may take")
    group.add_argument("--debug", action="store_true", help="print the traceback of an error")
    listing = parser_class(add_help=False)
    listing.add_argument("--json", action="store_true", help="print JSON lines on stdout, for scripts")
    listing.add_argument("--limit", type=int, help="stop after this many items")

    compute = commands.add_parser(
        "compute",
        help="Virtual machines: ls, start, stop (EC2, Compute Engine, Azure VMs).",
        description="Virtual machines: ls, start, stop (EC2, Compute Engine, Azure VMs).",
    )
    sub = compute.add_subparsers(title="commands", dest="compute_command", metavar="COMMAND", parser_class=parser_class)
    ls = sub.add_parser("ls", help="List instances: id, state, name, region, tags.", parents=[common, listing])
    ls.set_defaults(handler="cloud.cli.compute:compute_ls")
    for verb, text in (("start", "Start an instance"), ("stop", "Stop an instance (Azure: deallocate)")):
        action = sub.add_parser(verb, help=f"{text}.", description=f"{text}.", parents=[common])
        action.add_argument("instance", metavar="INSTANCE", help="instance id (EC2 id, zone/name, group/name)")
        action.add_argument("--wait", action="store_true", help="wait until it is running / stopped")
        action.set_defaults(handler=f"cloud.cli.compute:compute_{verb}")
    compute.set_defaults(handler=None, group_parser=compute)

    functions = commands.add_parser(
        "functions",
        help="Serverless functions: ls, invoke (Lambda, Cloud Functions, Azure Functions).",
        description="Serverless functions: ls, invoke (Lambda, Cloud Functions, Azure Functions).",
    )
    sub = functions.add_subparsers(
        title="commands", dest="functions_command", metavar="COMMAND", parser_class=parser_class
    )
    ls = sub.add_parser("ls", help="List functions: id, state, region.", parents=[common, listing])
    ls.set_defaults(handler="cloud.cli.compute:functions_ls")
    invoke = sub.add_parser(
        "invoke",
        help="Invoke a function and write its answer to stdout.",
        description="Invoke a function and write its answer to stdout (exit 1 if the function failed).",
        parents=[common],
    )
    invoke.add_argument("function", metavar="FUNCTION", help="function name or id")
    payload = invoke.add_mutually_exclusive_group()
    payload.add_argument("--payload", "-d", help="the payload (JSON text, sent as it is)")
    payload.add_argument("--payload-file", help="read the payload from this file ('-': stdin)")
    invoke.add_argument("--async", dest="fire_and_forget", action="store_true", help="queue it; do not wait")
    invoke.set_defaults(handler="cloud.cli.compute:functions_invoke")
    functions.set_defaults(handler=None, group_parser=functions)


def _options(args: argparse.Namespace, kind: str) -> tuple[type[Any], dict[str, Any]]:
    provider = args.provider
    kwargs: dict[str, Any] = {}
    if args.timeout is not None:
        kwargs["timeout"] = args.timeout
    if provider == "aws":
        from cloud.aws import EC2Client, LambdaClient

        cls: type[Any] = EC2Client if kind == "compute" else LambdaClient
        kwargs.update(endpoint_url=args.endpoint_url, region=args.region, profile=args.profile)
    elif provider == "gcp":
        from cloud.gcp import CloudFunctionsClient, ComputeEngineClient

        kwargs.update(project=args.project, api_root=args.endpoint_url)
        if kind == "compute":
            cls = ComputeEngineClient
            kwargs["zone"] = args.zone
        else:
            cls = CloudFunctionsClient
            kwargs["location"] = args.location
    else:
        from cloud.azure import AzureFunctionsClient, AzureVMClient

        kwargs.update(subscription_id=args.subscription, base_url=args.endpoint_url, resource_group=args.resource_group)
        if kind == "compute":
            cls = AzureVMClient
        else:
            cls = AzureFunctionsClient
            kwargs["function_app"] = args.function_app
    return cls, {k: v for k, v in kwargs.items() if v is not None}


def _run(args: argparse.Namespace, kind: str, body: Callable[[Any], Any]) -> int:
    from .output import Output
    from .runner import run_command

    out = Output(json=getattr(args, "json", False), debug=args.debug)

    async def main() -> int:
        cls, kwargs = _options(args, kind)
        async with cls(**kwargs) as client:
            code: int = await body(client)
            return code

    return run_command(out, main)


def _row(resource: CloudResource) -> str:
    tags = ",".join(f"{k}={v}" for k, v in sorted(resource.tags.items()))
    state = resource.state.value if resource.state is not None else "-"
    return "\t".join([resource.id, state, resource.name, resource.region or "-", tags])


def _record(resource: CloudResource) -> dict[str, Any]:
    return {
        "id": resource.id,
        "name": resource.name,
        "state": resource.state.value if resource.state is not None else None,
        "region": resource.region,
        "tags": dict(resource.tags),
        "provider": resource.provider.value,
        "type": resource.resource_type.value,
        "created": resource.created.isoformat() if resource.created is not None else None,
    }


def _listing(args: argparse.Namespace, kind: str) -> int:
    as_json, limit = args.json, args.limit

    async def body(client: Any) -> int:
        listing = client.list_instances() if kind == "compute" else client.list_functions()
        count = 0
        async for resource in listing:
            if limit is not None and count >= limit:
                break
            sys.stdout.write((json.dumps(_record(resource)) if as_json else _row(resource)) + "\n")
            count += 1
        return 0

    return _run(args, kind, body)


def compute_ls(args: argparse.Namespace) -> int:
    """``cloud compute ls``: one line per instance (``--json``: one JSON object per line)."""
    return _listing(args, "compute")


def functions_ls(args: argparse.Namespace) -> int:
    """``cloud functions ls``: one line per function (``--json``: one JSON object per line)."""
    return _listing(args, "functions")


def _power(args: argparse.Namespace, verb: str) -> int:
    instance, wait = args.instance, args.wait

    async def body(client: ComputeClient) -> int:
        from cloud.common.enums import ResourceState

        if verb == "start":
            await client.start_instance(instance)
        else:
            await client.stop_instance(instance)
        if wait:
            target = ResourceState.RUNNING if verb == "start" else ResourceState.STOPPED
            found = await client.wait_for_state(instance, target)
            sys.stdout.write(_row(found) + "\n")
        else:
            sys.stdout.write(f"{instance}\t{verb} requested\n")
        return 0

    return _run(args, "compute", body)


def compute_start(args: argparse.Namespace) -> int:
    """``cloud compute start INSTANCE [--wait]``."""
    return _power(args, "start")


def compute_stop(args: argparse.Namespace) -> int:
    """``cloud compute stop INSTANCE [--wait]``."""
    return _power(args, "stop")


def functions_invoke(args: argparse.Namespace) -> int:
    """``cloud functions invoke FUNCTION [--payload JSON | --payload-file FILE] [--async]``:
    the function's answer goes to stdout as bytes."""
    if args.payload_file == "-":
        data = sys.stdin.buffer.read()
    elif args.payload_file:
        data = Path(args.payload_file).read_bytes()
    else:
        data = (args.payload or "").encode()
    name, wait = args.function, not args.fire_and_forget

    async def body(client: ServerlessClient) -> int:
        answer = await client.invoke_function(name, data, wait=wait)
        if wait:
            sys.stdout.buffer.write(answer)
            if answer and not answer.endswith(b"\n") and sys.stdout.isatty():
                sys.stdout.buffer.write(b"\n")
            sys.stdout.flush()
        else:
            sys.stdout.write(f"{name}\tqueued\n")
        return 0

    return _run(args, "functions", body)
