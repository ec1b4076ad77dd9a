"""Local file helpers shared by every storage client: atomic downloads and chunked reads.

Every local failure surfaces as a :class:`~cloud.common.exceptions.CloudError` (see
:func:`local_file_error`), never as a bare ``OSError``.
"""

from __future__ import annotations

import os
import random
import stat
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import BinaryIO, NoReturn

import anyio

from .exceptions import CloudError, ConfigurationError, NotFoundError, PermissionDeniedError
from .types import StrPath

__all__ = [
    "DEFAULT_CONTENT_TYPE",
    "AtomicDestination",
    "atomic_destination",
    "check_destination",
    "file_chunks",
    "SMALL_IO",
    "guess_content_type",
    "local_file_error",
    "open_local_file",
    "pwrite_all",
    "read_at",
    "read_small_file",
    "write_file_atomically",
]


SMALL_IO = 64 * 1024
"""Local reads and writes up to this size run on the event loop: cheaper than a thread hop."""


_TEMP_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


class AtomicDestination:
    """A temp file beside the final path, written in order or at offsets (parallel parts)."""

    def __init__(self, final_path: Path, temp_path: Path, fd: int) -> None:
        self.final_path = final_path
        self.temp_path = temp_path
        self._fd = fd
        self._offset = 0
        self.bytes_written = 0

    async def write(self, data: bytes) -> None:
        """Append ``data`` after what was appended so far."""
        await self.write_at(data, self._offset)
        self._offset += len(data)

    async def write_at(self, data: bytes, offset: int) -> None:
        """Write ``data`` at ``offset`` (safe to call from concurrent tasks).

        Writes of up to 64 KiB go straight to the page cache from the event loop (a few
        microseconds; a worker-thread hop costs ~70 µs); larger ones run in a worker thread.
        """
        with _typed_errors(self.final_path):
            if len(data) <= SMALL_IO:
                self.bytes_written += pwrite_all(self._fd, data, offset)
            else:
                self.bytes_written += await anyio.to_thread.run_sync(pwrite_all, self._fd, data, offset)

    @property
    def fd(self) -> int:
        """The temp file's descriptor, for callers that write from their own worker thread
        (e.g. several pieces in one ``pwritev``); it is closed by the context manager."""
        return self._fd

    async def hash_into(self, update: Callable[[bytes], object], size: int) -> None:
        """Feed the first ``size`` bytes written so far to ``update``, in order (a
        worker thread reads them back: used to check a download whose ranges could not be
        hashed as they arrived)."""

        def run() -> None:
            block = 8 * 1024 * 1024
            for offset in range(0, size, block):
                data = os.pread(self._fd, min(block, size - offset), offset)
                if not data:
                    break
                update(data)

        await anyio.to_thread.run_sync(run)

    async def truncate(self, size: int) -> None:
        """Set the temp file's size (preallocates room for parallel parts)."""
        with _typed_errors(self.final_path):
            await anyio.to_thread.run_sync(os.ftruncate, self._fd, size)


@asynccontextmanager
async def atomic_destination(local_path: StrPath) -> AsyncIterator[AtomicDestination]:
    """Yield a temp file beside ``local_path``; rename it into place only if the block ends
    without an exception, otherwise delete it, so no partial file is ever left behind.
    Missing folders on the way are created (and removed again if the block fails)."""
    final = os.fspath(local_path)
    replacing = check_destination(final)
    # Creating the temp file (and renaming it, unless that frees a big file) runs on the
    # event loop: a few syscalls, less than one worker-thread hop (~100 µs round trip
    # measured on this project's machines).
    fd, temp, created = _create_temp_beside(final)
    dest = AtomicDestination(Path(final), Path(temp), fd)
    ok = False
    try:
        yield dest
        # No fsync: like boto3 and gsutil, "complete" means every byte written and verified,
        # not flushed to stable storage (an fsync costs ~2 ms per file on this kind of disk).
        ok = True
    finally:
        # Replacing an existing file releases its pages inside the rename, and deleting a
        # temp file releases the temp's (~130 ms for 256 MiB measured): above 64 KiB that
        # finish runs in a worker thread, not on the loop.
        if (replacing if ok else os.fstat(fd).st_size) > SMALL_IO:
            with anyio.CancelScope(shield=True):  # the temp file is dealt with either way
                await anyio.to_thread.run_sync(_finish_temp, fd, temp, final if ok else None, created)
        else:
            _finish_temp(fd, temp, final if ok else None, created)


