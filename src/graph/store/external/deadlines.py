"""One thread per process that runs an action at its deadline: it cuts off reading an
external store's answer that has run past the time limit (graph.store.external.transport).

A timer thread per request cost about 120 microseconds to start and stop, a third of a small
query's round trip on loopback; here a request costs a heap push and a pop under a lock.
"""

from __future__ import annotations

import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable


class Deadlines:
    """Actions to run at their deadline (``time.monotonic()`` seconds) unless forgotten first.

    >>> deadlines = Deadlines()
    >>> fired = threading.Event()
    >>> token = deadlines.watch(time.monotonic() + 0.01, fired.set)
    >>> fired.wait(5)
    True
    >>> deadlines.forget(deadlines.watch(time.monotonic() + 0.01, print))  # never prints
    """

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._actions: dict[int, Callable[[], None]] = {}
        self._tokens = itertools.count()
        self._pid = 0  # the process whose thread runs the actions (a forked worker starts its own)
        # A fork copies the lock as it is: held by a thread that does not exist in the child
        # when another thread was watching at that instant. The child starts afresh.
        os.register_at_fork(after_in_child=self._forget_all)

    def _forget_all(self) -> None:
        self._wake = threading.Condition()
        self._heap, self._actions, self._pid = [], {}, 0

    def watch(self, deadline: float, action: Callable[[], None]) -> int:
        """Run ``action`` at ``deadline`` on this object's thread; a token to forget it by."""
        with self._wake:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="kg-deadlines", daemon=True).start()
            token = next(self._tokens)
            self._actions[token] = action
            heapq.heappush(self._heap, (deadline, token))
            if self._heap[0][1] == token:
                self._wake.notify()
            return token

    def forget(self, token: int) -> None:
        """Do not run the action of ``token`` (its entry leaves the heap when it comes due)."""
        with self._wake:
            self._actions.pop(token, None)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap:
                    self._wake.wait()
                deadline, token = self._heap[0]
                delay = deadline - time.monotonic()
                if delay > 0:
                    self._wake.wait(delay)
                    continue
                heapq.heappop(self._heap)
                action = self._actions.pop(token, None)
            if action is not None:
                action()


#: The process's deadlines.
DEADLINES = Deadlines()
