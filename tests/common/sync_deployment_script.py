"""Deployment shapes of the sync facade, run as a script by ``test_sync_deployment.py``.

``fork-local`` / ``fork-s3 URL``: a client created at import time serves threads in the
parent; the process forks while they are mid-call, and each child hammers the client from 16
threads.  ``exit S3_URL AZURE_CONNECTION_STRING``: clients never closed and partly consumed
iterators held at module level; the interpreter must then exit promptly and quietly.
``exit-busy``: the same, with daemon threads still calling the clients at exit.

Every problem is printed on stdout and makes the exit code non-zero; stderr must stay empty.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from cloud.common.exceptions import NotFoundError

MODE = sys.argv[1]
THREADS = 16
CALLS = 10
CHILDREN = 3
PARENT_DATA = b"written by the parent"


def s3_client(url: str) -> Any:
    from cloud.aws import SyncS3Client
    from cloud.common.models import CloudCredentials

    credentials = CloudCredentials(access_key_id="AKIADEPLOYMENT", secret_access_key="deployment-secret")
    return SyncS3Client(endpoint_url=url, region="us-east-1", credentials=credentials)


# Created at import time, as an application module does (e.g. under gunicorn --preload).
if MODE == "fork-local":
    from cloud.local import SyncLocalStorageClient

    CLIENT: Any = SyncLocalStorageClient()
elif MODE == "fork-s3":
    CLIENT = s3_client(sys.argv[2])
else:
    from cloud.azure import SyncAzureBlobClient

    CLIENT = s3_client(sys.argv[2])
    CLOSED = s3_client(sys.argv[2])
    AZURE = SyncAzureBlobClient(connection_string=sys.argv[3])
BUCKET = f"deploy-{uuid.uuid4().hex[:12]}"
HELD: list[Iterator[Any]] = []  # half-consumed iterators of the parent


def problem(message: str) -> None:
    print(f"[{os.getpid()}] {message}", flush=True)


def first_call_in_child() -> None:
    """A child's first call must reach a fresh async client, never the parent's."""
    if MODE == "fork-local":
        # A fresh in-memory store is empty; the parent's client would still hold the data.
        try:
            CLIENT.get_bytes(BUCKET, "parent")
        except NotFoundError:
            return
        raise AssertionError("served by the parent's async client")
    assert CLIENT.get_bytes(BUCKET, "parent") == PARENT_DATA


def hammer(worker: int, calls: int) -> None:
    key = f"child-{os.getpid()}-{worker}"
    if MODE == "fork-local":
        CLIENT.ensure_bucket(BUCKET)
    for i in range(calls):
        data = f"{key}-{i}".encode()
        CLIENT.put_bytes(BUCKET, key, data)
        if CLIENT.get_bytes(BUCKET, key) != data:
            raise AssertionError(f"{key}: read back something else")


def run_threads(count: int, target: Callable[[int], None]) -> list[str]:
    failures: list[str] = []
    barrier = threading.Barrier(count)

    def run(worker: int) -> None:
        barrier.wait()  # all first calls at once
        try:
            target(worker)
        except Exception as exc:
            failures.append(f"worker {worker}: {exc!r}")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def child() -> int:
    def work(worker: int) -> None:
        first_call_in_child()
        hammer(worker, CALLS)

    failures = run_threads(THREADS, work)
    for failure in failures[:10]:
        problem(failure)
    # The parent's half-consumed iterators cannot go on here, and must not hang either.
    try:
        next(HELD[0])
    except RuntimeError:
        pass
    else:
        failures.append("a parent's iterator went on in the child")
        problem(failures[-1])
    for iterator in HELD:
        iterator.close()
    return 1 if failures else 0


def wait_for(pid: int, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    problem(f"child {pid} hung")
    return -1


def fork_scenario() -> int:
    CLIENT.ensure_bucket(BUCKET)
    CLIENT.put_bytes(BUCKET, "parent", PARENT_DATA)
    HELD[:] = [CLIENT.open_read(BUCKET, "parent", chunk_size=4), iter(CLIENT.iter_objects(BUCKET))]
    for iterator in HELD:
        next(iterator)
    stop = threading.Event()
    parent_failures: list[str] = []

    def busy_parent() -> None:
        while not stop.is_set():
            try:
                if CLIENT.get_bytes(BUCKET, "parent") != PARENT_DATA:
                    raise AssertionError("the parent read something else")
            except Exception as exc:
                parent_failures.append(repr(exc))

    busy = [threading.Thread(target=busy_parent) for _ in range(4)]
    for thread in busy:
        thread.start()
    codes = []
    for _ in range(CHILDREN):
        time.sleep(0.05)  # the parent's threads are mid-call when it forks
        pid = os.fork()
        if pid == 0:
            sys.exit(child())
        started = time.monotonic()
        codes.append(wait_for(pid, 30))
        print(f"child {pid}: exit code {codes[-1]} after {time.monotonic() - started:.1f} s", flush=True)
        if codes[-1] == -1:
            break
    stop.set()
    for thread in busy:
        thread.join()
    for failure in parent_failures[:10]:
        problem(f"parent: {failure}")
    if parent_failures or any(codes):
        problem(f"child exit codes {codes}, {len(parent_failures)} failures in the parent")
        return 1
    print("ok", flush=True)
    return 0


def exit_scenario() -> None:
    global LISTING, READER, CLOSED_LISTING, CLOSED_READER, AZURE_LISTING, AZURE_READER, FILES
    big = os.urandom(512 * 1024)
    for client in (CLIENT, AZURE):
        client.ensure_bucket(BUCKET)
        for i in range(5):
            client.put_bytes(BUCKET, f"small-{i}", b"x")
        client.put_bytes(BUCKET, "big", big)
    LISTING = iter(CLIENT.iter_objects(BUCKET))
    READER = CLIENT.open_read(BUCKET, "big", chunk_size=1024)
    CLOSED_LISTING = iter(CLOSED.iter_objects(BUCKET))
    CLOSED_READER = CLOSED.open_read(BUCKET, "big", chunk_size=1024)
    AZURE_LISTING = iter(AZURE.iter_objects(BUCKET))
    AZURE_READER = AZURE.open_read(BUCKET, "big", chunk_size=1024)
    for iterator in (LISTING, READER, CLOSED_LISTING, CLOSED_READER, AZURE_LISTING, AZURE_READER):
        next(iterator)
    FILES = [CLIENT.open(BUCKET, "big"), AZURE.open(BUCKET, "big")]
    for file in FILES:
        file.read(1000)
    CLOSED.close()
    if MODE == "exit-busy":
        start_busy_daemon_threads()
    print("ok", flush=True)
    # Exit with the clients open, the iterators half consumed (and calls in flight).


def start_busy_daemon_threads() -> None:
    def busy(work: Callable[[], object]) -> None:
        try:
            while True:
                work()
        except BaseException:
            return  # ended at exit

    for work in (
        lambda: CLIENT.object_exists(BUCKET, "big"),
        lambda: b"".join(CLIENT.open_read(BUCKET, "big", chunk_size=4096)),
        lambda: list(AZURE.iter_objects(BUCKET)),
    ):
        threading.Thread(target=busy, args=(work,), daemon=True).start()
    time.sleep(0.3)


if MODE.startswith("exit"):
    exit_scenario()
else:
    sys.exit(fork_scenario())
