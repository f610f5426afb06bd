"""Keep long queries from starving short ones (issue 11: runaways cannot starve point lookups).

pyoxigraph cannot cancel an evaluation, and it evaluates with the GIL released: a runaway query
is a native thread burning a core until its worker process is replaced. These rules keep point
lookups at their usual latency while runaways run:

- **Long queries run at idle CPU priority.** Every evaluation registers its native thread while
  it runs (:meth:`Admission.run`); a monitor thread moves any evaluation that has used
  :data:`DEMOTE_AFTER` of CPU time to ``SCHED_IDLE`` (sched(7)): the kernel then runs it only
  on CPU time no normal thread wants, so short queries never wait behind it for a core. It
  also leaves one CPU (:func:`reserved_cpu`) to the other threads. The thread gets its normal
  policy and every CPU back when its evaluation ends. A process that may not restore a
  thread's policy (neither root nor ``CAP_SYS_NICE`` nor ``RLIMIT_NICE`` >= 20) demotes nothing:
  a request thread left at idle priority would serve every later request slowly.
- **A suspect is demoted at once.** When an evaluation is demoted, its client address and its
  query's key (:func:`query_key`: a hash of its text and dataset) are remembered for
  :attr:`Admission.suspect_window` seconds (a few time limits), in a bounded table that the
  server's workers share (:mod:`graph.answering.suspects`). A later evaluation from that address
  *or* of that query is demoted at the monitor's first look (at most :data:`POLL` after its
  start) instead of after :data:`DEMOTE_AFTER` of CPU, and gets its policy back at its end: a
  runaway resent after its time-limit answer (a client's retry; an attacker varying the text
  from one address) then takes little CPU at normal priority beside the point lookups. Clients
  that share an address with an attacker (behind one proxy or NAT), and anyone sending a query
  an attacker has just sent, run at idle priority meanwhile: not refused, and ``SCHED_IDLE``
  runs at full speed on a CPU nothing else wants; only when the CPUs are busy do they wait
  (docs/security.md).
- **Long queries do not take the short queries' threads.** The servers run ``slow_query_threads``
  request threads per worker on top of ``threads`` (graph.serving.granian_worker,
  graph.serving.server): a
  thread waiting for a demoted evaluation holds no GIL and costs no CPU.
- **A runaway does not recycle its worker at once.** Replacing a worker stalls its clients (a
  writable server has one worker), and a demoted runaway costs only a thread and idle CPU time:
  the worker retires once ``slow_query_threads`` runaways run in it
  (:meth:`Admission.retire_when_crowded`).
- **One client cannot fill them** (when ``client_slow_queries`` is set; off by default). A
  client address that already has that many long evaluations running in a worker (runaways go
  on running after their 503, until the worker is replaced) gets 429 with ``Retry-After`` for
  its next query, before any evaluation. Off by default because clients behind one proxy or
  NAT share an address: one runaway client would have them all refused.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from graph.answering import deadline
from graph.answering.suspects import Suspects
from graph.core.errors import TooManyQueries

T = TypeVar("T")

#: Seconds of CPU time an evaluation uses at normal priority before it counts as long and is
#: demoted. A point lookup takes about a millisecond; the slowest query of bench/serve_bench.py
#: half a second.
DEMOTE_AFTER = 0.05
#: How often the monitor looks at the running evaluations.
POLL = 0.01
#: Seconds the monitor thread lingers with nothing to watch before it ends.
LINGER = 5.0
#: For how many time limits a demoted evaluation's client and query stay suspects: a client
#: retrying a query that timed out does so within a time limit or two.
SUSPECT_LIMITS = 3


@dataclass
class _Running:
    client: str
    #: The query's key (None: not a query of its own, e.g. reconciliation's).
    key: int | None
    started: float
    #: The CPU-time clock of the evaluating thread (time.pthread_getcpuclockid).
    clock: int
    #: The clock's reading when the monitor first looked (None before): read by the monitor,
    #: not per request, see :meth:`Admission._look`.
    cpu_start: float | None = None
    #: It has used :data:`DEMOTE_AFTER` of CPU: a long evaluation.
    demoted: bool = False
    #: Its thread is at idle priority (demoted, or a suspect's from the monitor's first look).
    idle: bool = False
    #: Its client or query is a suspect: at idle priority from the monitor's first look.
    suspect: bool = False


class _ThreadIds(threading.local):
    """The calling thread's native id and CPU clock, looked up once per thread: each lookup is
    a system call, and a point lookup's whole evaluation takes about a millisecond."""

    def __init__(self) -> None:
        self.native = threading.get_native_id()
        self.clock = time.pthread_getcpuclockid(threading.get_ident())


_ids = _ThreadIds()


