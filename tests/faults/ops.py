"""The operations the fault suite drives, and the checks every case ends with.

Every case ends in one of two ways, and both are checked the same way everywhere:

* success: what the emulator holds (read back directly, never through the proxy) or what
  the client returned is byte-identical to the source (sha256);
* failure: a typed :class:`~cloud.common.exceptions.CloudError`, and nothing partial or
  corrupt anywhere: no destination file and no temp file beside it, no object with other
  content, no open multipart upload (S3), no uncommitted block (Azure).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from cloud.common.exceptions import CloudError
from tests.faults.conftest import Backend, sha

UPLOADS = ["put_bytes", "upload_file"]
DOWNLOADS = ["get_bytes", "download_file", "open_read"]


async def upload(backend: Backend, op: str, name: str, data: bytes, workdir: Path, **options: object) -> None:
    """Upload ``data`` as ``name`` through the proxy with ``op``."""
    client = options.pop("client", None) or backend.client
    if op == "put_bytes":
        await client.put_bytes(backend.bucket, name, data, **options)  # type: ignore[attr-defined]
    elif op == "upload_file":
        source = workdir / "source.bin"
        source.write_bytes(data)
        await client.upload_file(source, backend.bucket, name, **options)  # type: ignore[attr-defined]
    else:
        raise AssertionError(op)


async def download(backend: Backend, op: str, name: str, workdir: Path, **options: object) -> bytes:
    """Read ``name`` through the proxy with ``op`` (``download_file`` into ``workdir/out``)."""
    client = options.pop("client", None) or backend.client
    if op == "get_bytes":
        data: bytes = await client.get_bytes(backend.bucket, name, **options)  # type: ignore[attr-defined]
        return data
    if op == "download_file":
        target = workdir / "out" / "object.bin"
        target.parent.mkdir(exist_ok=True)
        await client.download_file(backend.bucket, name, target, **options)  # type: ignore[attr-defined]
        return target.read_bytes()
    if op == "open_read":
        chunks = [c async for c in client.open_read(backend.bucket, name, **options)]  # type: ignore[attr-defined]
        return b"".join(chunks)
    raise AssertionError(op)


async def upload_outcome(
    backend: Backend, op: str, name: str, data: bytes, workdir: Path, **options: object
) -> BaseException | None:
    """Run the upload and check its outcome; return the (typed) error, if any."""
    error: BaseException | None = None
    try:
        await upload(backend, op, name, data, workdir, **options)
    except Exception as exc:  # checked below
        error = exc
    await check_upload(backend, name, data, error)
    return error


async def check_upload(backend: Backend, name: str, data: bytes, error: BaseException | None) -> None:
    stored = await backend.stored(name)
    if error is None:
        assert stored is not None, "the upload reported success but nothing is stored"
        assert len(stored) == len(data) and sha(stored) == sha(data), (
            f"the upload reported success but the stored object differs ({len(stored)} bytes stored, {len(data)} sent)"
        )
    else:
        assert isinstance(error, CloudError), f"untyped error {type(error).__name__}: {error!r}"
        assert stored is None or sha(stored) == sha(data), "a failed upload left an object with other content"
    assert await backend.leftovers(name) == [], "the upload left uncommitted parts behind"


async def download_outcome(
    backend: Backend, op: str, name: str, data: bytes, workdir: Path, **options: object
) -> BaseException | None:
    """Run the download and check its outcome; return the (typed) error, if any."""
    error: BaseException | None = None
    got = b""
    try:
        got = await download(backend, op, name, workdir, **options)
    except Exception as exc:  # checked below
        error = exc
    check_download(op, data, got, error, workdir)
    return error


def check_download(op: str, data: bytes, got: bytes, error: BaseException | None, workdir: Path) -> None:
    out = workdir / "out"
    if error is None:
        assert len(got) == len(data) and sha(got) == sha(data), (
            f"{op} reported success with other content ({len(got)} bytes, {len(data)} expected)"
        )
        if op == "download_file":
            assert sorted(p.name for p in out.iterdir()) == ["object.bin"], "a temp file was left beside the file"
    else:
        assert isinstance(error, CloudError), f"untyped error {type(error).__name__}: {error!r}"
        if op == "download_file":
            assert not out.exists() or list(out.iterdir()) == [], "a failed download left a file behind"


@contextlib.contextmanager
def unconfigured_logging() -> Iterator[None]:
    """Logging as in a program that configured none: a WARNING (or worse) record that no
    handler takes is printed on stderr by ``logging.lastResort``.  pytest's own capture
    handlers are set aside meanwhile, so ``capfd`` sees what a user would see."""
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers.clear()
    try:
        yield
    finally:
        root.handlers[:] = saved
