"""The error tables of the compute and serverless clients: every listed vendor code maps to
its class; a secret never shows in a client's repr or an error."""

from __future__ import annotations

from types import SimpleNamespace

import botocore.exceptions as bexc
import pytest
from azure.core.exceptions import HttpResponseError

from cloud.aws import EC2Client, LambdaClient
from cloud.aws.ec2 import EC2_STATES
from cloud.aws.lambda_ import LAMBDA_STATES
from cloud.aws.service import COMPUTE_ERROR_CODES, translate
from cloud.azure.arm import ARM_ERROR_CODES
from cloud.azure.arm import translate as translate_arm
from cloud.common.exceptions import APIError, BadRequestError, NotFoundError, RateLimitError
from cloud.common.models import CloudCredentials
from cloud.gcp import ComputeEngineClient
from cloud.gcp.compute import GCE_STATES
from cloud.gcp.functions import FUNCTION_STATES

from .fakes.discovery import load


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


@pytest.mark.parametrize("code", sorted(ARM_ERROR_CODES))
def test_every_listed_arm_code_maps_to_its_class(code: str) -> None:
    exc = HttpResponseError(message=f"({code}) it happened")
    exc.status_code = 400
    exc.error = SimpleNamespace(code=code)  # type: ignore[assignment]
    err = translate_arm(exc, "get_instance")
    assert type(err) is ARM_ERROR_CODES[code] and err.code == code  # type: ignore[union-attr]


def test_every_documented_state_has_a_mapping() -> None:
    compute_v1 = load("compute.v1").schemas["Instance"]["properties"]["status"]["enum"]
    assert set(compute_v1) <= set(GCE_STATES)
    functions_v2 = load("cloudfunctions.v2").schemas["Function"]["properties"]["state"]["enum"]
    assert set(functions_v2) - {"STATE_UNSPECIFIED"} <= set(FUNCTION_STATES)
    import botocore.session

    model = botocore.session.get_session().get_service_model("lambda")
    assert set(model.shape_for("State").enum) <= set(LAMBDA_STATES)
    ec2 = botocore.session.get_session().get_service_model("ec2")
    assert set(ec2.shape_for("InstanceStateName").enum) <= set(EC2_STATES)