class Admission:
    """The evaluations running in this process, and the rules above applied to them."""

    def __init__(
        self,
        *,
        client_limit: int,
        retry_after: float,
        demote: bool = True,
        suspect_window: float = 0.0,
    ) -> None:
        #: Long evaluations one client may have running at once (0: no limit).
        self.client_limit = client_limit
        self.retry_after = max(1, math.ceil(retry_after))
        self.demote = demote and may_restore_priority()
        #: Seconds a demoted evaluation's client and query stay suspects (0: none are).
        self.suspect_window = suspect_window if self.demote else 0.0
        self._lock = threading.Lock()
        self._running: dict[int, _Running] = {}
        #: Suspect client addresses and query keys; a server's workers share one
        #: (graph.serving sets it after the fork).
        self.suspects = Suspects()
        self._monitor: threading.Thread | None = None
        _instances.add(self)

    def admit(self, client: str) -> None:
        """Refuse a new query from ``client`` when it has too many long ones running.

        :raises TooManyQueries: naming the limit, with the seconds to wait before a retry.
        """
        if not self.client_limit:
            return
        with self._lock:
            long = sum(1 for r in self._running.values() if r.demoted and r.client == client)
        if long >= self.client_limit:
            raise TooManyQueries(
                f"{long} of your queries are still running (they run on after a time-limit"
                f" answer until the server recycles the worker); at most {self.client_limit}"
                " may at once (setting client_slow_queries): retry later",
                retry_after=self.retry_after,
            )

    def run(self, client: str, work: Callable[[], T], *, key: int | None = None) -> T:
        """Run ``work`` (an evaluation for ``client`` of the query ``key``, see
        :func:`query_key`) on this thread, registered meanwhile; at idle priority from the
        monitor's first look when ``client`` or ``key`` is a suspect.

        Not a context manager: contextlib's would set ``__traceback__`` on what ``work``
        raises, and some of our exceptions are frozen dataclasses
        (graph.answering.export.ExportError).
        """
        ids = _ids
        thread, now = ids.native, time.monotonic()
        entry = _Running(client, key, now, ids.clock)
        with self._lock:
            self._running[thread] = entry
            if self.suspect_window and self._suspect(client, key, now):
                entry.suspect = True
            if self._monitor is None:
                self._monitor = threading.Thread(
                    target=self._watch, name="kg-admission", daemon=True
                )
                self._monitor.start()
        try:
            return work()
        finally:
            with self._lock:
                del self._running[thread]
                if entry.idle:
                    _set_idle(thread, idle=False)

    def _suspect(self, client: str, key: int | None, now: float) -> bool:
        """Whether ``client`` or ``key`` is a suspect."""
        table = self.suspects
        if not table.any(now):
            return False
        return bool(client and table.known(client, now)) or (
            key is not None and table.known(key, now)
        )

    def _remember(self, entry: _Running, now: float) -> None:
        """Make ``entry``'s client and query suspects."""
        until = now + self.suspect_window
        if entry.client:
            self.suspects.remember(entry.client, until)
        if entry.key is not None:
            self.suspects.remember(entry.key, until)

    def long_running(self) -> int:
        """How many evaluations have used :data:`DEMOTE_AFTER` of CPU and are running still."""
        with self._lock:
            return sum(1 for r in self._running.values() if r.demoted)

    def retire_when_crowded(
        self, retire: Callable[[], None], *, timeout: float, limit: int
    ) -> Callable[[], None]:
        """A runaway hook (graph.answering.deadline) that calls ``retire`` only once ``limit``
        runaways
        (evaluations past ``timeout``) run in this process, or at once without demotion.

        Replacing a worker stalls its clients (a writable server has one worker); a demoted
        runaway costs a thread and idle CPU time only, so a few may run on until then.
        """

        def hook() -> None:
            if self.demote:
                since = time.monotonic() - timeout * 0.9
                with self._lock:
                    runaways = sum(1 for r in self._running.values() if r.started <= since)
                if runaways < limit:
                    # Set by graph.answering.deadline before the hook; this worker is not going
                    # away, so
                    # its connections need not be closed.
                    deadline.retiring = False
                    return
            retire()

        return hook

    def _watch(self) -> None:
        quiet_since = time.monotonic()
        while True:
            time.sleep(POLL)
            now = time.monotonic()
            with self._lock:
                if not self._running and now - quiet_since > LINGER:
                    self._monitor = None
                    return
                if self._running:
                    quiet_since = now
                for thread, entry in self._running.items():
                    if not entry.demoted:
                        # Under the lock: the thread cannot end its evaluation (and go on to
                        # a short query) between this look and its demotion.
                        self._look(thread, entry, now)

    def _look(self, thread: int, entry: _Running, now: float) -> None:
        """Demote ``entry`` once it has used :data:`DEMOTE_AFTER` of CPU time, or at the first
        look if it is a suspect's (monitor only).

        CPU time, not time since the start: a short query that waited for a core (a busy
        machine) must not be demoted and then wait even longer. The clock is read from the
        monitor's first look on (at most :data:`POLL` after the start), so a request pays no
        system call for it; an evaluation is demoted at most :data:`POLL` of CPU late.
        """
        if entry.cpu_start is None:
            entry.cpu_start = time.clock_gettime(entry.clock)
            if entry.suspect:
                # By the monitor, not by the thread at its start: a thread that demotes itself
                # runs on at idle priority holding the GIL and this lock until it enters the
                # engine, and every lookup waits for it (docs/reliability.md section 9, h11r).
                entry.idle = True
                _set_idle(thread, idle=True)
            return
        if now - entry.started < DEMOTE_AFTER:
            return  # it cannot have used more CPU time than time
        if time.clock_gettime(entry.clock) - entry.cpu_start >= DEMOTE_AFTER:
            entry.demoted = True
            if self.demote and not entry.idle:
                entry.idle = True
                _set_idle(thread, idle=True)
            if self.suspect_window:
                self._remember(entry, now)

    def _forget(self) -> None:
        """In a forked child: the parent's evaluations and monitor did not come along."""
        self._lock = threading.Lock()
        self._running.clear()
        self._monitor = None


