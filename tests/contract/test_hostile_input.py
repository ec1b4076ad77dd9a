"""Hostile input, on every backend: object names are data, never paths (no name reaches
another bucket or key), and every failure of every public method is a typed ``CloudError``,
an argument error raised before any request."""

from __future__ import annotations

import inspect
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cloud.common.base import StorageClient
from cloud.common.exceptions import CloudError, ConfigurationError, NotFoundError

from .conftest import unique_bucket

VICTIM = {"keep.txt": b"keep", "moved.txt": b"victim's moved.txt"}

# Rejected everywhere with ConfigurationError before any I/O: a "." or ".." segment, a
# backslash (Azure reads it as "/") or a lone surrogate (no UTF-8 form).  "{v}" is the
# victim bucket.
ESCAPES = [
    ".",
    "..",
    "./a",
    "a/.",
    "a/..",
    "a/./b",
    "x/../moved.txt",
    "../{v}/pwned.txt",
    "/../{v}/pwned.txt",
    "..\\{v}\\pwned.txt",
    "a\\..\\moved.txt",
    ".\\a",
    "a\\b",
    "\\lead",
    "\ud800",
    "a\udfffb",
]

# Stored under exactly this name where accepted; a backend may refuse one (local storage
# allows no empty segment), typed and before any I/O.  No two of them differ only by
# repeated, leading or trailing slashes: the GCS emulator (not GCS) files the content of
# such names in one place.
TRICKS = [
    "%2e%2e/{v}/pwned.txt",
    "%2E%2E%2F{v}%2Fpwned.txt",
    "..%2F{v}%2Fpwned.txt",
    "a/%2e%2e/moved.txt",
    "%2e/a",
    "a%2Fb",
    "a/b",
    "/lead",
    "/{v}/keep.txt",
    "//{v}/moved.txt",
    "{v}/pwned.txt",
    "a//c",
    "trail/",
    "trail.",
    "...",
    ".hidden",
    "a./b",
    "q?comp=list",
    "?",
    "a#frag",
    "#",
    "%",
    "%25",
    "+",
    "caf\u00e9",
    "cafe\u0301",
    "\uff0e\uff0e/{v}/pwned.txt",
    "\u2025/x",
    "a\u202eb",
    "名前/😀",
    "moved.txt",
]

BAD_BUCKETS = ["", "../etc", "a/b", "\ud800"]
BAD_NAMES = [*ESCAPES, "", None, "x" * 1025, "a\x00b"]


@pytest.fixture
async def victim(storage: StorageClient) -> AsyncIterator[str]:
    """Another bucket of the same account, holding :data:`VICTIM`."""
    name = unique_bucket()
    await storage.ensure_bucket(name)
    for key, data in VICTIM.items():
        await storage.put_bytes(name, key, data)
    yield name
    await storage.delete_bucket(name, force=True)


async def assert_untouched(storage: StorageClient, victim: str) -> None:
    assert await storage.list_objects(victim) == sorted(VICTIM)
    for key, data in VICTIM.items():
        assert await storage.get_bytes(victim, key) == data


def payload(name: str) -> bytes:
    return name.encode("utf-8", "surrogatepass")


async def test_tricky_names_stay_in_their_bucket_and_round_trip_exactly(
    storage: StorageClient, bucket: str, victim: str
) -> None:
    accepted = []
    for raw in TRICKS:
        name = raw.format(v=victim)
        before = storage.stats.requests
        try:
            await storage.put_bytes(bucket, name, payload(name))
        except CloudError:
            assert storage.stats.requests == before, f"{name!r} was refused after a request"
            continue
        accepted.append(name)
    assert "moved.txt" in accepted and "a/b" in accepted and "caf\u00e9" in accepted
    await assert_untouched(storage, victim)
    # Each accepted name is listed as itself and reads back its own bytes; nothing else appeared.
    assert await storage.list_objects(bucket) == sorted(accepted)
    for name in accepted:
        assert await storage.get_bytes(bucket, name) == payload(name), name
        assert (await storage.stat(bucket, name)).name == name
    # A listing prefix only filters this bucket's names.
    for prefix in ["..", "../", f"../{victim}/", f"..\\{victim}\\", "%2e%2e/", "/", f"/{victim}/", "a/", "\\", "?"]:
        want = sorted(n for n in accepted if n.startswith(prefix))
        assert await storage.list_objects(bucket, prefix) == want, prefix
    # Deleting each name removes that object only.
    remaining = set(accepted)
    for name in accepted:
        await storage.delete_object(bucket, name)
        remaining.discard(name)
        assert set(await storage.list_objects(bucket)) == remaining, name
    await assert_untouched(storage, victim)