def check_destination(local_path: StrPath) -> int:
    """Raise ``ConfigurationError`` (before any I/O with the service) when ``local_path``
    cannot receive a download: it is a folder, or a file stands where one of its folders
    should be.  Missing folders are fine: the download creates them, as ``aws s3 cp`` does.
    Returns the size of the file a download would replace there (0 when there is none)."""
    final = os.fspath(local_path)
    try:
        found = os.stat(final)
    except FileNotFoundError:
        # Every folder on the way that exists is a folder (a file in the way is ENOTDIR):
        # the missing ones can be created.  One stat is all a new download costs here.
        return 0
    except OSError:
        folder = os.path.dirname(os.path.abspath(final))
        while not os.path.exists(folder):
            folder = os.path.dirname(folder)
        if not os.path.isdir(folder):
            raise ConfigurationError(f"destination folder {folder!r} is a file, not a folder") from None
        return 0
    if stat.S_ISDIR(found.st_mode):
        raise ConfigurationError(f"destination is a folder: {final!r}")
    return found.st_size


async def write_file_atomically(local_path: StrPath, data: bytes, *, replacing: int = 0) -> None:
    """Write a whole body to ``local_path`` through a temp file renamed into place, on the
    event loop up to 64 KiB, else in one worker-thread hop: the single-response download
    path of the providers, which call :func:`check_destination` before their request (a
    bad destination found only here still raises ``ConfigurationError`` and leaves nothing)
    and pass on what it returned as ``replacing``: replacing a file of more than 64 KiB
    frees its pages inside the rename, so that takes the worker thread too."""
    final = os.fspath(local_path)

    def write() -> None:
        fd, temp, created = _create_temp_beside(final)
        ok = False
        try:
            with _typed_errors(final):
                pwrite_all(fd, data, 0)
            ok = True
        finally:
            _finish_temp(fd, temp, final if ok else None, created)

    if len(data) <= SMALL_IO and replacing <= SMALL_IO:
        write()
        return
    with anyio.CancelScope(shield=True):  # the thread finishes (and cleans up) either way
        await anyio.to_thread.run_sync(write)


def _create_temp_beside(final: str) -> tuple[int, str, list[str]]:
    """Create a new hidden temp file in ``final``'s folder (``O_EXCL``, so never someone
    else's file); mode 0666 minus the umask, as a plain ``open()`` would give the result.
    A missing folder is created first, with its missing parents; those created are returned
    too, for :func:`_finish_temp` to remove if the download fails.  Raises
    ``ConfigurationError`` when ``final`` is a folder or a file stands in the way."""
    parent, name = os.path.split(final)
    prefix = os.path.join(parent, f".{name[:100]}.")
    created: list[str] = []

    def fail(exc: OSError) -> NoReturn:
        _remove_folders(created)
        check_destination(final)  # the clearer error when it applies
        raise local_file_error(exc, final) from exc

    for _ in range(100):
        temp = f"{prefix}{random.getrandbits(48):012x}.part"
        try:
            return os.open(temp, _TEMP_FLAGS, 0o666), temp, created
        except FileExistsError:
            continue
        except FileNotFoundError as exc:
            if not parent:
                fail(exc)
            # The folder is missing (maybe just removed by a concurrent failed download).
            try:
                created += _make_folders(parent)
            except OSError as failure:
                fail(failure)
        except OSError as exc:
            fail(exc)
    raise CloudError(f"could not create a temp file beside {final!r}")


def _make_folders(folder: str) -> list[str]:
    """Create ``folder`` and its missing parents; return those this call created, outermost
    first (one made meanwhile by a concurrent download is not counted)."""
    missing: list[str] = []
    while folder and not os.path.isdir(folder) and folder != os.path.dirname(folder):
        missing.append(folder)
        folder = os.path.dirname(folder)
    created = []
    for path in reversed(missing):
        try:
            os.mkdir(path)
        except FileExistsError:
            if not os.path.isdir(path):
                raise
            continue
        created.append(path)
    return created


def _remove_folders(created: Sequence[str]) -> None:
    """Remove the folders a failed download created, innermost first, while empty (another
    download may have put its file there meanwhile)."""
    for path in reversed(created):
        try:
            os.rmdir(path)
        except OSError:
            return


def _finish_temp(fd: int, temp: str, final: str | None, created: Sequence[str] = ()) -> None:
    """Close the temp file, then rename it into place (``final``) or delete it (``None``)
    along with the ``created`` folders; a failed rename deletes them too."""
    os.close(fd)
    if final is None:
        _unlink_quietly(temp)
        _remove_folders(created)
        return
    try:
        os.replace(temp, final)
    except OSError as exc:
        _unlink_quietly(temp)
        _remove_folders(created)
        check_destination(final)  # e.g. a folder appeared at the destination meanwhile
        raise local_file_error(exc, final) from exc


