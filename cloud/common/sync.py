"""The one mechanism that builds every blocking ``SyncX`` facade from its async client ``X``.

A single event-loop thread per process runs an anyio :class:`~anyio.from_thread.BlockingPortal`.
A sync client creates its async client inside that loop on first use and sends every call
to that loop; async iterators come back as plain iterators driven with ``__anext__``;
exceptions keep their own type.  A forked child starts a loop thread and async clients of
its own on first use (the parent's are left alone); at interpreter exit the clients still
open are closed and the loop stopped, with bounded waits.  Declaring a facade takes two lines::

    class SyncS3Client(SyncClient[S3Client]):
        _async_class = S3Client

Methods are generated from the async class; their types come from a generated ``.pyi``
stub beside the module (``python -m cloud.common.sync_stubs``).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import inspect
import os
import sys
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any, ClassVar, Generic, TypeVar, cast

import anyio
from anyio.from_thread import BlockingPortal

from .base import CloudClient
from .pagination import AsyncPaginator, Page
from .stats import ClientStats

__all__ = ["SyncClient", "SyncPaginator", "blocking_portal"]

T = TypeVar("T")
A = TypeVar("A", bound="CloudClient")


class _Loop:
    """The loop thread's portal and its asyncio event loop.

    The portal owns the loop's lifetime.  A call is handed to the loop with one
    ``call_soon_threadsafe`` and its end is signalled back through a plain lock, the
    cheapest cross-thread round trip (cheaper than :func:`asyncio.run_coroutine_threadsafe`
    and its ``concurrent.futures.Future``, or ``portal.call``); the exception keeps its own
    type.  Once the loop is stopped (at interpreter exit) or left behind (in a forked child),
    every call fails at once instead of waiting for a thread that will never answer.
    """

    def __init__(self, portal: BlockingPortal, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
        self.portal = portal
        self.loop = loop
        self.thread = thread
        self.stopped: str | None = None  # why calls are refused, once they are
        # Guards the creation of the async clients bound to this loop, and ``clients``.
        self.lock = threading.Lock()
        # The live async clients bound to this loop (closed at interpreter exit).
        self.clients: weakref.WeakKeyDictionary[SyncClient[Any], CloudClient] = weakref.WeakKeyDictionary()
        self.closing: list[CloudClient] = []  # closed by ``wind_down``
        self.orphans: list[CloudClient] = []  # the parent's, after fork

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``await fn(*args)`` in the loop thread and return its result (blocking)."""
        if self.stopped is not None:
            raise RuntimeError(self.stopped)
        finished = threading.Lock()
        finished.acquire()
        outcome: list[Any] = [False, None]  # [True, result] or [False, exception]
        tasks: list[asyncio.Task[None]] = []

        async def run() -> None:
            # The lock is released from inside the task, not by a done callback: one loop
            # iteration fewer per call.
            try:
                outcome[:] = [True, await fn(*args)]
            except asyncio.CancelledError as exc:
                outcome[1] = exc
                raise
            except BaseException as exc:  # re-raised in the calling thread
                outcome[1] = exc
            finally:
                finished.release()

        def start() -> None:
            try:
                tasks.append(self.loop.create_task(run()))
            except BaseException as exc:
                outcome[1] = exc
                finished.release()

        try:
            # Inside the ``try``: a KeyboardInterrupt can land as soon as ``start`` is queued.
            self.loop.call_soon_threadsafe(start)
            finished.acquire()
        except BaseException:
            # e.g. KeyboardInterrupt while waiting: stop the work too (if ``start`` was
            # queued, it has run by the time this callback does: callbacks run in order).
            with contextlib.suppress(RuntimeError):  # the loop is closed: nothing to stop
                self.loop.call_soon_threadsafe(lambda: [task.cancel() for task in tasks])
            raise
        if outcome[0]:
            return cast(T, outcome[1])
        raise outcome[1]

    def shutdown(self) -> None:
        """Stop the loop thread, which closes the live async clients on its way out (see
        :meth:`wind_down`); waits a bounded time.  Calls fail at once from the start on."""
        self.stopped = "the sync facade's event loop has stopped (the interpreter is exiting)"
        if self.lock.acquire(timeout=_EXIT_TIMEOUT):
            try:
                self.closing = list(self.clients.values())
                self.clients.clear()
            finally:
                self.lock.release()
        tasks: list[asyncio.Task[None]] = []  # a reference keeps the task alive
        try:
            self.loop.call_soon_threadsafe(lambda: tasks.append(self.loop.create_task(self.portal.stop())))
        except RuntimeError:
            return  # the loop is closed already
        self.thread.join(2 * _EXIT_TIMEOUT)

    async def wind_down(self) -> None:
        """Run in the loop thread once the portal has stopped: cancel the calls still in
        flight (threads abandoned at exit), close half-consumed iterators (closing them may
        still need their client), then the clients; all within a bounded time."""
        self.stopped = self.stopped or "the sync facade's event loop has stopped"
        current = asyncio.current_task()
        in_flight = [task for task in asyncio.all_tasks() if task is not current]
        for task in in_flight:
            task.cancel()
        with anyio.move_on_after(_EXIT_TIMEOUT):
            if in_flight:
                await asyncio.wait(in_flight)
            await self.loop.shutdown_asyncgens()
            await asyncio.gather(*(_close_quietly(client) for client in self.closing))

    def leave_behind(self) -> None:
        """In a forked child: the loop thread did not survive the fork, and the async clients
        bound to it belong to the parent.  They stay referenced, so they are not torn down
        while the child runs (that would touch the parent's connections), and reports from
        their loop (e.g. aiohttp's "Unclosed client session") are silenced."""
        self.stopped = "this object belongs to the parent process's event loop (used before fork)"
        self.lock = threading.Lock()  # a thread of the parent may have held it at the fork
        self.orphans = list(self.clients.values())
        self.clients = weakref.WeakKeyDictionary()
        self.loop.set_exception_handler(lambda loop, context: None)


