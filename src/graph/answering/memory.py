"""A memory budget per query: the worker's growth is watched while evaluations run.

pyoxigraph cannot cancel an evaluation, and one small query can make it allocate without end
(``BIND(CONCAT(?x, ?x) AS ?y)`` doubling a string: 400-750 MB in a second, issue 11 item 4).
So while evaluations run, a watcher thread reads the process's resident memory
(/proc/self/statm), as often as the budget's headroom requires (:func:`next_look`). An
evaluation whose process grew by more than the budget since it started is *over budget*:

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

#: Shortest and longest wait between two looks at the process's memory while evaluations run.
SAMPLE_INTERVAL = 0.005
LONGEST_INTERVAL = 0.1
#: Seconds the watcher keeps looking after the last evaluation ended before it waits for the
#: next one: under steady traffic it then never waits, and no request pays for waking it.
LINGER = 1.0
#: Fastest a thread is assumed to grow, bytes per second: writing fresh pages ran at 1.4 GB/s
#: on the test machine, the CONCAT bomb grows at about 0.5 GB/s.
GROWTH_RATE = 4 << 30
_PAGE = os.sysconf("SC_PAGE_SIZE")
#: Signal that freezes the thread it is sent to (see :func:`freeze`).
FREEZE_SIGNAL = signal.SIGRTMIN + 5


_statm: int | None = None


def resident_bytes() -> int:
    """The process's resident memory in bytes (second field of /proc/self/statm; 0 elsewhere).

    The file stays open: one ``pread`` (about 2 µs) instead of open, read and close (16 µs).
    """
    global _statm
    try:
        if _statm is None:
            _statm = os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC)
        return int(os.pread(_statm, 128, 0).split()[1]) * _PAGE
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
    start: int
    budget: int
    stop: Callable[[ResultTooLarge], None]


_watched: dict[int, _Watched] = {}
#: Set while the watcher is awake; cleared when it waits for evaluations to watch.
_wake = threading.Event()
_lock = threading.Lock()
_watcher: threading.Thread | None = None
#: The smallest budget watched so far: the watcher never sleeps longer than it takes to use up.
_smallest = 1 << 62


def watch(thread: int, budget: int, stop: Callable[[ResultTooLarge], None]) -> None:
    """Watch the evaluation running on ``thread`` (an ident) from now on.

    When the process has grown by more than ``budget`` bytes since, the watcher forgets it,
    calls ``stop`` with :func:`budget_error` (``stop`` must answer its client) and freezes
    ``thread``. A ``budget`` of 0 watches nothing.
    """
    global _watcher, _smallest
    if budget <= 0:
        return
    _watched[thread] = _Watched(resident_bytes(), budget, stop)
    _smallest = min(_smallest, budget)
    if _watcher is None:
        with _lock:
            if _watcher is None:
                _watcher = threading.Thread(target=_watch, name="kg-memory", daemon=True)
                _watcher.start()
    if not _wake.is_set():  # (an attribute read while the watcher is awake)
        _wake.set()


def forget(thread: int) -> bool:
    """Stop watching ``thread``; False when the watcher had stopped its evaluation already."""
    return _watched.pop(thread, None) is not None


def next_look(headroom: int, evaluations: int) -> float:
    """Seconds until the next look: no sooner than needed for ``evaluations`` threads, each
    growing at :data:`GROWTH_RATE`, to use up ``headroom`` bytes (so looks are rare while
    queries stay far below their budget, and the GIL is left to them).

    >>> next_look(512 << 20, 1), next_look(8 << 20, 1), next_look(512 << 20, 16)
    (0.1, 0.005, 0.0078125)
    """
    wait = max(headroom, 0) / (GROWTH_RATE * max(evaluations, 1))
    return min(max(wait, SAMPLE_INTERVAL), LONGEST_INTERVAL)


def _watch() -> None:
    wait, busy = SAMPLE_INTERVAL, time.monotonic()
    while True:
        if _watched:
            busy = time.monotonic()
        elif time.monotonic() - busy > LINGER:
            _wake.clear()
            if not _watched:  # an evaluation watched after clear() sets it again
                _wake.wait()
            busy = time.monotonic()
        # An evaluation that starts during the sleep brings its whole budget as headroom:
        # _smallest bounds the sleep for it.
        time.sleep(min(wait, next_look(_smallest, len(_watched) + 1)))
        now, headroom = resident_bytes(), _smallest
        for thread, entry in list(_watched.items()):
            # dict.pop is atomic: whichever of the watcher and the evaluation pops it acts.
            if now - entry.start > entry.budget and _watched.pop(thread, None) is not None:
                freeze(thread)
                entry.stop(budget_error(entry.budget))
            else:
                headroom = min(headroom, entry.start + entry.budget - now)
        wait = next_look(headroom, len(_watched))


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
    global _watcher, _statm
    _watcher = None
    _watched.clear()
    _statm = None  # /proc/self was the parent when the file was opened


os.register_at_fork(after_in_child=_forget_watcher)