def query_key(
    text: str, default_graphs: tuple[str, ...] = (), named_graphs: tuple[str, ...] = ()
) -> int:
    """The key a query is remembered by as a suspect: its exact text and dataset (the graphs a
    request names; the same query on /sparql and the explorer has one key). Python's string
    hash is keyed per process (PEP 456), so a client cannot make its query's key collide with
    another's on purpose."""
    return hash((text, default_graphs, named_graphs))


#: Every Admission of this process, for the fork hook (weakly: apps of tests come and go).
_instances: weakref.WeakSet[Admission] = weakref.WeakSet()


def _forget_all() -> None:
    global _ids
    _ids = _ThreadIds()  # the forking thread's native id was the parent's
    for instance in list(_instances):
        instance._forget()


os.register_at_fork(after_in_child=_forget_all)


def _set_idle(thread: int, *, idle: bool) -> None:
    """Move native ``thread`` to SCHED_IDLE and off the :func:`reserved_cpu`, or back to
    SCHED_OTHER on every CPU the process may use."""
    policy = os.SCHED_IDLE if idle else os.SCHED_OTHER
    # ProcessLookupError: the thread has ended (a daemon helper of a dying worker).
    with contextlib.suppress(ProcessLookupError):
        os.sched_setscheduler(thread, policy, os.sched_param(0))
        cpus = _allowed_cpus()
        if len(cpus) > 1:
            os.sched_setaffinity(thread, cpus - {max(cpus)} if idle else cpus)


#: The CPUs this process may run on, read once (see :func:`_allowed_cpus`).
_cpus: set[int] | None = None


def _allowed_cpus() -> set[int]:
    """The CPUs this process may run on. Read on the first demotion, on the monitor thread,
    which is never pinned: an evaluating thread's own affinity is narrower while demoted."""
    global _cpus
    if _cpus is None:
        _cpus = os.sched_getaffinity(0)
    return _cpus


def reserved_cpu() -> int | None:
    """The CPU no demoted evaluation runs on (None with a single CPU).

    Idle-priority runaways still slow point lookups: a lookup is handed between about ten
    thread wake-ups (granian's threads, the request thread, the query helper), and a thread
    woken onto a CPU where a ``SCHED_IDLE`` runaway runs often waited for the next scheduler
    tick (4 ms at HZ=250) while the kernel picked another runaway (docs/reliability.md,
    section 9, h11h: seen with ``perf record -e sched:sched_switch,sched:sched_wakeup``).
    Threads woken on the CPU kept free of them run at once; the demoted evaluations share
    the others.
    """
    cpus = _allowed_cpus()
    return max(cpus) if len(cpus) > 1 else None


_may_restore: bool | None = None


def may_restore_priority() -> bool:
    """Whether this process may put a thread back from SCHED_IDLE (tried once, on a thread)."""
    global _may_restore
    if _may_restore is None:
        outcome: list[bool] = []

        def attempt() -> None:
            thread = threading.get_native_id()
            try:
                os.sched_setscheduler(thread, os.SCHED_IDLE, os.sched_param(0))
                os.sched_setscheduler(thread, os.SCHED_OTHER, os.sched_param(0))
            except (OSError, AttributeError):  # EPERM; or no SCHED_IDLE on this system
                outcome.append(False)
            else:
                outcome.append(True)

        probe = threading.Thread(target=attempt, name="kg-priority-probe")
        probe.start()
        probe.join()
        _may_restore = outcome == [True]
    return _may_restore
