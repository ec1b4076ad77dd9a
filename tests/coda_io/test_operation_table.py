"""The operation table and the generated methods agree with Coda's published spec."""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType

import pytest

from cloud.coda_io import CodaClient, SyncCodaClient
from cloud.coda_io._table import OPERATIONS, OPERATIONS_BY_ID
from cloud.coda_io.naming import camel_case, snake_case
from cloud.coda_io.rate_classes import RATE_CLASS_OVERRIDES, rate_class_for
from cloud.common.pagination import AsyncPaginator

from . import spec_data

ROOT = Path(__file__).resolve().parents[2]


def _codegen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("coda_codegen", ROOT / "tools" / "coda_codegen.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["coda_codegen"] = module
    spec.loader.exec_module(module)
    return module


def test_spec_is_the_expected_document() -> None:
    doc = spec_data.document()
    assert doc["info"]["version"] == "1.5.0"
    assert len(spec_data.operations()) == 124
    assert len(spec_data.endpoints()) == 124


def test_generated_modules_match_the_spec() -> None:
    codegen = _codegen()
    files = codegen.render_all(spec_data.SPEC_DIR)
    assert len(files) == 3 + 18 + 1 + 2  # table, enums, rules; one mixin per tag + __init__; models + __init__
    generated = ROOT / "cloud" / "coda_io" / "_generated"
    assert all(path.is_relative_to(generated) for path in files)  # generated code only there
    assert {p for p in generated.rglob("*.py")} == set(files)  # and nothing else there
    stale = [
        str(path.relative_to(ROOT))
        for path, text in files.items()
        if not path.exists() or not codegen.same_code(path.read_text(encoding="utf-8"), text)
    ]
    assert not stale, f"regenerate with python tools/coda_codegen.py: {stale}"


def test_table_has_one_record_per_spec_operation() -> None:
    assert len(OPERATIONS) == 124
    assert len(OPERATIONS_BY_ID) == 124
    by_id = {op.operation_id: op for op in spec_data.operations()}
    assert set(by_id) == set(OPERATIONS_BY_ID)
    for record in OPERATIONS:
        source = by_id[record.operation_id]
        assert record.method == source.method
        assert record.path == source.path
        assert "$" not in record.path
        assert record.path_params == tuple(p.wire for p in source.path_params)
        assert record.query_params == tuple(p.wire for p in source.query_params)
        assert record.has_body == (source.body_schema is not None)
        assert record.paginated == source.paginated
        assert record.success_status == source.success_status


def test_spec_typo_is_fixed() -> None:
    raw = [op for op in spec_data.operations() if "${" in op.raw_path]
    assert {op.operation_id for op in raw} == {"listCustomDocDomains", "addCustomDocDomain"}
    for op in raw:
        assert OPERATIONS_BY_ID[op.operation_id].path == "/docs/{docId}/domains"


def test_thirty_operations_are_paginated() -> None:
    paginated = {op.operation_id for op in OPERATIONS if op.paginated}
    assert len(paginated) == 30
    assert paginated == {k for k, row in spec_data.endpoints().items() if row["paginated"] == "yes"}


@pytest.mark.parametrize("operation_id", sorted(spec_data.endpoints()))
def test_every_endpoint_row_has_its_method(operation_id: str) -> None:
    row = spec_data.endpoints()[operation_id]
    record = OPERATIONS_BY_ID[operation_id]
    assert record.method == row["method"]
    assert record.path == row["path"].replace("${", "{")
    assert record.rate_class == row["rate_limit_class"]
    assert record.returns_request_id == (row["returns_requestId"] == "yes")
    method = getattr(CodaClient, snake_case(operation_id))
    assert method.__doc__ and method.__doc__.strip()
    # The blocking facade has the same method.
    assert callable(getattr(SyncCodaClient, snake_case(operation_id)))


@pytest.mark.parametrize("op", spec_data.operations(), ids=lambda op: op.operation_id)
def test_signature_follows_the_conventions(op: spec_data.SpecOp) -> None:
    method = getattr(CodaClient, spec_data.snake(op.operation_id))
    signature = inspect.signature(method)
    params = list(signature.parameters.values())[1:]  # without self
    positional = [p for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    keyword = {p.name: p for p in params if p.kind is p.KEYWORD_ONLY}
    assert [p.name for p in positional] == [spec_data.snake(p.wire) for p in op.path_params]
    assert all(p.default is p.empty for p in positional)
    assert "timeout" in keyword
    expected: set[str] = {"timeout"}
    for q in op.query_params:
        if op.paginated and q.wire == "pageToken":
            expected.add("page_token")
        else:
            expected.add(spec_data.snake(q.wire))
            assert (keyword[spec_data.snake(q.wire)].default is inspect.Parameter.empty) == q.required
    if op.paginated:
        expected.add("page_token")
    if op.body_schema is not None:
        if op.operation_id in spec_data.PAYLOAD_KWARG:
            expected.add(spec_data.PAYLOAD_KWARG[op.operation_id])
        else:
            props, required = spec_data.body_properties(op.body_schema)
            for name in props:
                expected.add(spec_data.snake(name))
                assert (keyword[spec_data.snake(name)].default is inspect.Parameter.empty) == (name in required)
    assert set(keyword) == expected
    if op.paginated:
        assert not inspect.iscoroutinefunction(method)
        assert "AsyncPaginator" in str(signature.return_annotation)
    else:
        assert inspect.iscoroutinefunction(method)


def test_rate_classes_agree_with_endpoints_tsv() -> None:
    rows = spec_data.endpoints()
    for op in OPERATIONS:
        assert rate_class_for(op.operation_id, op.method, op.path) == rows[op.operation_id]["rate_limit_class"]
    assert set(RATE_CLASS_OVERRIDES) <= set(OPERATIONS_BY_ID)


def test_idempotency_follows_the_method() -> None:
    for op in OPERATIONS:
        assert op.idempotent == (op.method in ("GET", "PUT", "DELETE"))


def test_naming_helpers_agree_with_the_independent_ones() -> None:
    for op in spec_data.operations():
        assert snake_case(op.operation_id) == spec_data.snake(op.operation_id)
        for p in [*op.path_params, *op.query_params]:
            assert snake_case(p.wire) == spec_data.snake(p.wire)
            assert camel_case(snake_case(p.wire)) == p.wire


def test_paginated_methods_return_a_paginator_without_io() -> None:
    client = CodaClient(api_token="t0ken-value")
    assert isinstance(client.list_docs(limit=5), AsyncPaginator)
    assert client._http is None  # nothing was opened


def test_render_path_encodes_every_parameter() -> None:
    record = OPERATIONS_BY_ID["getRow"]
    assert record.render_path(["d 1", "Tasks/Open", ".."]) == "/docs/d%201/tables/Tasks%2FOpen/rows/%2E%2E"
