"""EC2 and Lambda specifics that moto cannot show: Lambda's ListFunctions pages (moto answers
one page) and page-size clamping, checked on a stand-in aiobotocore client."""

from __future__ import annotations

from typing import Any

from cloud.aws import EC2Client, LambdaClient


class _Boto:
    """Records calls; answers ListFunctions in pages of MaxItems and DescribeInstances empty."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.functions = [
            {"FunctionName": f"fn-{i}", "FunctionArn": f"arn:aws:lambda:eu-west-1:123456789012:function:fn-{i}"}
            for i in range(5)
        ]

    async def list_functions(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("list_functions", params))
        start = int(params.get("Marker", 0))
        end = start + params["MaxItems"]
        answer: dict[str, Any] = {"Functions": self.functions[start:end]}
        if end < len(self.functions):
            answer["NextMarker"] = str(end)
        return answer

    async def describe_instances(self, **params: Any) -> dict[str, Any]:
        self.calls.append(("describe_instances", params))
        return {"Reservations": []}


async def test_lambda_listing_follows_next_marker() -> None:
    boto = _Boto()
    async with LambdaClient(region="eu-west-1") as lam:
        lam._client = boto
        pages = [[r.id for r in page.items] async for page in lam.list_functions(page_size=2).pages()]
        assert pages == [["fn-0", "fn-1"], ["fn-2", "fn-3"], ["fn-4"]]
        assert [p.get("Marker") for _, p in boto.calls] == [None, "2", "4"]
        assert (await lam.list_functions(page_size=500).collect())[0].region == "eu-west-1"
        assert boto.calls[-1][1]["MaxItems"] == 50  # Lambda's largest page
        lam._client = None  # not ours to close


async def test_ec2_page_size_is_clamped_to_ec2s_range() -> None:
    boto = _Boto()
    async with EC2Client(region="eu-west-1") as ec2:
        ec2._client = boto
        await ec2.list_instances(page_size=1).collect()
        await ec2.list_instances(page_size=5000).collect()
        assert [p["MaxResults"] for _, p in boto.calls] == [5, 1000]
        ec2._client = None
