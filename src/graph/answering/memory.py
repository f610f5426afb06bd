"""A memory budget per query: the worker's growth is watched while evaluations run.

pyoxigraph cannot cancel an evaluation, and one small query can make it allocate without end
(``BIND(CONCAT(?x, ?x) AS ?y)`` doubling a string: 400-750 MB in a second, issue 11 item 4).
So while evaluations run, a watcher thread reads the process's resident memory
(/proc/self/statm) every :data:`SAMPLE_INTERVAL` seconds. An evaluation whose process grew by
more than the budget since it started is *over budget*:

- its client is answered at once with :func:`budget_error` (413: the query asked for more than
  the server gives one query, and would again if retried unchanged);
- the thread running it is frozen (:func:`freeze`), so it allocates no more; it holds no lock
  that Python needs (the evaluation runs without the GIL), and it dies with its process;
- the runaway hook retires the worker, exactly as at the time limit (graph.answering.deadline).

Growth is the *process's*, so with several evaluations in one worker each is charged with all
of it: every evaluation that started below ``now - budget`` is stopped. A neighbour stopped with
the offender would have died with the worker anyway, pyoxigraph cannot cancel either one.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from graph.core.errors import ResultTooLarge

#: Seconds between two looks at the process's memory while evaluations run.
SAMPLE_INTERVAL = 0.005
_PAGE = os.sysconf("SC_PAGE_SIZE")
#: Signal that freezes the thread it is sent to (see :func:`freeze`).
FREEZE_SIGNAL = signal.SIGRTMIN + 5


def resident_bytes() -> int:
    """The process's resident memory in bytes (second field of /proc/self/statm; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def budget_error(budget: int) -> ResultTooLarge:
    """The error answering a query stopped at the memory budget of ``budget`` bytes."""
    return ResultTooLarge(
        f"the query was stopped when it had used more than {budget >> 20} MiB of memory"
        " (setting query_memory_mb); narrow it down or add a LIMIT"
    )


@dataclass
class _Watched:
    budget: int
    stop: Callable[[ResultTooLarge], None]
    #: The process's size at the watcher's first sample after the evaluation started (so the
    #: request thread reads nothing; growth before that sample, under 5 ms, is not counted).
    start: int | None = None


_watched: dict[int, _Watched] = {}
_wake = threading.Event()
_lock = threading.Lock()
_watcher: threading.Thread | None = None


def watch(thread: int, budget: int, stop: Callable[[ResultTooLarge], None]) -> None:
    """Watch the evaluation running on ``thread`` (an ident) from now on.

    When the process has grown by more than ``budget`` bytes since, the watcher forgets it,
    calls ``stop`` with :func:`budget_error` (``stop`` must answer its client) and freezes
    ``thread``. A ``budget`` of 0 watches nothing.
    """
    global _watcher
    if budget <= 0:
        return
    _watched[thread] = _Watched(budget, stop)
    if _watcher is None:
        with _lock:
            if _watcher is None:
                _watcher = threading.Thread(target=_watch, name="kg-memory", daemon=True)
                _watcher.start()
    _wake.set()


def forget(thread: int) -> bool:
    """Stop watching ``thread``; False when the watcher had stopped its evaluation already."""
    return _watched.pop(thread, None) is not None


def _watch() -> None:
    while True:
        if not _watched:
            _wake.clear()
            if not _watched:
                _wake.wait()
        time.sleep(SAMPLE_INTERVAL)
        now = resident_bytes()
        for thread, entry in list(_watched.items()):
            if entry.start is None:
                entry.start = now
            # dict.pop is atomic: whichever of the watcher and the evaluation pops it acts.
            elif now - entry.start > entry.budget and _watched.pop(thread, None) is not None:
                freeze(thread)
                entry.stop(budget_error(entry.budget))


_installed = False


def freeze(thread: int) -> None:
    """Stop ``thread`` for good: a signal whose handler is libc's ``pause()`` (a C function, so
    no Python runs in the signal) keeps it waiting until its process ends."""
    global _installed
    if not _installed:
        libc = ctypes.CDLL(None)
        handler = ctypes.cast(libc.pause, ctypes.c_void_p).value
        libc.signal.argtypes = [ctypes.c_int, ctypes.c_void_p]
        libc.signal.restype = ctypes.c_void_p
        libc.signal(int(FREEZE_SIGNAL), handler)
        _installed = True
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        signal.pthread_kill(thread, FREEZE_SIGNAL)


def _forget_watcher() -> None:
    """In a forked child: the parent's watcher thread did not come along."""
    global _watcher
    _watcher = None
    _watched.clear()


os.register_at_fork(after_in_child=_forget_watcher)