def local_file_error(exc: OSError, path: StrPath) -> CloudError:
    """The typed error for a local file operation on ``path`` that raised ``exc``.

    A missing file is ``NotFoundError`` (still a ``FileNotFoundError``), a folder where a
    file is expected ``ConfigurationError``, a denied access ``PermissionDeniedError``;
    anything else (a full disk, an I/O error) is a plain ``CloudError``.  A ``CloudError``
    (e.g. a ``NotFoundError``, which is an ``OSError`` too) comes back unchanged.
    """
    if isinstance(exc, CloudError):
        return exc
    where = os.fspath(path)
    reason = exc.strerror or str(exc)
    if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        return NotFoundError(f"local file {where!r} does not exist: {reason}", code="NoSuchFile")
    if isinstance(exc, IsADirectoryError):
        return ConfigurationError(f"{where!r} is a folder, not a file")
    if isinstance(exc, PermissionError):
        return PermissionDeniedError(f"no access to local file {where!r}: {reason}", code="AccessDenied")
    return CloudError(f"local I/O failed on {where!r}: {reason}")


@contextmanager
def _typed_errors(path: StrPath) -> Iterator[None]:
    """Raise an ``OSError`` from the block as :func:`local_file_error`'s typed error."""
    try:
        yield
    except OSError as exc:
        if isinstance(exc, CloudError):
            raise
        raise local_file_error(exc, path) from exc


def pwrite_all(fd: int, data: bytes, offset: int) -> int:
    """Write all of ``data`` at ``offset`` of ``fd`` (retrying short writes); return its length."""
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view = view[n:]
        offset += n
    return len(data)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def open_local_file(path: StrPath) -> BinaryIO:
    """Open a local file for reading; a failure raises :func:`local_file_error`'s typed error."""
    with _typed_errors(path):
        return open(path, "rb")


def _read_chunk(fd: int, size: int, offset: int) -> bytes:
    return os.pread(fd, size, offset)


async def read_at(path: StrPath, offset: int, size: int) -> bytes:
    """Read ``size`` bytes at ``offset`` of a local file (in a worker thread above 64 KiB)."""

    def read() -> bytes:
        with _typed_errors(path), open(path, "rb") as f:
            return _read_chunk(f.fileno(), size, offset)

    if size <= SMALL_IO:
        return read()
    return await anyio.to_thread.run_sync(read)


async def read_small_file(path: StrPath, limit: int) -> tuple[int, bytes | None]:
    """Return ``(size, content)`` of a local file when it holds at most ``limit`` bytes,
    else ``(size, None)``, in at most one worker-thread hop (none up to 64 KiB).

    Small uploads read their whole body this way instead of a stat hop plus a read hop.  A
    missing file, a folder or an unreadable file raises :func:`local_file_error`'s typed
    error, before the caller's first request.
    """

    def read(max_bytes: int) -> tuple[int, bytes | None]:
        with _typed_errors(path), open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                return size, None
            data = f.read()
        return len(data), data

    size, data = read(SMALL_IO)
    if data is not None or size > limit:
        return size, data
    return await anyio.to_thread.run_sync(read, limit)


async def file_chunks(
    path: StrPath, chunk_size: int, *, start: int = 0, length: int | None = None
) -> AsyncIterator[bytes]:
    """Yield a local file's content from ``start`` in chunks of at most ``chunk_size`` bytes
    (each read in a worker thread).  With ``length``, exactly that many bytes are yielded, and
    a file that turns out shorter raises ``ConfigurationError`` (it changed meanwhile)."""
    with _typed_errors(path):
        fd = await anyio.to_thread.run_sync(os.open, os.fspath(path), os.O_RDONLY)
    try:
        offset = start
        end = None if length is None else start + length
        while end is None or offset < end:
            want = chunk_size if end is None else min(chunk_size, end - offset)
            with _typed_errors(path):
                chunk = await anyio.to_thread.run_sync(_read_chunk, fd, want, offset)
            if not chunk:
                if end is not None:
                    raise ConfigurationError(f"{os.fspath(path)!r} got shorter while it was being read")
                return
            offset += len(chunk)
            yield chunk
    finally:
        os.close(fd)


DEFAULT_CONTENT_TYPE = "application/octet-stream"
"""The content type of an object stored without one."""


def guess_content_type(name: str) -> str:
    """The content type a file called ``name`` most likely has (``application/octet-stream``
    when unknown), as ``aws s3 cp`` and ``gsutil cp`` guess it."""
    import mimetypes

    guessed, encoding = mimetypes.guess_type(name, strict=False)
    if guessed is None or encoding is not None:
        return DEFAULT_CONTENT_TYPE
    return guessed
