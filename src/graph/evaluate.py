"""Evaluate queries under a deadline and a result-size limit, with a per-process result cache.

pyoxigraph cannot cancel a running query, so evaluation happens on a helper thread while the
request thread waits for it with a timeout. At the deadline the client is answered with a
503 naming the limit, and the *runaway hook* runs: under ``kg serve`` it makes the worker
process stop taking requests, finish the ones it has and exit, so gunicorn starts a fresh one
and the runaway evaluation dies with the old process (see graph.server). Results are buffered
completely before the status line is sent, so a result never ends as a truncated 200.
"""

from __future__ import annotations

import queue
import threading
import traceback
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from graph.errors import QueryTimeout

T = TypeVar("T")

#: What to do when an evaluation overran its deadline; graph.server installs the real one.
runaway_hook: Callable[[], None] = lambda: None  # noqa: E731


class _Evaluator:
    """A daemon thread that runs the work of one request thread at a time.

    Each request thread owns one (thread-local), so handing work over costs two
    ``SimpleQueue`` operations instead of a shared pool's queue, future and condition. A
    daemon thread, so a process whose evaluation overran can still exit. When the owner
    drops it (the request thread ended, e.g. granian retiring an idle thread, or its work
    overran) the helper thread ends too, once it is free.
    """

    def __init__(self) -> None:
        self.inbox: queue.SimpleQueue[Callable[[], Any] | None] = queue.SimpleQueue()
        self.outbox: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
        thread = threading.Thread(
            target=_serve, args=(self.inbox, self.outbox), name="kg-eval", daemon=True
        )
        thread.start()
        # The thread holds only the queues, so this object dies with its owner's locals.
        weakref.finalize(self, self.inbox.put, None)


def _serve(
    inbox: queue.SimpleQueue[Callable[[], Any] | None],
    outbox: queue.SimpleQueue[tuple[bool, Any]],
) -> None:
    while (work := inbox.get()) is not None:
        try:
            outcome: tuple[bool, Any] = (True, work())
        except BaseException as error:  # handed back to the request thread as it is
            _drop_locals(error)
            outcome = (False, error)
        del work
        outbox.put(outcome)
        del outcome


def _drop_locals(error: BaseException | None) -> None:
    """Free the locals of the frames ``error`` (and what it was raised from) carries.

    pyoxigraph results must be dropped on the thread that made them, so they must not travel
    to the request thread inside a traceback.
    """
    while error is not None:
        traceback.clear_frames(error.__traceback__)
        error = error.__context__


_local = threading.local()


def with_deadline(work: Callable[[], T], seconds: float, *, retire: bool = True) -> T:
    """Run ``work`` and return its result, or raise QueryTimeout after ``seconds``.

    ``retire=False`` skips the runaway hook: the evaluation runs elsewhere (an external
    store, which stops it at its own limit, with the client's read timeout as a backstop), so
    nothing in this process needs killing. Exceptions raised by ``work`` propagate unchanged.
    """
    evaluator: _Evaluator | None = getattr(_local, "evaluator", None)
    if evaluator is None:
        evaluator = _local.evaluator = _Evaluator()
    evaluator.inbox.put(work)
    try:
        ok, value = evaluator.outbox.get(timeout=seconds if seconds > 0 else None)
    except queue.Empty:
        # The evaluator is stuck in the runaway work: this thread gets a fresh one next time.
        _local.evaluator = None
        if retire:
            runaway_hook()
        raise QueryTimeout(
            f"the query was stopped at the time limit of {seconds:g} s (setting query_timeout);"
            " narrow it down or add a LIMIT"
        ) from None
    if ok:
        return value  # type: ignore[no-any-return]
    raise value


class ResultCache:
    """A least-recently-used map of serialized answers, bounded in bytes.

    Entries are valid for one generation of the store; :meth:`invalidate` (called after every
    write) starts a new one. A read-only store never changes, so its answers stay valid.
    """

    def __init__(self, capacity_bytes: int) -> None:
        self.capacity = capacity_bytes
        self.generation = 0
        self._entries: OrderedDict[Hashable, tuple[bytes, str]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bytes, str] | None:
        """The cached (body, media type) for ``key``, if any."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, body: bytes, media_type: str) -> None:
        """Remember an answer unless it is bigger than an eighth of the capacity."""
        if len(body) > self.capacity // 8:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (body, media_type)
            self._size += len(body)
            while self._size > self.capacity:
                _, (old, _media) = self._entries.popitem(last=False)
                self._size -= len(old)

    def invalidate(self) -> None:
        """Forget everything: the store has changed."""
        with self._lock:
            self._entries.clear()
            self._size = 0
            self.generation += 1
