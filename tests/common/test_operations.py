"""OperationRunner: translation, retries, timeouts, stats, logs and redaction in one place."""

from __future__ import annotations

import logging

import anyio
import pytest

from cloud.common.exceptions import CloudError, NotFoundError, RequestTimeoutError, ServerError
from cloud.common.operations import OperationRunner
from cloud.common.retry import RetryPolicy


class VendorError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def translate(exc: BaseException, operation: str) -> CloudError | None:
    if isinstance(exc, VendorError):
        cls = NotFoundError if exc.status == 404 else ServerError
        return cls(str(exc), status_code=exc.status)
    return None


async def no_sleep(_: float) -> None:
    return None


def runner(**kw: object) -> OperationRunner:
    return OperationRunner(
        provider="test",
        translate=translate,
        retry=RetryPolicy(sleep=no_sleep, max_attempts=3),
        secrets=lambda: ["s3cr3t-token"],
        **kw,  # type: ignore[arg-type]
    )


async def test_translates_keeps_cause_and_counts() -> None:
    r = runner()

    async def missing() -> None:
        raise VendorError(404, "no such key")

    with pytest.raises(NotFoundError) as info:
        await r.call("stat", missing)
    assert isinstance(info.value.__cause__, VendorError)
    assert info.value.provider == "test" and info.value.operation == "stat"
    assert r.stats.as_dict() == {
        "requests": 1,
        "retries": 0,
        "errors": {"NotFoundError": 1},
        "bytes_sent": 0,
        "bytes_received": 0,
    }


async def test_retries_then_succeeds_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    r = runner()
    calls = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise VendorError(503, "busy")
        return "done"

    with caplog.at_level(logging.INFO, logger="cloud.test"):
        assert await r.call("get", flaky) == "done"
    assert r.stats.requests == 3 and r.stats.retries == 2 and r.stats.errors["ServerError"] == 2
    records = [rec for rec in caplog.records if rec.name == "cloud.test"]
    assert len(records) == 2
    assert records[0].__dict__["operation"] == "get" and records[0].__dict__["error"] == "ServerError"


async def test_post_like_calls_are_not_replayed() -> None:
    r = runner()
    calls = []

    async def boom() -> None:
        calls.append(1)
        raise VendorError(500, "oops")

    with pytest.raises(ServerError):
        await r.call("create", boom, idempotent=False)
    assert len(calls) == 1


async def test_timeout_becomes_request_timeout_error() -> None:
    r = OperationRunner(provider="test", translate=translate, retry=RetryPolicy.disabled())

    async def slow() -> None:
        await anyio.sleep(5)

    with pytest.raises(RequestTimeoutError) as info:
        await r.call("slow", slow, timeout=0.01)
    assert isinstance(info.value, TimeoutError)


async def test_secrets_are_redacted_from_messages(caplog: pytest.LogCaptureFixture) -> None:
    r = runner()

    async def leaky() -> None:
        raise VendorError(404, "bad token s3cr3t-token and Authorization: Bearer abc.def and ?sig=XYZ&x=1")

    def translate_with_body(exc: BaseException, operation: str) -> CloudError | None:
        err = translate(exc, operation)
        if err is not None:
            err.body = f"<Error>{exc}</Error>"  # type: ignore[attr-defined]
        return err

    r.translate = translate_with_body
    with caplog.at_level(logging.DEBUG, logger="cloud.test"), pytest.raises(NotFoundError) as info:
        await r.call("op", leaky)
    text = str(info.value) + repr(info.value) + caplog.text + str(info.value.body)
    for secret in ("s3cr3t-token", "abc.def", "XYZ"):
        assert secret not in text


async def test_foreign_exceptions_pass_through() -> None:
    r = runner()

    async def bug() -> None:
        raise KeyError("programming error")

    with pytest.raises(KeyError):
        await r.call("op", bug)


def test_errors_context_manager() -> None:
    r = runner()
    with pytest.raises(NotFoundError), r.errors("op"):
        raise VendorError(404, "gone")
    assert r.stats.errors["NotFoundError"] == 1


def test_library_logger_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    from cloud.common.logs import redact_library_logger

    redact_library_logger("somelib")
    with caplog.at_level(logging.INFO, logger="somelib"):
        logging.getLogger("somelib").info("GET %s", "https://x.example/dl?X-Amz-Signature=abcdef123&ok=1")
    assert "abcdef123" not in caplog.text and "ok=1" in caplog.text
