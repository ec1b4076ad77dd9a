"""S3Client construction: keyword-only options checked before any I/O, with clear errors."""

from __future__ import annotations

import inspect

import pytest

from cloud.aws import S3Client, SyncS3Client
from cloud.aws.client import DEFAULT_MAX_CONCURRENCY, DEFAULT_PART_SIZE, MIN_PART_SIZE
from cloud.aws.validation import check_bucket_name, is_aws_endpoint
from cloud.common.exceptions import ConfigurationError
from cloud.common.models import CloudCredentials

from .conftest import SECRET


def test_constructor_is_keyword_only_and_does_no_io() -> None:
    params = inspect.signature(S3Client).parameters
    assert list(params) == [
        "region",
        "endpoint_url",
        "credentials",
        "part_size",
        "max_concurrency",
        "retry",
        "timeout",
        "profile",
    ]
    assert all(p.kind is p.KEYWORD_ONLY for p in params.values())
    with pytest.raises(TypeError):
        S3Client("us-east-1")  # type: ignore[call-arg]
    s3 = S3Client(region="eu-west-1")
    assert s3._client is None
    assert (s3.part_size, s3.max_concurrency) == (DEFAULT_PART_SIZE, DEFAULT_MAX_CONCURRENCY)
    assert s3.pool_size >= max(s3.max_concurrency, 100)


@pytest.mark.parametrize("endpoint", ["127.0.0.1:9000", "localhost:9000", "s3.example.com", "ftp://s3.example.com"])
def test_endpoint_without_http_scheme_is_a_clear_error(endpoint: str) -> None:
    with pytest.raises(ConfigurationError, match="http:// or https://"):
        S3Client(endpoint_url=endpoint)
    with pytest.raises(ConfigurationError, match="http:// or https://"):
        SyncS3Client(endpoint_url=endpoint)


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("", "non-empty"),
        ("http://user:pass@s3.example.com", "credentials"),
        ("http://s3.example.com:notaport", "port"),
        ("http://s3.example.com/?x=1", "query"),
    ],
)
def test_other_bad_endpoints(endpoint: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as info:
        S3Client(endpoint_url=endpoint)
    assert "user:pass" not in str(info.value)


@pytest.mark.parametrize("region", ["us east 1", "eu-west-1/", "../etc", "-bad", ""])
def test_malformed_region_is_a_clear_error(region: str) -> None:
    with pytest.raises(ConfigurationError, match="region"):
        S3Client(region=region)
    with pytest.raises(ConfigurationError, match="region"):
        S3Client(region=region, endpoint_url="http://127.0.0.1:9000")


@pytest.mark.parametrize("region", ["moon", "EU-WEST-1", "auto", "us-east"])
def test_region_that_is_not_an_aws_region_is_rejected_on_aws_only(region: str) -> None:
    with pytest.raises(ConfigurationError, match="AWS region"):
        S3Client(region=region)
    S3Client(region=region, endpoint_url="https://s3.example.com")  # S3-compatible stores name regions freely


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1", "ap-southeast-7"])
def test_aws_regions_accepted(region: str) -> None:
    assert S3Client(region=region).region == region


def test_other_options_checked() -> None:
    for bad in [MIN_PART_SIZE - 1, 6 * 1024**3, "8MiB", True]:
        with pytest.raises(ConfigurationError, match="part_size"):
            S3Client(part_size=bad)  # type: ignore[arg-type]
    for bad_concurrency in [0, -1, 2.5]:
        with pytest.raises(ConfigurationError, match="max_concurrency"):
            S3Client(max_concurrency=bad_concurrency)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="timeout"):
        S3Client(timeout=0)
    with pytest.raises(ConfigurationError, match="secret_access_key"):
        S3Client(credentials=CloudCredentials(access_key_id="AKIA"))
    with pytest.raises(ConfigurationError):
        S3Client(credentials="AKIA:secret")  # type: ignore[arg-type]


def test_repr_shows_no_secret() -> None:
    creds = CloudCredentials(access_key_id="AKIAREPR", secret_access_key=SECRET, session_token="tok-123456")
    s3 = S3Client(endpoint_url="http://127.0.0.1:9000", credentials=creds)
    for text in (repr(s3), str(s3), repr(creds), repr(vars(s3).get("_credentials"))):
        assert SECRET not in text and "tok-123456" not in text


def test_aws_endpoint_detection() -> None:
    assert is_aws_endpoint(None)
    assert is_aws_endpoint("https://s3.eu-west-1.amazonaws.com")
    assert is_aws_endpoint("https://bucket.vpce-1a2b.s3.us-east-1.vpce.amazonaws.com")
    assert not is_aws_endpoint("http://127.0.0.1:9000")
    assert not is_aws_endpoint("https://account.r2.cloudflarestorage.com")
    assert not is_aws_endpoint("https://amazonaws.com.evil.example")


def test_bucket_name_rules() -> None:
    for good in ["abc", "my-bucket.2024", "a" * 63, "dir--x-s3"]:
        assert check_bucket_name(good, creating=True) == good
    for bad in ["", "ab", "a" * 64, "Upper", "a_b", "a..b", "-a", "a-", ".a", "10.0.0.1", "sthree-x", "x-s3alias"]:
        with pytest.raises(ConfigurationError):
            check_bucket_name(bad, creating=True)
    # Other calls accept legacy names and access point ARNs, never paths.
    for legacy in ["Legacy_Bucket", "arn:aws:s3:us-west-2:123456789012:accesspoint/ap"]:
        assert check_bucket_name(legacy) == legacy
    for bad in ["", "../etc", "a/b", "x" * 300, "has space"]:
        with pytest.raises(ConfigurationError):
            check_bucket_name(bad)
