"""Replace only the crowded granian worker: it stops itself and granian respawns it alone.

granian's graceful reload (SIGHUP) replaces every worker, each successor started a second
before its old worker stops; a worker that ends on its own is respawned alone
(``respawn_failed_workers``), while the other workers go on serving: on Linux each has its own
``SO_REUSEPORT`` socket, and with ``net.ipv4.tcp_migrate_req`` at 1 the connections queued on
the closed socket move to theirs (graph.serving.listener). So a worker crowded with runaways
(graph.answering.admission) answers with ``Connection: close`` for :data:`DRAIN` seconds
(its kept-alive clients reconnect to a worker that stays), then sends itself SIGTERM: granian's
graceful stop answers what is in flight and the process exits, its runaways with it.

granian exits altogether when a worker ends within 5.5 s of that worker's last respawn (its
crash-loop rule, ``_serve_loop`` in granian/server/common.py, the respawn time taken before the
fork). A worker therefore never stops itself earlier than :data:`CRASH_LOOP_GUARD` after its
own start, measured on the same monotonic clock, later than that respawn time: the rule
cannot trip. Only one worker stops at a time, and only while every other worker listens: a
worker takes its turn once all ``workers`` are counted listening (:func:`listening`, called
when a worker's socket is up) and :data:`STAGGER` has passed since the last stop; it is then
no longer counted. A stopping worker's graceful stop can take seconds and granian respawns it
only once it has exited, so a stagger alone let both workers of a server stop at once
(measured in CI: 65 lookups refused). With a single worker granian's reload (successor first)
is used instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from ctypes import c_double, c_int, c_uint64
from multiprocessing import Lock
from multiprocessing.sharedctypes import RawValue

from graph.answering import deadline

#: granian's crash-loop window (seconds) plus a margin: no worker stops itself sooner after
#: its own start.
CRASH_LOOP_GUARD = 5.5 + 1.5
#: Seconds a stopping worker answers with ``Connection: close`` before it stops accepting.
DRAIN = 1.0
#: Seconds after one worker stopped itself before another may (its successor's start).
STAGGER = 3.0
#: Seconds a stopping worker may take to answer what is in flight before it exits anyway.
EXIT_GRACE = 10.0

#: When a worker last stopped itself (time.monotonic(), system-wide): shared memory made before
#: granian forks the workers, and its lock.
_last_stop = RawValue(c_double, 0.0)
_last_stop_lock = Lock()
#: How many workers listen and are not stopping (shared, under the same lock).
_listening = RawValue(c_int, 0)
#: Seconds between two looks at whether every other worker listens.
RECHECK = 0.2
#: How many workers stopped themselves, and how many of granian's "Unexpected exit" errors
#: :func:`explain_exit` has relabelled (in granian's main process).
_stopped = RawValue(c_uint64, 0)
_explained = 0
#: When this worker started (set in the worker by :func:`started`).
_born = time.monotonic()


def started() -> None:
    """In a worker, first thing after the fork: the time the guard counts from."""
    global _born
    _born = time.monotonic()


def listening(workers: int) -> None:
    """In a worker whose socket is up: count it as listening (at most ``workers``: a worker
    that died without stopping itself was never uncounted, its successor takes its place)."""
    with _turns():
        _listening.value = min(_listening.value + 1, workers)


def retire_alone(*, query_timeout: float, workers: int = 2) -> Callable[[], None]:
    """The worker's way to be replaced alone, asked for once (the runaway hook): stop once
    allowed (see the module's docstring), from a daemon thread. Until the drain starts this
    worker keeps its connections open (graph.answering.deadline sets ``retiring`` at every
    runaway)."""
    lock, asked, draining = threading.Lock(), [False], threading.Event()

    def retire() -> None:
        with lock:
            if not draining.is_set():
                deadline.retiring = False
            if asked[0]:
                return
            asked[0] = True
        threading.Thread(
            target=_stop,
            args=(query_timeout, workers, draining),
            name="kg-stop-alone",
            daemon=True,
        ).start()

    return retire


def _stop(query_timeout: float, workers: int, draining: threading.Event) -> None:
    time.sleep(max(0.0, _born + CRASH_LOOP_GUARD - DRAIN - time.monotonic()))
    while (wait := _take_turn(query_timeout, workers)) > 0:
        time.sleep(wait)
    draining.set()
    deadline.retiring = True
    time.sleep(DRAIN)
    _stopped.value += 1
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(EXIT_GRACE + query_timeout)
    os._exit(1)  # a graceful stop that never ended: nothing else will end this process


def _take_turn(query_timeout: float, workers: int = 1) -> float:
    """0 when this worker may stop now (and it is noted), else the seconds to wait: another
    worker stopped less than :data:`STAGGER` plus its in-flight queries' time ago, or not
    every worker listens (one is stopping, or its successor is starting)."""
    with _turns():
        now = time.monotonic()
        if _listening.value < workers:
            return RECHECK
        wait = _last_stop.value + STAGGER + query_timeout - now
        if wait <= 0:
            _last_stop.value = now
            _listening.value -= 1
        return max(wait, 0.0)


@contextlib.contextmanager
def _turns() -> Iterator[None]:
    """The lock of the shared turn state, taken with a timeout: a worker killed while holding
    it must not keep the others from ever stopping."""
    locked = _last_stop_lock.acquire(timeout=1.0)
    try:
        yield
    finally:
        if locked:
            _last_stop_lock.release()


def explain_exit(record: logging.LogRecord) -> bool:
    """A filter for granian's log in its main process: its "Unexpected exit from worker-N"
    error, once per worker that stopped itself, becomes an INFO line saying why."""
    global _explained
    if _explained < _stopped.value and record.getMessage().startswith("Unexpected exit"):
        _explained += 1
        worker = record.getMessage().removeprefix("Unexpected exit from ")
        record.msg, record.args = f"{worker} stopped itself (runaways); respawning it alone", ()
        record.levelno, record.levelname = logging.INFO, "INFO"
    return True
