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
import collections
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


class _Call:
    """One call handed to the loop thread: what to await, and how it ended.

    The caller waits on ``finished``, a plain lock released (through ``done``) from inside
    the task, not by a done callback: one loop iteration fewer per call.
    """

    __slots__ = ("abandoned", "args", "finished", "fn", "ok", "task", "value")

    def __init__(self, fn: Callable[..., Awaitable[Any]], args: tuple[Any, ...]) -> None:
        self.fn = fn
        self.args = args
        self.finished = threading.Lock()
        self.finished.acquire()
        self.ok = False
        self.value: Any = None  # the result, or the exception to re-raise in the caller
        self.task: asyncio.Task[None] | None = None
        self.abandoned = False  # the caller left (e.g. KeyboardInterrupt): do not start it

    async def run(self, done: Callable[[_Call], object]) -> None:
        try:
            self.value = await self.fn(*self.args)
            self.ok = True
        except asyncio.CancelledError as exc:
            self.value = exc
            raise
        except BaseException as exc:  # re-raised in the calling thread
            self.value = exc
        finally:
            done(self)


def _release(call: _Call) -> None:
    call.finished.release()


class _Loop:
    """The loop thread's portal and its asyncio event loop.

    The portal owns the loop's lifetime.  Calls are queued in a deque and started in
    batches; each call's end is signalled back through a plain lock, the cheapest
    cross-thread round trip (cheaper than :func:`asyncio.run_coroutine_threadsafe` and its
    ``concurrent.futures.Future``, or ``portal.call``); the exception keeps its own type.

    With many threads, what costs is not the Python work but the thread switches around
    each call: a caller woken while the loop thread still runs takes the GIL from it at its
    next system call, and the loop thread then sleeps until the caller is done.  So, where
    the loop waits in a selector (see :meth:`_watch_selector`), the callers of ended calls
    are woken just before the loop waits for I/O, when it gives the GIL away anyway, and a
    call queued while the loop is busy does not wake it (no self-pipe write); elsewhere,
    callers are woken at once and one ``call_soon_threadsafe`` wakes the loop per batch.

    Once the loop is stopped (at interpreter exit) or left behind (in a forked child),
    every call fails at once instead of waiting for a thread that will never answer.
    """

    def __init__(self, portal: BlockingPortal, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
        self.portal = portal
        self.loop = loop
        self.thread = thread
        self.stopped: str | None = None  # why calls are refused, once they are
        # Calls waiting to be started by ``_start_pending``, and whether a run of it is queued.
        self._pending: collections.deque[_Call] = collections.deque()
        self._wake_queued = False
        # Whether the loop may be blocked waiting for I/O, so that a queued call must wake it
        # (always, unless ``_watch_selector`` can tell).
        self._may_block = True
        # Calls that have ended, whose callers are woken just before the loop next waits
        # for I/O (when ``_watch_selector`` can hook that moment; at once otherwise).
        self._ended: list[_Call] = []
        self._done: Callable[[_Call], object] = _release
        self._watch_selector()
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
        call = _Call(fn, args)
        try:
            # Inside the ``try``: a KeyboardInterrupt can land as soon as the call is queued.
            # The call is queued before the flags are read: if a wake-up is queued, it has
            # not started draining yet (it clears the flag first), so it will start this
            # call; if the loop is busy, it will see this call before it waits (see
            # ``_watch_selector``).
            self._pending.append(call)
            if self._may_block and not self._wake_queued:
                self._wake_queued = True
                self.loop.call_soon_threadsafe(self._start_pending)
            call.finished.acquire()
        except BaseException:
            # e.g. KeyboardInterrupt while waiting: stop the work too.  The callback also
            # drains the queue, in case the interrupt landed between the flag and its wake-up.
            call.abandoned = True
            with contextlib.suppress(RuntimeError):  # the loop is closed: nothing to stop
                self.loop.call_soon_threadsafe(self._abandon, call)
            raise
        if call.ok:
            return cast(T, call.value)
        raise call.value

    def _watch_selector(self) -> None:
        """Let calls skip the wake-up while the loop is busy (their self-pipe write and the
        switches of the GIL around it), on loops that block in a selector.

        The loop's ``select`` is wrapped (asyncio's selector loops keep the selector in
        ``_selector``; on other loops, e.g. Windows' proactor, nothing changes).  It first
        wakes the callers of the calls that ended, then marks the loop as possibly blocked
        *before* looking at the queue, and does not block when calls are queued; after it
        returns, it schedules the start of the queued calls.  A caller queues *before*
        reading the mark; so either the loop sees the call before blocking, or the caller
        sees the mark and wakes the loop.  ``_wake_queued`` set means a run of
        ``_start_pending`` is among the ready callbacks, so the loop does not block either.
        """
        selector = getattr(self.loop, "_selector", None)
        original = getattr(selector, "select", None)
        if selector is None or original is None:
            return
        pending = self._pending
        ended = self._ended
        schedule = self.loop.call_soon

        def select(timeout: float | None = None) -> Any:
            if ended:
                self.release_ended()
            self._may_block = True
            try:
                return original(0 if pending else timeout)
            finally:
                self._may_block = False
                if pending and not self._wake_queued:
                    self._wake_queued = True
                    schedule(self._start_pending)

        selector.select = select
        self._may_block = False
        self._done = ended.append

    def release_ended(self) -> None:
        """Wake the callers of the calls that have ended."""
        ended = self._ended
        for call in ended:
            call.finished.release()
        ended.clear()

    def refuse_pending(self) -> None:
        """Once the loop has ended (in its thread): fail the calls still queued, and make
        later ones wake the loop (which raises at once: it is closed), not wait for it."""
        self.stopped = self.stopped or "the sync facade's event loop has stopped"
        self._may_block = True
        self.release_ended()
        while self._pending:
            call = self._pending.popleft()
            call.value = RuntimeError(self.stopped)
            call.finished.release()

    def _start_pending(self) -> None:
        # In the loop thread.  The flag is cleared before draining (see ``call``).
        self._wake_queued = False
        pending = self._pending
        create_task = self.loop.create_task
        while pending:
            call = pending.popleft()
            if call.abandoned:
                continue
            try:
                call.task = create_task(call.run(self._done))
            except BaseException as exc:
                call.value = exc
                call.finished.release()

    def _abandon(self, call: _Call) -> None:
        # In the loop thread: start what is queued (not ``call``), then cancel ``call``'s task
        # if it had started before its caller left.
        self._start_pending()
        if call.task is not None:
            call.task.cancel()

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
            finally:
                if holder:
                    holder[0].refuse_pending()

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
        result = portal.call(_invoke, client, name, args, kwargs)
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


async def _invoke(client: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    # In the loop thread: ``client.name(*args, **kwargs)``, awaited when it is awaitable.
    result = getattr(client, name)(*args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
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