async def _close_quietly(client: CloudClient) -> None:
    try:
        await client.aclose()
    except Exception:
        pass  # at exit, nobody is left to tell


class _PortalThread:
    """The process-wide loop thread; recreated lazily in a forked child."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: _Loop | None = None
        self._left_behind: list[_Loop] = []

    def _reset_after_fork(self) -> None:
        # Runs in the child before any other thread exists there: no race with callers.
        # The loop thread does not exist in the child; a new one starts on next use.
        if self._loop is not None:
            self._loop.leave_behind()
            self._left_behind.append(self._loop)
        self._lock = threading.Lock()
        self._loop = None

    def _shutdown_at_exit(self) -> None:
        if self._loop is not None:
            self._loop.shutdown()

    def get(self) -> _Loop:
        loop = self._loop
        if loop is not None:
            return loop
        with self._lock:
            if self._loop is None:
                self._loop = self._start()
            return self._loop

    @staticmethod
    def _start() -> _Loop:
        ready = threading.Event()
        holder: list[_Loop] = []
        failure: list[BaseException] = []

        async def main() -> None:
            async with BlockingPortal() as portal:
                loop = _Loop(portal, asyncio.get_running_loop(), threading.current_thread())
                holder.append(loop)
                ready.set()
                await portal.sleep_until_stopped()
            await loop.wind_down()

        def run() -> None:
            try:
                anyio.run(main)
            except BaseException as exc:  # pragma: no cover - surfaced to the caller below
                failure.append(exc)
                ready.set()

        thread = threading.Thread(target=run, name="cloud-sync-loop", daemon=True)
        thread.start()
        ready.wait()
        if failure:
            raise RuntimeError("could not start the sync facade's event loop") from failure[0]
        return holder[0]


# Seconds the exit hook gives the clients to close, and the loop thread to end after that.
_EXIT_TIMEOUT = 5.0
_PORTAL = _PortalThread()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_PORTAL._reset_after_fork)
# The loop thread is a daemon: without this, clients still open at exit would never be
# closed (aiohttp reports each session), and a call made during interpreter teardown (e.g.
# an iterator's ``__del__``) would wait forever on a thread that no longer runs.
atexit.register(_PORTAL._shutdown_at_exit)


def blocking_portal() -> BlockingPortal:
    """The process-wide portal whose loop thread every sync facade uses."""
    return _PORTAL.get().portal


def _running_async_library() -> str | None:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        return "asyncio"
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            trio.lowlevel.current_trio_token()
        except RuntimeError:
            return None
        return "trio"
    return None


def _ensure_not_in_event_loop(name: str) -> None:
    library = _running_async_library()
    if library is None:
        return
    raise RuntimeError(
        f"{name} is blocking and cannot be called from inside a running {library} event loop; "
        f"use the async client with 'await' there instead"
    )


class _SyncIterator(Iterator[T]):
    """A blocking iterator over an async iterator that lives in the portal's loop.

    ``close()`` (also called when it is garbage-collected, e.g. after ``break``) closes the
    underlying async generator in its loop.
    """

    def __init__(self, portal: _Loop, aiterator: AsyncIterator[T]) -> None:
        self._portal = portal
        self._aiterator = aiterator
        self._closed = False

    def __iter__(self) -> _SyncIterator[T]:
        return self

    def __next__(self) -> T:
        if self._closed:
            raise StopIteration
        _ensure_not_in_event_loop("this iterator")

        async def step() -> tuple[bool, T | None]:
            try:
                return True, await self._aiterator.__anext__()
            except StopAsyncIteration:
                return False, None

        has_item, item = self._portal.call(step)
        if not has_item:
            self._closed = True
            raise StopIteration
        return item  # type: ignore[return-value]

    def close(self) -> None:
        """Stop iterating and close the underlying async generator."""
        if self._closed:
            return
        self._closed = True
        aclose = getattr(self._aiterator, "aclose", None)
        if aclose is not None:
            try:
                self._portal.call(aclose)
            except RuntimeError:
                pass  # the loop is gone (interpreter shutdown or after fork)

    def __enter__(self) -> _SyncIterator[T]:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not self._closed and threading.current_thread().name != "cloud-sync-loop":
                self.close()
        except Exception:
            pass


class SyncPaginator(Generic[T]):
    """Blocking view of an :class:`AsyncPaginator`: iterate items, ``pages()``, ``collect()``."""

    def __init__(self, portal: _Loop, paginator: AsyncPaginator[T]) -> None:
        self._portal = portal
        self._paginator = paginator

    def __iter__(self) -> Iterator[T]:
        return _SyncIterator(self._portal, self._paginator.__aiter__())

    def pages(self) -> Iterator[Page[T]]:
        """Yield pages lazily."""
        return _SyncIterator(self._portal, self._paginator.pages())

    def collect(self, limit: int | None = None) -> list[T]:
        """Gather items into a list, stopping after ``limit`` items when given."""
        _ensure_not_in_event_loop("SyncPaginator.collect")
        return self._portal.call(self._paginator.collect, limit)

    @property
    def resume_token(self) -> str | None:
        """Token of the next page to fetch; ``None`` once the listing is exhausted."""
        return self._paginator.resume_token

    def __getattr__(self, name: str) -> Any:
        # Extra state of provider paginators (e.g. Coda's ``next_sync_token``).
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._paginator, name)


class SyncClient(Generic[A]):
    """Base of every blocking facade.  Subclasses set ``_async_class``; every public
    method of the async class becomes a blocking method of the same name."""

    _async_class: ClassVar[type[Any]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Validate arguments now (construction of async clients does no I/O), but the
        # instance used for calls is created inside the loop thread on first use.
        self._async_class(*args, **kwargs)
        self._args = args
        self._kwargs = kwargs
        # The async client and the loop it is bound to, replaced as one (never half-updated).
        self._bound: tuple[_Loop, A] | None = None
        self._closed = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        target = cls.__dict__.get("_async_class")
        if target is None:
            return
        for name, member in inspect.getmembers(target):
            if name.startswith("_") or name in cls.__dict__ or name in ("aclose", "stats"):
                continue
            if isinstance(inspect.getattr_static(target, name), property):
                setattr(cls, name, _make_property(name))
            elif callable(member):
                setattr(cls, name, _make_method(name, member))
        cls.__doc__ = cls.__doc__ or f"Blocking facade of :class:`{target.__module__}.{target.__name__}`."

    def _async_client(self) -> tuple[_Loop, A]:
        _ensure_not_in_event_loop(f"{type(self).__name__}")
        if self._closed:
            raise RuntimeError(f"{type(self).__name__} is closed")
        loop = _PORTAL.get()
        bound = self._bound
        if bound is not None and bound[0] is loop:
            return bound
        with loop.lock:
            bound = self._bound
            if bound is None or bound[0] is not loop:
                # First use, or first use in a forked child (which has a loop of its own): the
                # parent's async client is bound to a loop that does not run here.
                client = loop.call(self._create)
                bound = self._bound = (loop, client)
                loop.clients[self] = client
            return bound

    async def _create(self) -> A:
        client = self._async_class(*self._args, **self._kwargs)
        entered: A = await client.__aenter__()
        return entered

    def _call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        portal, client = self._async_client()

        async def run() -> Any:
            result = getattr(client, name)(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            return result

        result = portal.call(run)
        return _wrap_result(portal, result)

    @property
    def stats(self) -> ClientStats:
        """The async client's counters (requests, retries, errors, bytes)."""
        _, client = self._async_client()
        return client.stats

    def close(self) -> None:
        """Close the async client (its sessions and connections).  Idempotent."""
        self._closed = True
        bound = self._bound
        if bound is None:
            return
        loop, client = bound
        with loop.lock:
            # Not registered: closed already (by another call or at exit), or the parent's.
            if loop.clients.pop(self, None) is None:
                return
        loop.call(client.aclose)

    def __enter__(self: T) -> T:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} wrapping {self._async_class.__name__}>"


def _wrap_result(portal: _Loop, result: Any) -> Any:
    if isinstance(result, AsyncPaginator):
        return SyncPaginator(portal, result)
    sync_form = getattr(result, "_sync_form", None)
    if sync_form is not None:
        # ObjectReader / ObjectWriter: opened now, as file-like objects driven through the loop.
        def call(fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
            _ensure_not_in_event_loop("this file object")
            return portal.call(fn, *args)

        return sync_form(call)
    if hasattr(result, "__anext__"):
        return _SyncIterator(portal, result)
    return result


def _make_method(name: str, member: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: SyncClient[Any], *args: Any, **kwargs: Any) -> Any:
        return self._call(name, args, kwargs)

    method.__name__ = name
    method.__qualname__ = name
    method.__doc__ = member.__doc__
    return method


def _make_property(name: str) -> property:
    def getter(self: SyncClient[Any]) -> Any:
        _, client = self._async_client()
        return getattr(client, name)

    return property(getter, doc=f"The async client's ``{name}``.")