async def test_dot_segments_and_lone_surrogates_never_reach_the_service(
    storage: StorageClient, bucket: str, victim: str, tmp_path: Path
) -> None:
    source = tmp_path / "source.txt"
    source.write_bytes(b"pwned")
    await storage.put_bytes(bucket, "moved.txt", b"mine")
    before = storage.stats.requests
    for raw in ESCAPES:
        name = raw.format(v=victim)
        for call in (
            storage.put_bytes(bucket, name, b"pwned"),
            storage.upload_file(source, bucket, name),
            storage.upload_stream(bucket, name, chunks(b"pwned")),
            storage.get_bytes(bucket, name),
            storage.stat(bucket, name),
            storage.object_exists(bucket, name),
            storage.download_file(bucket, name, tmp_path / "out"),
            storage.delete_object(bucket, name),
            storage.delete_objects(bucket, [name]),
            storage.copy_object(bucket, "moved.txt", bucket, name),
            storage.copy_object(bucket, name, bucket, "copy"),
            drain(storage.open_read(bucket, name)),
        ):
            with pytest.raises(ConfigurationError):
                await call
    assert storage.stats.requests == before
    assert await storage.list_objects(bucket) == ["moved.txt"]
    assert await storage.get_bytes(bucket, "moved.txt") == b"mine"
    assert sorted(os.listdir(tmp_path)) == ["source.txt"]
    await assert_untouched(storage, victim)


async def chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def drain(stream: AsyncIterator[bytes]) -> None:
    async for _ in stream:
        pass


def contract_methods() -> list[str]:
    """Every public method of the storage contract (new ones are covered automatically)."""
    return sorted(
        name
        for name, _ in inspect.getmembers(StorageClient, inspect.isfunction)
        if not name.startswith("_") and name != "aclose"
    )


def bad_arguments(tmp_path: Path, method: str) -> dict[str, list[Any]]:
    """Bad values for each parameter name of the contract's ``method``."""
    missing = tmp_path / "absent.txt"
    folder = tmp_path / "folder"
    folder.mkdir(exist_ok=True)
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"x")
    bad_names = [n.format(v="other") if isinstance(n, str) else n for n in BAD_NAMES]
    return {
        "bucket": BAD_BUCKETS,
        "source_bucket": BAD_BUCKETS,
        "dest_bucket": BAD_BUCKETS,
        "object_name": bad_names,
        "source_name": bad_names,
        "dest_name": bad_names,
        "object_names": [[n] for n in bad_names],
        "local_path": [folder, blocker / "inside.txt"] + ([missing] if method.startswith("upload") else []),
        "files": [[(missing, "ok")], [(folder, "ok")], *([(tmp_path / "good.txt", n)] for n in bad_names)],
        "items": [[("ok", folder)], [("ok", blocker / "inside.txt")], *([(n, tmp_path / "x")] for n in bad_names)],
        "data": ["text, not bytes", None],
        "chunk_size": [0, -1],
        "prefix": ["\ud800", "a\x00", None],
        "delimiter": ["\ud800", "a\x00"],
        "content_type": ["text/plain\r\nX-Injected: 1", "caf\u00e9"],
        "metadata": [{"bad key": "v"}, {"k": "caf\u00e9"}],
        "method": ["BOGUS"],
        "expires": [0, -5],
    }


def good_arguments(bucket: str, tmp_path: Path, method: str) -> dict[str, Any]:
    good = tmp_path / "good.txt"
    good.write_bytes(b"good")
    return {
        "bucket": bucket,
        "source_bucket": bucket,
        "dest_bucket": bucket,
        "object_name": "ok",
        "source_name": "ok",
        "dest_name": "ok-copy",
        "object_names": ["ok"],
        "local_path": good if method == "upload_file" else tmp_path / "fresh" / "out.txt",
        "files": [(good, "ok")],
        "items": [("ok", tmp_path / "fresh" / "item.txt")],
        "data": b"good",
        "chunks": chunks(b"good"),
    }


