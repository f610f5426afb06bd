"""Start granian's successor workers at low CPU priority (issue 11: lookups during runaways).

A crowded worker asks granian for a graceful reload (graph.serving.granian_worker): granian
forks a successor per worker, and each successor's start (the app, the store opened, the
warm-up lookup: 0.2-0.4 s of CPU) competed with the point lookups the old workers still answer.
granian's public ``on_reload`` hook runs in its main process just before it forks the
successors, from the thread that forks them: :func:`lower_for_start` lowers that thread's
priority to :data:`START_NICE` (on Linux ``setpriority`` is per thread, and a fork inherits the
forking thread's), and each successor puts every one of its threads back to the priority
granian's main process had before (:func:`restore`) once it is warm, before granian lets it
accept connections. Only where a thread may raise its priority again (root, ``CAP_SYS_NICE``
or ``RLIMIT_NICE`` >= 20: graph.answering.admission.may_restore_priority); elsewhere nothing
changes. granian's main process stays at :data:`START_NICE` after the first reload: it only
forks and stops workers.
"""

from __future__ import annotations

import contextlib
import os

from graph.answering.admission import may_restore_priority

#: The nice value successors start at: the lowest, so lookups of the running workers come first.
START_NICE = 19

#: The forking thread's nice value before the first :func:`lower_for_start` (None: never
#: lowered); a successor inherits it with the fork and goes back to it.
_normal: int | None = None

def lower_for_start() -> None:
    """In granian's main process (its ``on_reload`` hook): lower the calling thread, the one
    about to fork the successors, to :data:`START_NICE`, if the successors may restore it."""
    global _normal
    if not may_restore_priority():
        return
    if _normal is None:
        _normal = os.getpriority(os.PRIO_PROCESS, 0)
    os.setpriority(os.PRIO_PROCESS, 0, max(_normal, START_NICE))


def restore() -> int:
    """In a worker: every thread of this process back to the nice value granian's main process
    had before :func:`lower_for_start`; how many threads changed (0 for a first start)."""
    if _normal is None:
        return 0
    changed = 0
    # Twice: a thread started by a lowered one while the first pass ran is lowered too.
    for _ in range(2):
        for task in os.listdir("/proc/self/task"):
            # ProcessLookupError: the thread ended meanwhile.
            with contextlib.suppress(ProcessLookupError):
                if os.getpriority(os.PRIO_PROCESS, int(task)) != _normal:
                    os.setpriority(os.PRIO_PROCESS, int(task), _normal)
                    changed += 1
    return changed
