"""The error tables of the compute and serverless clients: every listed vendor code maps to
its class; a secret never shows in a client's repr or an error."""

from __future__ import annotations

import botocore.exceptions as bexc
import pytest

from cloud.aws import EC2Client, LambdaClient
from cloud.aws.service import COMPUTE_ERROR_CODES, translate
from cloud.common.exceptions import APIError, BadRequestError, NotFoundError, RateLimitError
from cloud.common.models import CloudCredentials
from cloud.gcp import ComputeEngineClient


def _client_error(code: str, status: int) -> bexc.ClientError:
    return bexc.ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} happened"},
            "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "req-1", "HTTPHeaders": {"retry-after": "2"}},
        },
        "DescribeInstances",
    )


@pytest.mark.parametrize("code", sorted(COMPUTE_ERROR_CODES))
def test_every_listed_code_maps_to_its_class(code: str) -> None:
    err = translate(_client_error(code, 400), "get_instance", secrets=[])
    assert type(err) is COMPUTE_ERROR_CODES[code]
    assert isinstance(err, APIError) and err.code == code and err.request_id == "req-1"
    if isinstance(err, RateLimitError):
        assert err.retry_after == 2.0


def test_ec2_answers_400_for_a_missing_instance_but_it_is_not_found() -> None:
    assert isinstance(translate(_client_error("InvalidInstanceID.NotFound", 400), "x", secrets=[]), NotFoundError)
    assert type(translate(_client_error("SomethingNew", 400), "x", secrets=[])) is BadRequestError


def test_no_secret_in_repr() -> None:
    secret = "compute-secret-value-1234"
    credentials = CloudCredentials(access_key_id="AKIAX", secret_access_key=secret)
    for client in (EC2Client(credentials=credentials), LambdaClient(credentials=credentials)):
        assert secret not in repr(client) and secret not in repr(vars(client))
    gce = ComputeEngineClient(project="p", credentials=CloudCredentials(token=secret))
    assert secret not in repr(gce)
