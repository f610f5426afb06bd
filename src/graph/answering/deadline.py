"""Evaluate queries under a deadline (the answer's size is limited in graph.store.sparql).

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
    """A daemon thread that runs the work of one request thread at a time.

    Each request thread owns one (thread-local), so handing work over costs two
    ``SimpleQueue`` operations instead of a shared pool's queue, future and condition. A
    daemon thread, so a process whose evaluation overran can still exit. When the owner
    drops it (the request thread ended, e.g. granian retiring an idle thread, or its work
    overran) the helper thread ends too, once it is free.
    """

    def __init__(self, stack: int) -> None:
        self.inbox: queue.SimpleQueue[Callable[[], Any] | None] = queue.SimpleQueue()
        self.outbox: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
        self.stack = stack
        thread = threading.Thread(
            target=_serve, args=(self.inbox, self.outbox), name="kg-eval", daemon=True
        )
        stacks.start_thread(thread, stack)
        self.ident = thread.ident or 0
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


def timeout_error(seconds: float) -> QueryTimeout:
    """The error answering a query stopped at the time limit of ``seconds``."""
    return QueryTimeout(
        f"the query was stopped at the time limit of {seconds:g} s (setting query_timeout);"
        " narrow it down or add a LIMIT"
    )


def _forget_parent_state() -> None:
    """In a forked child: the parent's retirement is not the child's, and the forking thread's
    helper did not survive the fork (a query handed to it would wait for the time limit)."""
    global retiring
    retiring = False
    _local.__dict__.pop("evaluator", None)


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
    evaluator: _Evaluator | None = getattr(_local, "evaluator", None)
    if evaluator is None or evaluator.stack < stack:
        # A power of two, so that growing queries replace the thread a few times at most (the
        # one dropped ends once free); untouched stack pages take no memory.
        evaluator = _local.evaluator = _Evaluator(1 << max(stack - 1, 0).bit_length())
    memory.watch(evaluator.ident, budget, functools.partial(_stop_helper, evaluator.outbox))
    evaluator.inbox.put(work)
    try:
        ok, value = evaluator.outbox.get(timeout=seconds if seconds > 0 else None)
    except queue.Empty:
        memory.forget(evaluator.ident)
        # The evaluator is stuck in the runaway work: this thread gets a fresh one next time.
        _local.evaluator = None
        if retire:
            _retire()
        raise timeout_error(seconds) from None
    if not memory.forget(evaluator.ident) and budget > 0:
        _local.evaluator = None  # frozen over its memory budget
    if ok:
        return value  # type: ignore[no-any-return]
    raise value


def _stop_helper(outbox: queue.SimpleQueue[tuple[bool, Any]], error: GraphError) -> None:
    """Hand the memory budget's error to the request thread waiting on ``outbox``."""
    outbox.put((False, error))
    _retire(force=True)
