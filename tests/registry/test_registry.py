"""The provider registry: one table read by open_storage, cloud.transfer, the CLI, the
sync-stub generator and the contract suite; a new provider is one package plus one entry
(shown with the test-only ``test-mem`` provider of ``tests/registry/testmem``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import cloud
import tests.registry.testmem as testmem
from cloud.common import registry
from cloud.common.enums import CloudProvider
from cloud.common.exceptions import (
    STATUS_ERRORS,
    APIError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    GoneError,
    MissingDependencyError,
    error_class_for_status,
)
from cloud.common.sync_stubs import FACADE_MODULES
from cloud.transfer import LocalDir, Remote, copy_tree, iter_tree
from tests.cli.conftest import DATA, run_in_process, run_process, sample_files
from tests.registry.testmem.client import SyncTestMemClient, TestMemClient


def test_built_in_providers_by_scheme_and_name() -> None:
    assert [registry.for_scheme(s).name for s in ("s3", "gs", "az", "file", "memory")] == [
        "aws",
        "gcp",
        "azure",
        "local",
        "local",
    ]
    assert registry.for_scheme("S3").extra == "aws"
    assert {"s3", "gs", "az", "file", "memory", "test-mem"} <= set(registry.schemes())
    with pytest.raises(ConfigurationError, match=r"unsupported storage URL scheme 'ftp'.*s3://.*test-mem://"):
        registry.for_scheme("ftp")
    assert registry.for_name("coda") is not None and registry.for_name("coda").schemes == ()  # type: ignore[union-attr]


def test_every_facade_module_comes_from_the_registry() -> None:
    expected = [p.sync_client.partition(":")[0] for p in registry.providers() if p.sync_client]
    assert FACADE_MODULES[: len(expected)] == expected[: len(FACADE_MODULES)]
    assert {"cloud.aws.sync", "cloud.gcp.sync", "cloud.azure.sync", "cloud.local.sync", "cloud.coda_io.sync"} <= set(
        FACADE_MODULES
    )


def test_register_refuses_clashes_and_bad_names() -> None:
    with pytest.raises(ConfigurationError, match="already belongs"):
        registry.register(registry.Provider(name="other", schemes=("s3",), client="x:Y"))
    with pytest.raises(ConfigurationError, match="already registered"):
        registry.register(registry.Provider(name="aws", schemes=("s4",), client="x:Y"))
    with pytest.raises(ConfigurationError, match="invalid URL scheme"):
        registry.register(registry.Provider(name="odd", schemes=("1x",), client="x:Y"))
    with pytest.raises(ConfigurationError, match="module:attribute"):
        registry.load("no-colon")
    assert registry.for_name("other") is None and registry.for_name("odd") is None


def test_a_missing_extra_names_it() -> None:
    registry.register(
        registry.Provider(name="ghost", schemes=("ghost",), extra="ghost", client="no_such_module_here:Client")
    )
    try:
        with pytest.raises(MissingDependencyError, match=r"pip install 'codomyrmex-cloud\[ghost\]'") as raised:
            cloud.open_storage("ghost://bucket")
        assert raised.value.extra == "ghost"
    finally:
        registry.unregister("ghost")
    assert registry.for_name("ghost") is None


def test_options_from_settings_and_environment() -> None:
    s3, gcs, azure = (registry.for_scheme(s) for s in ("s3", "gs", "az"))
    settings = registry.ClientSettings(endpoint_url="http://127.0.0.1:9", region="eu-west-1", profile="dev")
    assert s3.client_options("s3://", settings, {}) == {
        "endpoint_url": "http://127.0.0.1:9",
        "region": "eu-west-1",
        "profile": "dev",
    }
    assert s3.client_options("s3://", None, {"AWS_ENDPOINT_URL": "http://e:1"}) == {"endpoint_url": "http://e:1"}
    assert s3.client_options(
        "s3://", None, {"AWS_ENDPOINT_URL_S3": "http://s:2", "AWS_ENDPOINT_URL": "http://e:1"}
    ) == {"endpoint_url": "http://s:2"}
    # GCS and Azure read their own environment (STORAGE_EMULATOR_HOST, AZURE_STORAGE_*): the
    # registry passes only what was given.
    assert gcs.client_options("gs://", registry.ClientSettings(project="p"), {"STORAGE_EMULATOR_HOST": "h"}) == {
        "project": "p"
    }
    assert azure.client_options("az://", None, {"AZURE_STORAGE_ACCOUNT": "acct"}) == {}
    assert azure.client_options("az://", registry.ClientSettings(endpoint_url="http://a:1"), {}) == {
        "account_url": "http://a:1"
    }
    local = registry.for_scheme("file")
    assert local.client_options("file:///data/x", None, {}) == {"root": "/data/x"}
    assert local.client_options("memory://", None, {}) == {}


def test_one_http_status_table() -> None:
    from cloud.azure import errors as azure_errors
    from cloud.gcp import errors as gcp_errors

    assert gcp_errors.STATUS_ERRORS is STATUS_ERRORS and azure_errors.STATUS_CODES is STATUS_ERRORS
    assert (error_class_for_status(410), error_class_for_status(413), error_class_for_status(499)) == (
        GoneError,
        BadRequestError,
        ConflictError,
    )
    assert error_class_for_status(418) is APIError
    # The providers now agree on the statuses they used to map differently.
    from tests.azure.test_errors import http_error
    from tests.gcp.test_errors import response_error

    for status in (410, 413, 418, 499):
        gcs = gcp_errors.translate(response_error(status), "stat")
        az = azure_errors.translate(http_error(status), "stat")
        assert type(gcs) is type(az) is error_class_for_status(status), status


def test_registered_provider_is_a_cloud_provider_member() -> None:
    member = CloudProvider("test-mem")
    assert isinstance(member, CloudProvider) and member.value == "test-mem" and member is CloudProvider("test-mem")
    assert TestMemClient.provider is member
    assert member not in list(CloudProvider)  # the built-in members are unchanged
    with pytest.raises(ValueError):
        CloudProvider("never-registered")


async def test_new_provider_through_open_storage_and_transfer(tmp_path: Path) -> None:
    store = cloud.open_storage("test-mem://anything")
    assert isinstance(store, TestMemClient)
    assert cloud.parse_storage_url("test-mem://b/k/x.txt").key == "k/x.txt"
    async with store:
        await store.ensure_bucket("reg-transfer")
        results = await copy_tree(LocalDir(DATA), Remote(store, "reg-transfer", "in"))
        assert all(r.ok for r in results) and results
        assert results[0].destination.startswith("test-mem://reg-transfer/in/")
        names = sorted([m.name async for m in iter_tree(Remote(store, "reg-transfer", "in"))])
        assert names == sorted(sample_files(DATA))
        back = tmp_path / "back"
        await copy_tree(Remote(store, "reg-transfer", "in"), LocalDir(back))
        assert sample_files(back) == sample_files(DATA)
        assert [b async for b in registry.for_scheme("test-mem").iter_buckets(store)].count("reg-transfer") == 1
        await store.delete_bucket("reg-transfer", force=True)


def test_new_provider_sync_facade() -> None:
    assert registry.for_name("test-mem").sync_client_class() is SyncTestMemClient  # type: ignore[union-attr]
    with SyncTestMemClient() as client:
        assert client.ensure_bucket("reg-sync") is True
        client.put_bytes("reg-sync", "a/b.txt", b"hi")
        assert client.list_objects("reg-sync") == ["a/b.txt"]
        assert client.get_bytes("reg-sync", "a/b.txt") == b"hi"
        client.delete_bucket("reg-sync", force=True)


def test_new_provider_in_the_cli(tmp_path: Path) -> None:
    def cli(*args: object) -> tuple[int, str, str]:
        done = run_in_process(*args)
        return done.code, done.stdout, done.stderr

    assert cli("mb", "test-mem://reg-cli")[0] == 0
    code, _, err = cli("cp", "-r", DATA, "test-mem://reg-cli/data", "--json")
    assert code == 0, err
    assert run_in_process("ls", "-r", "test-mem://reg-cli/data").lines() == sorted(sample_files(DATA))
    assert "reg-cli/" in run_in_process("ls", "test-mem://").lines()
    assert cli("sync", "test-mem://reg-cli/data", tmp_path / "out", "-q")[0] == 0
    assert sample_files(tmp_path / "out") == sample_files(DATA)
    assert run_in_process("cat", "test-mem://reg-cli/data/hello.txt").stdout_bytes == (DATA / "hello.txt").read_bytes()
    assert cli("rb", "test-mem://reg-cli", "--force")[0] == 0


def test_new_provider_reaches_another_process_through_cloud_providers() -> None:
    env = {"CLOUD_PROVIDERS": "tests.registry.testmem", "PYTHONPATH": str(Path(testmem.__file__).parents[3])}
    listed = run_process("ls", "test-mem://", env=env)
    assert (listed.code, listed.stdout, listed.stderr) == (0, "", "")
    # Each process starts with no buckets: a copy to one fails once, naming the command.
    copied = run_process("cp", "-r", DATA, "test-mem://nowhere/x", env=env)
    assert copied.code == 1
    assert copied.stderr.startswith("cloud: not found: ") and "cannot copy to test-mem://nowhere/x" in copied.stderr
    unknown = run_process("ls", "test-mem://", env={"PYTHONPATH": os.environ.get("PYTHONPATH", "")})
    assert unknown.code == 2 and "test-mem" in unknown.stderr
