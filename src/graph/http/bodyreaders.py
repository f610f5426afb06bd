"""Reader threads: a request body is read on one while the request thread waits with a timeout
(graph.http.bodylimit says why).

Idle readers are shared by every request thread and taken last-in first-out, as
graph.answering.deadline keeps its evaluators: the reader that ran last, its caches warm, takes
the next body, where an executor's shared queue woke whichever of its threads (each wake-up of
a cold thread costs CPU: bench/README.md, "Point lookups as cheap as before").
"""

from __future__ import annotations

import os
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any

from graph.answering.deadline import serve_handed_work

#: Most idle readers kept per process; more (after a burst) end.
MAX_IDLE = 32


class _Reader:
    """A daemon thread that runs the reads handed to it, one at a time; it ends once the
    object is dropped (a read that overran is not taken back) and it is free."""

    def __init__(self) -> None:
        self.inbox: queue.SimpleQueue[Callable[[], bytes] | None] = queue.SimpleQueue()
        self.outbox: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
        threading.Thread(
            target=serve_handed_work, args=(self.inbox, self.outbox), name="kg-body", daemon=True
        ).start()
        # The thread holds only the queues, so this object dies once no one holds it.
        weakref.finalize(self, self.inbox.put, None)


#: Idle readers, the one used last at the end; ``list.pop`` and ``list.append`` are atomic.
_idle: list[_Reader] = []
# A forked child has none of its parent's threads.
os.register_at_fork(after_in_child=_idle.clear)


class Read:
    """``work`` (a blocking read) running on a reader thread."""

    def __init__(self, work: Callable[[], bytes]) -> None:
        try:
            self._reader = _idle.pop()
        except IndexError:
            self._reader = _Reader()
        self._outcome: tuple[bool, Any] | None = None
        self._reader.inbox.put(work)

    def result(self, timeout: float | None = None) -> bytes:
        """What the read returned (or raised), within ``timeout`` seconds.

        :raises TimeoutError: when the read has not ended by then.
        """
        outcome = self._outcome
        if outcome is None:
            try:
                outcome = self._take(timeout)
            except queue.Empty:
                raise TimeoutError from None
        ok, value = outcome
        if ok:
            return value  # type: ignore[no-any-return]
        raise value

    def wait(self) -> None:
        """Block until the read has ended, whatever its outcome (the GIL released)."""
        if self._outcome is None:
            self._take(None)

    def _take(self, timeout: float | None) -> tuple[bool, Any]:
        self._outcome = outcome = self._reader.outbox.get(timeout=timeout)
        if len(_idle) < MAX_IDLE:
            _idle.append(self._reader)
        return outcome
