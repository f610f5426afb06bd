"""Evaluate queries under a deadline (the answer's size is limited in graph.store.sparql).

pyoxigraph cannot cancel a running query, so whoever answers the client at the deadline must
not be the thread stuck in the evaluation. Two ways, one outcome:

- :func:`run_watched`, when the HTTP server lets another thread answer a request (granian
  does: see graph.granian_server): the request thread evaluates itself, and one *watchdog*
  thread per process answers a request still running at its deadline. No thread hand-off per
  request, which matters for the many short queries (a hand-off costs two thread wake-ups).
- :func:`with_deadline` everywhere else: evaluation happens on a helper thread while the
  request thread waits for it with a timeout.

At the deadline the client is answered with a 503 naming the limit, and the *runaway hook*
runs: under ``kg serve`` it retires the worker process, so that the runaway evaluation dies
with it while a fresh worker takes over (graph.server, graph.granian_server). Results are
buffered completely before the status line is sent, so a result never ends as a truncated 200.
"""

from __future__ import annotations

import os
import queue
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from graph.errors import QueryTimeout

T = TypeVar("T")

#: What to do when an evaluation overran its deadline; graph.server installs the real one.
runaway_hook: Callable[[], None] = lambda: None  # noqa: E731
#: True once this process has had a runaway: it is being replaced, so the server should close
#: connections after answering (graph.granian_server) and let clients reconnect elsewhere.
retiring = False


def _retire() -> None:
    global retiring
    retiring = True
    runaway_hook()


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


def timeout_error(seconds: float) -> QueryTimeout:
    """The error answering a query stopped at the time limit of ``seconds``."""
    return QueryTimeout(
        f"the query was stopped at the time limit of {seconds:g} s (setting query_timeout);"
        " narrow it down or add a LIMIT"
    )


#: WSGI environ key of a callable ``(status, headers, body)`` that answers the request from
#: any thread; an HTTP server that offers one lets :func:`run_watched` be used (granian does,
#: see graph.granian_server).
RESPONDER = "kg.respond"


class Abandoned(Exception):
    """The watchdog has answered this request already (at its deadline): send nothing more."""


class _Watched:
    __slots__ = ("deadline", "overrun", "seconds")

    def __init__(self, seconds: float, overrun: Callable[[QueryTimeout], None]) -> None:
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
    work: Callable[[], T], seconds: float, overrun: Callable[[QueryTimeout], None]
) -> T:
    """Run ``work`` on this thread; if it is still running after ``seconds``, the watchdog
    thread calls ``overrun`` with the :func:`timeout_error` (``overrun`` must answer the client
    with it) and then the runaway hook.

    Exactly one of the two answers the client: when ``work`` ends after the watchdog has
    answered, its result is dropped and :class:`Abandoned` is raised instead.

    One thread per process evaluates in place at a time; the others wait their turn until the
    holder has had it for :data:`INLINE_WAIT`, then use helper threads (:func:`with_deadline`).
    So a runaway, which keeps its thread until the process is replaced, never leaves the
    process without a thread to answer the requests it still has.
    """
    if seconds <= 0:
        return work()
    global _turn_taken
    turn = _inline
    # Waiting pays only while the holder may end soon: one holding its turn past INLINE_WAIT
    # is a long query, perhaps a runaway (issue 11: runaways cannot starve point lookups).
    wait = max(0.0, _turn_taken + INLINE_WAIT - time.monotonic())
    if not turn.acquire(timeout=wait):
        # Another thread has evaluated in place for a while (perhaps stuck in a runaway):
        # this one hands its work over and stays free to answer.
        return with_deadline(work, seconds)
    _turn_taken = time.monotonic()
    if _watchdog is None:
        _start_watchdog()
    me = threading.get_ident()
    _watched[me] = _Watched(seconds, overrun)
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
    # dict.pop is atomic: whichever of this thread and the watchdog pops the entry answers.
    answered = _watched.pop(me, None) is None
    turn.release()
    return answered


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
                # The runaway keeps its turn until its worker is replaced (graph.admission
                # lets a few run on at idle priority): a fresh turn lets the next query evaluate
                # in place instead of every query paying a hand-off (issue 11, runaways).
                _inline = threading.Lock()
                try:
                    entry.overrun(timeout_error(entry.seconds))
                except Exception:  # the watchdog must outlive one failed answer
                    traceback.print_exc()
                _retire()


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
            _retire()
        raise timeout_error(seconds) from None
    if ok:
        return value  # type: ignore[no-any-return]
    raise value
