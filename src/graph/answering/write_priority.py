"""A write runs at a lower CPU priority than the reads of its process (issue 12: "reads keep
their latency while writes run").

A writable server answers reads and writes in one process (one RocksDB read-write handle). A
write's Python (evaluating the change, gathering its neighbourhood, handing it to the
validation child) holds a core for a few milliseconds; when a read and a write both want one of
the machine's cores, the read should run. The thread running a write (graph.answering.writes,
the one write path) is therefore at :data:`NICENESS` (setpriority(2), per thread on Linux) for
the span of the write, and back at its own value after: the helper threads that run writes also
run reads.

Only where this process may put the thread back (graph.answering.admission.may_restore_priority):
a helper thread left at nice 10 would serve every later read at that priority.
"""

from __future__ import annotations

import os
import threading
from types import TracebackType

from graph.answering.admission import may_restore_priority

#: A write's nice value: that of the validation child (graph.validation.process.NICENESS).
NICENESS = 10


class LoweredPriority:
    """``with LoweredPriority():`` runs its block on this thread at :data:`NICENESS` at least.

    A class, not contextlib's decorator: that sets ``__traceback__`` on what the block raises,
    and some of our exceptions are frozen dataclasses (see graph.answering.admission.run).
    Not reentrant across threads: an instance belongs to the thread that entered it.
    """

    def __init__(self) -> None:
        self._thread = 0
        self._before: int | None = None

    def __enter__(self) -> None:
        if not may_restore_priority():
            return
        self._thread = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, self._thread)
        if before < NICENESS:
            os.setpriority(os.PRIO_PROCESS, self._thread, NICENESS)
            self._before = before

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        before, self._before = self._before, None
        if before is not None:
            os.setpriority(os.PRIO_PROCESS, self._thread, before)
