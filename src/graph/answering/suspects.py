"""Client addresses and queries whose last evaluation was a long one (graph.answering.admission).

A table of :data:`SLOTS` slots in memory that forked processes share: made before a server
forks its workers (graph.serving), it is seen by every worker and by each worker's successor,
so a runaway resent to a fresh worker (the one that ran it was replaced) is still known. A
name (a client address or a query key) goes in the slot its hash picks, replacing whatever
was there: the table never grows, and what it forgets first is what was put in a busy slot
longest ago. Python's string hash is keyed per process and kept across a fork (PEP 456), so
a client cannot choose which slot its address takes.

Reads and writes take no lock: a read that races a write of the same slot may see the new
time beside the old name, and so start one evaluation at idle priority that is no suspect or
at normal priority one that is (docs/security.md).
"""

from __future__ import annotations

from ctypes import c_double, c_int64
from multiprocessing.sharedctypes import RawArray, RawValue

#: Slots of a table: names remembered at most.
SLOTS = 4096


class Suspects:
    """Names remembered until a time (``time.monotonic``, the same clock in every process)."""

    def __init__(self, slots: int = SLOTS) -> None:
        self._names = RawArray(c_int64, slots)
        self._until = RawArray(c_double, slots)
        #: The latest time any name is remembered until: no lookup at all past it.
        self._latest = RawValue(c_double, 0.0)
        self._slots = slots

    def any(self, now: float) -> bool:
        """Whether any name may be remembered at ``now`` (one read of shared memory)."""
        return bool(self._latest.value >= now)

    def known(self, name: str | int, now: float) -> bool:
        """Whether ``name`` is remembered at ``now``."""
        code = hash(name)
        slot = code % self._slots
        return bool(self._names[slot] == code and self._until[slot] >= now)

    def remember(self, name: str | int, until: float) -> None:
        """Remember ``name`` until ``until``."""
        code = hash(name)
        slot = code % self._slots
        self._until[slot] = until
        self._names[slot] = code
        if until > self._latest.value:
            self._latest.value = until
