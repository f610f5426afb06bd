"""Evaluate queries under a deadline and a result-size limit, with a per-process result cache.

pyoxigraph cannot cancel a running query, so evaluation happens on a pool thread while the
request thread waits for it with a timeout. At the deadline the client is answered with a
503 naming the limit, and the *runaway hook* runs: under ``kg serve`` it makes the worker
process stop taking requests, finish the ones it has and exit, so gunicorn starts a fresh one
and the runaway evaluation dies with the old process (see graph.server). Results are buffered
completely before the status line is sent, so a result never ends as a truncated 200.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from typing import TypeVar

from graph.errors import QueryTimeout

T = TypeVar("T")

#: What to do when an evaluation overran its deadline; graph.server installs the real one.
runaway_hook: Callable[[], None] = lambda: None  # noqa: E731

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(64, thread_name_prefix="kg-eval")
    return _pool


def with_deadline(work: Callable[[], T], seconds: float, *, retire: bool = True) -> T:
    """Run ``work`` and return its result, or raise QueryTimeout after ``seconds``.

    ``retire=False`` skips the runaway hook: the evaluation runs elsewhere (an external
    store, which stops it at its own limit, with the client's read timeout as a backstop), so
    nothing in this process needs killing. Exceptions raised by ``work`` propagate unchanged.
    """
    future = _executor().submit(work)
    try:
        return future.result(timeout=seconds if seconds > 0 else None)
    except FuturesTimeout:
        if retire:
            runaway_hook()
        raise QueryTimeout(
            f"the query was stopped at the time limit of {seconds:g} s (setting query_timeout);"
            " narrow it down or add a LIMIT"
        ) from None


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
