"""Models: secrets hidden, contract dict keys, enums."""

from __future__ import annotations

from datetime import datetime, timezone

from cloud.common import CloudCredentials, CloudProvider, ObjectMetadata


def test_credentials_hide_secrets() -> None:
    creds = CloudCredentials(
        access_key_id="AKIAEXAMPLE",
        secret_access_key="wJalrXUtnFEMI/K7MDENG",
        session_token="FQoGZXIvYXdzEJr",
        connection_string="AccountKey=abc123==",
        token="coda-token-xyz",
    )
    text = repr(creds) + str(creds) + f"{creds}"
    for secret in ("wJalrXUtnFEMI", "FQoGZXIvYXdzEJr", "abc123", "coda-token-xyz"):
        assert secret not in text
    assert "AKIAEXAMPLE" in text
    assert sorted(creds.secrets()) == sorted(
        ["wJalrXUtnFEMI/K7MDENG", "FQoGZXIvYXdzEJr", "AccountKey=abc123==", "coda-token-xyz"]
    )


def test_object_metadata_contract_dict() -> None:
    when = datetime(2026, 1, 2, tzinfo=timezone.utc)
    meta = ObjectMetadata("k", "b", 3, "e", "text/plain", when, {"a": "1"}, CloudProvider.AWS)
    assert meta.to_dict() == {
        "name": "k",
        "bucket": "b",
        "size": 3,
        "etag": "e",
        "content_type": "text/plain",
        "last_modified": when,
        "metadata": {"a": "1"},
        "provider": "aws",
    }
