"""The exception tree: shape, status registry, pickling, stdlib compatibility."""

from __future__ import annotations

import pickle

import pytest

from cloud.common import exceptions as exc_mod
from cloud.common.exceptions import (
    AlreadyExistsError,
    APIError,
    AuthenticationError,
    BadRequestError,
    CloudError,
    ConfigurationError,
    ConflictError,
    GoneError,
    IntegrityError,
    MissingDependencyError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    TransportError,
    error_class_for_status,
    error_for_status,
)

ALL_ERRORS = [
    obj
    for obj in (getattr(exc_mod, name) for name in exc_mod.__all__)
    if isinstance(obj, type) and issubclass(obj, BaseException)
]


def test_tree_shape() -> None:
    assert issubclass(ConfigurationError, CloudError)
    assert issubclass(MissingDependencyError, ImportError)
    assert issubclass(RequestTimeoutError, TransportError) and issubclass(RequestTimeoutError, TimeoutError)
    assert issubclass(NotFoundError, APIError) and issubclass(NotFoundError, FileNotFoundError)
    assert issubclass(GoneError, NotFoundError)
    assert issubclass(AlreadyExistsError, ConflictError)
    for cls in (BadRequestError, AuthenticationError, PermissionDeniedError, PreconditionFailedError):
        assert issubclass(cls, APIError)
    assert {c for c in ALL_ERRORS if c.retryable} == {
        TransportError,
        RequestTimeoutError,
        IntegrityError,
        RateLimitError,
        ServerError,
    }
    assert issubclass(IntegrityError, TransportError)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (410, GoneError),
        (412, PreconditionFailedError),
        (416, BadRequestError),
        (422, BadRequestError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (599, ServerError),
        (418, APIError),
    ],
)
def test_status_registry(status: int, cls: type[APIError]) -> None:
    assert error_class_for_status(status) is cls
    err = error_for_status(status, "boom", code="X", request_id="r1", retry_after=3.0, provider="aws", operation="op")
    assert type(err) is cls
    assert err.status_code == status and err.code == "X" and err.request_id == "r1"
    if cls is RateLimitError:
        assert isinstance(err, RateLimitError) and err.retry_after == 3.0


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_every_error_pickles_with_its_fields(cls: type[CloudError]) -> None:
    kwargs: dict[str, object] = {"provider": "gcp", "operation": "stat"}
    if issubclass(cls, APIError):
        kwargs.update(status_code=499, code="Code", request_id="rid", body="{}")
    err = cls("message here", **kwargs)  # type: ignore[arg-type]
    if isinstance(err, RateLimitError):
        err.retry_after = 1.5
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert back.message == "message here" and back.provider == "gcp" and back.operation == "stat"
    assert str(back) == str(err) == "[gcp.stat] message here"
    if isinstance(err, APIError):
        assert isinstance(back, APIError)
        assert (back.status_code, back.code, back.request_id, back.body) == (499, "Code", "rid", "{}")
    if isinstance(err, RateLimitError):
        assert isinstance(back, RateLimitError) and back.retry_after == 1.5


def test_default_status_codes() -> None:
    assert NotFoundError("x").status_code == 404
    assert RateLimitError("x").status_code == 429
    assert APIError("x").status_code is None


def test_missing_dependency_names_extra() -> None:
    err = MissingDependencyError("pip install 'codomyrmex-cloud[aws]'", extra="aws")
    assert pickle.loads(pickle.dumps(err)).extra == "aws"
    with pytest.raises(ImportError):
        raise err


def test_every_exception_has_a_docstring() -> None:
    for cls in ALL_ERRORS:
        assert cls.__doc__ and "Raised" in cls.__doc__, cls
