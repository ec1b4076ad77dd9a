"""AWS on moto's server: EC2 and Lambda (the simple Lambda backend: no Docker)."""

from __future__ import annotations

import io
import json
import urllib.request
import uuid
import zipfile
from collections.abc import Mapping
from typing import Any

import anyio
import boto3
import pytest

from cloud.aws import EC2Client, LambdaClient, SyncEC2Client, SyncLambdaClient
from cloud.common.models import CloudCredentials

from ..harness import ComputeHarness, ServerlessHarness

REGION = "eu-west-3"  # a region no other test of the session uses
CREDENTIALS = CloudCredentials(access_key_id="AKIACOMPUTETEST", secret_access_key="compute-secret-not-real")


def _boto(service: str, url: str) -> Any:
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id="AKIACOMPUTETEST",
        aws_secret_access_key="compute-secret-not-real",
    )


def _post_json(url: str, body: Mapping[str, Any]) -> None:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


def configure_simple_lambda(url: str) -> None:
    """Switch the moto server to its Docker-free Lambda backend (``lambda: use_docker false``)."""
    _post_json(f"{url}/moto-api/config", {"lambda": {"use_docker": False}})


def compute(request: pytest.FixtureRequest) -> ComputeHarness:
    """EC2Client on the session's moto server."""
    url = str(request.getfixturevalue("moto_server").url)
    ec2 = _boto("ec2", url)

    async def create(n: int, tags: Mapping[str, str]) -> list[str]:
        def run() -> list[str]:
            spec = [{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
            ids = []
            for _ in range(n):  # one reservation each: moto pages DescribeInstances by reservation
                answer = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, TagSpecifications=spec)
                ids.append(answer["Instances"][0]["InstanceId"])
            return ids

        return await anyio.to_thread.run_sync(run)

    async def terminate(instance_id: str) -> None:
        await anyio.to_thread.run_sync(lambda: ec2.terminate_instances(InstanceIds=[instance_id]))

    return ComputeHarness(
        name="aws",
        async_class=EC2Client,
        sync_class=SyncEC2Client,
        kwargs={"endpoint_url": url, "region": REGION, "credentials": CREDENTIALS},
        create_instances=create,
        terminate=terminate,
        missing_id="i-0123456789abcdef0",
        bad_ids=["", "vm-1", "i-XYZ", "i-0123/../x", "../i-0123456789abcdef0"],
    )


def serverless(request: pytest.FixtureRequest) -> ServerlessHarness:
    """LambdaClient on the session's moto server, with moto's simple (echo) Lambda backend."""
    url = str(request.getfixturevalue("moto_server").url)
    configure_simple_lambda(url)
    lam, iam = _boto("lambda", url), _boto("iam", url)

    async def create(names: list[str], tags: Mapping[str, str]) -> list[str]:
        def run() -> list[str]:
            role = iam.create_role(RoleName=f"fn-{uuid.uuid4().hex[:12]}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            code = io.BytesIO()
            with zipfile.ZipFile(code, "w") as archive:
                archive.writestr("handler.py", "def handle(event, context):\n    return event\n")
            for name in names:
                lam.create_function(
                    FunctionName=name,
                    Runtime="python3.12",
                    Role=role,
                    Handler="handler.handle",
                    Code={"ZipFile": code.getvalue()},
                    Tags=dict(tags),
                )
            return names

        return await anyio.to_thread.run_sync(run)

    async def fail_next(name: str) -> None:
        # The simple backend answers with queued results; one larger than Lambda's 6 MB
        # response limit makes moto answer as Lambda does: FunctionError "Unhandled" and
        # {"errorType": "Function.ResponseSizeTooLarge", ...}.
        body = {"results": ["x" * 6_000_001], "region": REGION}
        await anyio.to_thread.run_sync(lambda: _post_json(f"{url}/moto-api/static/lambda-simple/response", body))

    return ServerlessHarness(
        name="aws",
        async_class=LambdaClient,
        sync_class=SyncLambdaClient,
        kwargs={"endpoint_url": url, "region": REGION, "credentials": CREDENTIALS},
        create_functions=create,
        fail_next=fail_next,
        missing_name="no-such-function",
        bad_names=["", "a/b", "../x", "x" * 65, "has space"],
        invoke_checks_existence=False,  # moto's simple backend answers every invocation
    )
