"""Evaluate queries under a deadline (the answer's size is limited in graph.store.results).

pyoxigraph cannot cancel a running query, so whoever answers the client at the deadline must
not be the thread stuck in the evaluation: :func:`with_deadline` evaluates on a helper thread
while the request thread waits for it with a timeout, under every HTTP server.

At the deadline the client is answered with a 503 naming the limit, and the *runaway hook*
runs: under ``kg serve`` it retires the worker process, so that the runaway evaluation dies
with it while a fresh worker takes over (graph.serving.server, graph.serving.granian_worker).
Results are buffered completely before the status line is sent, so a result never ends as a
truncated 200.
"""

from __future__ import annotations

import functools
import os
import queue
import threading
import traceback
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from graph.answering import memory
from graph.answering import stack as stacks
from graph.core.errors import GraphError, QueryTimeout

T = TypeVar("T")

#: What to do when an evaluation overran its deadline; graph.serving.server installs the real one.
runaway_hook: Callable[[], None] = lambda: None  # noqa: E731
#: True once this process has had a runaway: it is being replaced, so the server should close
#: connections after answering (graph.serving.granian_worker) and let clients reconnect elsewhere.
retiring = False


#: What to do when a worker must be replaced whatever else runs in it (a query frozen over its
#: memory budget holds that memory); the servers install their own, else the runaway hook runs.
forced_retire_hook: Callable[[], None] | None = None


def _retire(*, force: bool = False) -> None:
    global retiring
    retiring = True
    if force and forced_retire_hook is not None:
        forced_retire_hook()
    else:
        runaway_hook()


class _Evaluator:
    """A daemon thread that runs the work handed to it, one piece at a time.

    Handing work over costs two ``SimpleQueue`` operations instead of an executor's queue,
    future and condition. A daemon thread, so a process whose evaluation overran can still
    exit. When the evaluator is dropped (its work overran, or the idle pool is full) the
    helper thread ends too, once it is free.
    """

    def __init__(self, stack: int) -> None:
        self.inbox: queue.SimpleQueue[Callable[[], Any] | None] = queue.SimpleQueue()
        self.outbox: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
        self.stack = stack
        thread = threading.Thread(
            target=serve_handed_work, args=(self.inbox, self.outbox), name="kg-eval", daemon=True
        )
        stacks.start_thread(thread, stack)
        self.ident = thread.ident or 0
        #: What the memory watcher calls to stop this helper's evaluation (made once).
        self.stop = functools.partial(_stop_helper, self.outbox)
        # The thread holds only the queues, so this object dies once no one holds it.
        weakref.finalize(self, self.inbox.put, None)


def serve_handed_work(
    inbox: queue.SimpleQueue[Callable[[], Any] | None],
    outbox: queue.SimpleQueue[tuple[bool, Any]],
) -> None:
    """A helper thread's loop: run each piece of work from ``inbox`` and put ``(True, result)``
    or ``(False, exception)`` in ``outbox``, until ``None`` comes (the evaluators here and
    graph.http.bodyreaders' body readers)."""
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


#: Idle evaluators by stack size, the one used last at the end of each list. Shared by every
#: request thread and taken last-in first-out, so a handful of helpers, their caches warm, serve
#: a worker whatever the number of its request threads: a helper per request thread cost about
#: 10% more CPU per point lookup under granian (bench/README.md, "Point lookups as cheap as
#: before", issue 13). ``list.pop`` and ``list.append`` are atomic, so no lock.
_idle: dict[int, list[_Evaluator]] = {}
#: Most idle evaluators kept per stack size; more (after a burst) end.
MAX_IDLE = 32


def timeout_error(seconds: float) -> QueryTimeout:
    """The error answering a query stopped at the time limit of ``seconds``."""
    return QueryTimeout(
        f"the query was stopped at the time limit of {seconds:g} s (setting query_timeout);"
        " narrow it down or add a LIMIT"
    )


def _forget_parent_state() -> None:
    """In a forked child: the parent's retirement is not the child's, and the parent's helper
    threads did not survive the fork (a query handed to one would wait for the time limit)."""
    global retiring
    retiring = False
    _idle.clear()


os.register_at_fork(after_in_child=_forget_parent_state)


def with_deadline(
    work: Callable[[], T], seconds: float, *, stack: int, retire: bool = True, budget: int = 0
) -> T:
    """Run ``work`` on a helper thread with a stack of at least ``stack`` bytes and return its
    result, or raise QueryTimeout after ``seconds`` (0: no limit).

    ``retire=False`` skips the runaway hook: the evaluation runs elsewhere (an external
    store, which stops it at its own limit, with the client's read timeout as a backstop), so
    nothing in this process needs killing. Exceptions raised by ``work`` propagate unchanged.
    When the process grows by more than ``budget`` bytes meanwhile, the helper thread is
    frozen and the memory budget's error raised (graph.answering.memory).
    """
    # A power of two, so that queries of similar lengths share helpers; untouched stack pages
    # take no memory.
    size = 1 << max(stack - 1, 0).bit_length()
    idle = _idle.setdefault(size, [])
    try:
        evaluator = idle.pop()
    except IndexError:
        evaluator = _Evaluator(size)
    memory.watch(evaluator.ident, budget, evaluator.stop)
    evaluator.inbox.put(work)
    try:
        ok, value = evaluator.outbox.get(timeout=seconds if seconds > 0 else None)
    except queue.Empty:
        # The evaluator is stuck in the runaway work: it does not go back to the pool.
        memory.forget(evaluator.ident)
        if retire:
            _retire()
        raise timeout_error(seconds) from None
    # Not back to the pool when frozen over its memory budget.
    if (memory.forget(evaluator.ident) or budget <= 0) and len(idle) < MAX_IDLE:
        idle.append(evaluator)
    del evaluator
    if ok:
        return value  # type: ignore[no-any-return]
    raise value


def _stop_helper(outbox: queue.SimpleQueue[tuple[bool, Any]], error: GraphError) -> None:
    """Hand the memory budget's error to the request thread waiting on ``outbox``."""
    outbox.put((False, error))
    _retire(force=True)