async def invoke(storage: StorageClient, method: str, kwargs: dict[str, Any]) -> Any:
    result = getattr(storage, method)(**kwargs)
    if inspect.isawaitable(result):
        result = await result
    if hasattr(result, "__aiter__"):
        result = [item async for item in result]
    return result


async def test_every_public_method_raises_typed_errors_before_io_on_bad_input(
    storage: StorageClient, bucket: str, victim: str, tmp_path: Path
) -> None:
    await storage.put_bytes(bucket, "ok", b"ok")
    tried: set[str] = set()
    for method in contract_methods():
        parameters = inspect.signature(getattr(StorageClient, method)).parameters
        bad = bad_arguments(tmp_path, method)
        for parameter in parameters:
            for value in bad.get(parameter, []):
                kwargs = {
                    name: value
                    for name, value in good_arguments(bucket, tmp_path, method).items()
                    if name in parameters and parameters[name].default is inspect.Parameter.empty
                }
                kwargs[parameter] = value
                before = storage.stats.requests
                where = f"{method}({parameter}={value!r})"
                try:
                    result = await invoke(storage, method, kwargs)
                except CloudError as exc:
                    if parameter == "local_path" and value == tmp_path / "absent.txt":
                        assert isinstance(exc, NotFoundError) and isinstance(exc, FileNotFoundError), where
                    if parameter.endswith(("bucket", "name", "names")):
                        assert isinstance(exc, ConfigurationError), f"{where}: {exc!r}"
                except BaseException as exc:
                    raise AssertionError(f"{where} raised {exc!r}, not a CloudError") from exc
                else:
                    # Bulk calls report each item; anything else must have refused.
                    assert isinstance(result, list) and result and not any(r.ok for r in result), where
                    assert all(isinstance(r.error, CloudError) for r in result), f"{where}: {result!r}"
                assert storage.stats.requests == before, f"{where} made a request"
                tried.add(method)
    assert {"put_bytes", "upload_file", "download_file", "download_many", "iter_objects", "sign_url"} <= tried
    assert await storage.list_objects(bucket) == ["ok"]
    await assert_untouched(storage, victim)


async def test_upload_file_of_a_missing_file_or_a_folder_is_typed(
    storage: StorageClient, bucket: str, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError) as missing:
        await storage.upload_file(tmp_path / "absent", bucket, "ghost")
    assert isinstance(missing.value, FileNotFoundError)
    with pytest.raises(ConfigurationError, match="folder"):
        await storage.upload_file(tmp_path, bucket, "ghost")
    results = await storage.upload_many(bucket, [(tmp_path / "absent", "a"), (tmp_path, "b")])
    assert isinstance(results[0].error, NotFoundError) and isinstance(results[1].error, ConfigurationError)
    assert await storage.list_objects(bucket) == []


async def test_downloads_create_missing_folders(storage: StorageClient, bucket: str, tmp_path: Path) -> None:
    await storage.put_bytes(bucket, "a.txt", b"a")
    await storage.put_bytes(bucket, "b.txt", b"b")
    assert await storage.download_file(bucket, "a.txt", tmp_path / "new" / "deeper" / "a.txt")
    assert (tmp_path / "new" / "deeper" / "a.txt").read_bytes() == b"a"
    out = tmp_path / "out" / "sub"
    results = await storage.download_many(bucket, [("a.txt", out / "a.txt"), ("b.txt", out / "b" / "b.txt")])
    assert [r.ok for r in results] == [True, True], results
    assert (out / "a.txt").read_bytes() == b"a" and (out / "b" / "b.txt").read_bytes() == b"b"
    # A failed download leaves neither a file nor the folders it would have created.
    with pytest.raises(NotFoundError):
        await storage.download_file(bucket, "missing", tmp_path / "never" / "made" / "x")
    assert sorted(os.listdir(tmp_path)) == ["new", "out"]
