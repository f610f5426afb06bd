"""Evaluate queries under a deadline (the answer's size is limited in graph.store.sparql).

pyoxigraph cannot cancel a running query, so whoever answers the client at the deadline must
not be the thread stuck in the evaluation. Two ways, one outcome:

- :func:`run_watched`, when the HTTP server lets another thread answer a request (granian
  does: see graph.serving.granian_worker): the request thread evaluates itself, and one *watchdog*
  thread per process answers a request still running at its deadline. No thread hand-off per
  request, which matters for the many short queries (a hand-off costs two thread wake-ups).
- :func:`with_deadline` everywhere else: evaluation happens on a helper thread while the
  request thread waits for it with a timeout.

At the deadline the client is answered with a 503 naming the limit, and the *runaway hook*
runs: under ``kg serve`` it retires the worker process, so that the runaway evaluation dies
with it while a fresh worker takes over (graph.serving.server, graph.serving.granian_worker).
Results are
buffered completely before the status line is sent, so a result never ends as a truncated 200.
"""

from __future__ import annotations

import functools
import math
import os
import queue
import threading
import time
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


#: WSGI environ key of a callable ``(status, headers, body)`` that answers the request from
#: any thread; an HTTP server that offers one lets :func:`run_watched` be used (granian does,
#: see graph.serving.granian_worker).
RESPONDER = "kg.respond"


class Abandoned(Exception):
    """The watchdog has answered this request already (at its deadline): send nothing more."""


class _Watched:
    __slots__ = ("deadline", "overrun", "seconds")

    def __init__(self, seconds: float, overrun: Callable[[GraphError], None]) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.overrun = overrun


#: Held by the one thread evaluating in place (forever, by one stuck in a runaway).
_inline = threading.Lock()
#: Evaluations running under :func:`run_watched`, by the thread running them.
_watched: dict[int, _Watched] = {}
_watchdog_lock = threading.Lock()
_watchdog: threading.Thread | None = None
#: When the thread evaluating in place took its turn (time.monotonic()).
_turn_taken = 0.0
#: How long a thread waits for its turn to evaluate in place before using a helper thread.
#: Short queries take turns faster than a hand-off to a helper would cost.
INLINE_WAIT = 0.02
#: How often the watchdog looks at the deadlines: the time limit is kept to within this.
WATCH_INTERVAL = 0.05


def run_watched(
    work: Callable[[], T],
    seconds: float,
    overrun: Callable[[GraphError], None],
    *,
    stack: int,
    budget: int = 0,
) -> T:
    """Run ``work`` on this thread; if it is still running after ``seconds``, the watchdog
    thread calls ``overrun`` with the :func:`timeout_error` (``overrun`` must answer the client
    with it) and then the runaway hook.

    ``stack`` is the stack ``work`` may need (graph.answering.stack.stack_for the query's length):
    when
    this thread's is smaller, ``work`` runs on a helper thread with one that big instead.
    When the process grows by more than ``budget`` bytes meanwhile, ``overrun`` gets the
    memory budget's error instead, and this thread is frozen (graph.answering.memory).

    Exactly one of the two answers the client: when ``work`` ends after the watchdog has
    answered, its result is dropped and :class:`Abandoned` is raised instead.

    One thread per process evaluates in place at a time; the others wait their turn until the
    holder has had it for :data:`INLINE_WAIT`, then use helper threads (:func:`with_deadline`).
    So a runaway, which keeps its thread until the process is replaced, never leaves the
    process without a thread to answer the requests it still has.
    """
    global _turn_taken
    turn = _inline
    # Waiting pays only while the holder may end soon: one holding its turn past INLINE_WAIT
    # is a long query, perhaps a runaway (issue 11: runaways cannot starve point lookups).
    wait = max(0.0, _turn_taken + INLINE_WAIT - time.monotonic())
    if stack > stacks.current_size() or not turn.acquire(timeout=wait):
        # This thread's stack is too small for the query, or another thread has evaluated in
        # place for a while (perhaps stuck in a runaway): this one hands its work over.
        return with_deadline(work, seconds, stack=stack, budget=budget)
    _turn_taken = time.monotonic()
    if _watchdog is None:
        _start_watchdog()
    me = threading.get_ident()
    _watched[me] = _Watched(seconds if seconds > 0 else math.inf, overrun)
    memory.watch(me, budget, functools.partial(_stop_in_place, me))
    try:
        result = work()
    except BaseException:
        if _answered_elsewhere(me, turn):
            raise Abandoned() from None
        raise
    if _answered_elsewhere(me, turn):
        del result
        raise Abandoned()
    return result


def _answered_elsewhere(me: int, turn: threading.Lock) -> bool:
    """End thread ``me``'s ``turn``; True when the watchdog answered its client meanwhile."""
    memory.forget(me)
    # dict.pop is atomic: whichever of this thread and the watchdog pops the entry answers.
    answered = _watched.pop(me, None) is None
    turn.release()
    return answered


def _stop_in_place(thread: int, error: GraphError) -> None:
    """Answer the client of the evaluation on ``thread`` (frozen over its memory budget)."""
    entry = _watched.pop(thread, None)
    if entry is not None:
        _answer(entry.overrun, error)
    _retire(force=True)


def _answer(overrun: Callable[[GraphError], None], error: GraphError) -> None:
    try:
        overrun(error)
    except Exception:  # the watchdog must outlive one failed answer
        traceback.print_exc()


def _forget_watchdog() -> None:
    """In a forked child: the parent's watchdog thread did not come along."""
    global _watchdog, _inline, retiring
    retiring = False
    _watchdog = None
    _watched.clear()
    _inline = threading.Lock()


os.register_at_fork(after_in_child=_forget_watchdog)


def _start_watchdog() -> None:
    global _watchdog
    with _watchdog_lock:
        if _watchdog is None:
            _watchdog = threading.Thread(target=_watch, name="kg-watchdog", daemon=True)
            _watchdog.start()


def _watch() -> None:
    global _inline
    while True:
        time.sleep(WATCH_INTERVAL)
        now = time.monotonic()
        for thread, entry in list(_watched.items()):
            if entry.deadline <= now and _watched.pop(thread, None) is not None:
                # The runaway keeps its turn until its worker is replaced
                # (graph.answering.admission lets a few run on at idle priority): a fresh turn
                # lets the next query evaluate in place instead of every query paying a
                # hand-off (issue 11, runaways).
                _inline = threading.Lock()
                _answer(entry.overrun, timeout_error(entry.seconds))
                _retire()


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
    if not memory.forget(evaluator.ident):
        _local.evaluator = None  # frozen over its memory budget
    if ok:
        return value  # type: ignore[no-any-return]
    raise value


def _stop_helper(outbox: queue.SimpleQueue[tuple[bool, Any]], error: GraphError) -> None:
    """Hand the memory budget's error to the request thread waiting on ``outbox``."""
    outbox.put((False, error))
    _retire(force=True)
