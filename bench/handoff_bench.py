"""CPU per hand-off of a point lookup to a helper thread, for several ways to hand it over.

    python bench/handoff_bench.py [--threads 1] [--lookups 10000] [--rounds 3]

A query must be evaluated on a thread other than the one that answers at the deadline
(graph.answering.deadline). This measures, in one process and without HTTP, what handing a
pyoxigraph point lookup (query and JSON serialization, about 20 µs) to a helper and waiting for
its answer costs, against evaluating it in place: CPU time of the whole process and context
switches per lookup, with ``--threads`` request threads at once. Variants: ``sq`` (two
SimpleQueues, as graph.answering.deadline does), ``locks`` (two locks as binary semaphores),
``efd`` (eventfds: the GIL is dropped around each system call), ``pipe`` (pipes: the kernel
wakes the reader on the writer's CPU when it can), ``pool`` (lock pairs taken from a shared
last-in first-out pool), ``batch`` (``sq`` with the helper at SCHED_BATCH, so that woken it does
not preempt the request thread still holding the GIL), ``batch2`` (the request thread too),
``follow`` (the helper moved to the request thread's core when it changed) and ``follow-batch``.
Figures in bench/README.md, "Point lookups as cheap as before".
"""

from __future__ import annotations

import argparse
import os
import queue
import resource
import select
import threading
import time
from collections.abc import Callable
from typing import Any

import pyoxigraph as ox

STORE = ox.Store()
for _i in range(2000):
    STORE.add(ox.Quad(ox.NamedNode(f"http://e/s{_i}"), ox.NamedNode("http://e/p"), ox.Literal(_i)))
QUERY = "SELECT ?o WHERE { <http://e/s%d> <http://e/p> ?o }"
_count = [0]


def lookup() -> bytes:
    _count[0] += 1
    result = STORE.query(QUERY % (_count[0] % 2000))
    return result.serialize(format=ox.QueryResultsFormat.JSON)  # type: ignore[union-attr]


class Inline:
    def run(self, work: Callable[[], Any], timeout: float) -> Any:
        return work()


class SimpleQueues:
    def __init__(self) -> None:
        self.inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while (work := self.inbox.get()) is not None:
            self.outbox.put(work())

    def run(self, work: Callable[[], Any], timeout: float) -> Any:
        self.inbox.put(work)
        return self.outbox.get(timeout=timeout)


class BatchHelper(SimpleQueues):
    """``sq`` with the helper at SCHED_BATCH: woken, it does not preempt the request thread,
    which then drops the GIL (waiting) before the helper asks for it."""

    def serve(self) -> None:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        super().serve()


class BatchBoth(SimpleQueues):
    """``batch`` with the request thread at SCHED_BATCH too (no preemption either way)."""

    def serve(self) -> None:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        super().serve()

    def run(self, work: Callable[[], Any], timeout: float) -> Any:
        if os.sched_getscheduler(0) != os.SCHED_BATCH:
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        return super().run(work, timeout)


_getcpu = __import__("ctypes").CDLL(None).sched_getcpu


class Follow(SimpleQueues):
    """``sq`` with the helper moved to the request thread's current core before each hand-off
    when it changed (``sched_setaffinity``): the wake-ups stay on one core, no cross-core
    wake (an inter-processor interrupt, dear in a VM)."""

    def __init__(self) -> None:
        self.cpu = -1
        self.native = 0
        super().__init__()

    def serve(self) -> None:
        self.native = threading.get_native_id()
        super().serve()

    def run(self, work: Callable[[], Any], timeout: float) -> Any:
        cpu = _getcpu()
        if cpu != self.cpu and self.native:
            os.sched_setaffinity(self.native, (cpu,))
            self.cpu = cpu
        return super().run(work, timeout)


class FollowBatch(Follow):
    """``follow`` with the helper at SCHED_BATCH (``batch``): on the request thread's core,
    and woken it waits for the request thread to drop the GIL and sleep."""

    def serve(self) -> None:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        super().serve()


class Locks:
    def __init__(self) -> None:
        self.go, self.done = threading.Lock(), threading.Lock()
        self.go.acquire()
        self.done.acquire()
        self.work: Callable[[], Any] = lookup
        self.result: Any = None
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            self.go.acquire()
            self.result = self.work()
            self.done.release()

    def run(self, work: Callable[[], Any], timeout: float) -> Any:
        self.work = work
        self.go.release()
        if not self.done.acquire(timeout=timeout):
            raise TimeoutError
        return self.result


class _Descriptors:
    """Shared by the variants that signal through file descriptors."""

    def __init__(self, go: tuple[int, int], done: tuple[int, int]) -> None:
        (self.go_read, self.go_write), (self.done_read, self.done_write) = go, done
        self.poller = select.poll()
        self.poller.register(self.done_read, select.POLLIN)
        self.work: Callable[[], Any] = lookup
        self.result: Any = None
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while os.read(self.go_read, 8):
            self.result = self.work()
            os.write(self.done_write, (1).to_bytes(8, "little"))

    def run(self, work: Callable[[], Any], timeout: float) -> Any:
        self.work = work
        os.write(self.go_write, (1).to_bytes(8, "little"))
        if not self.poller.poll(timeout * 1000):
            raise TimeoutError
        os.read(self.done_read, 8)
        return self.result


class EventFds(_Descriptors):
    def __init__(self) -> None:
        go, done = os.eventfd(0), os.eventfd(0)
        super().__init__((go, go), (done, done))


class Pipes(_Descriptors):
    def __init__(self) -> None:
        super().__init__(os.pipe(), os.pipe())


_pool: list[Locks] = []


class Pooled:
    def run(self, work: Callable[[], Any], timeout: float) -> Any:
        try:
            helper = _pool.pop()
        except IndexError:
            helper = Locks()
        try:
            return helper.run(work, timeout)
        finally:
            _pool.append(helper)


VARIANTS: dict[str, Callable[[], Any]] = {
    "inline": Inline, "sq": SimpleQueues, "locks": Locks, "efd": EventFds, "pipe": Pipes,
    "pool": Pooled, "batch": BatchHelper, "batch2": BatchBoth,
    "follow": Follow, "follow-batch": FollowBatch,
}  # fmt: skip


def measure(kind: str, lookups: int, threads: int) -> str:
    def request_thread() -> None:
        way = VARIANTS[kind]()
        for _ in range(lookups):
            way.run(lookup, 30.0)

    started = [threading.Thread(target=request_thread) for _ in range(threads)]
    before, cpu, wall = resource.getrusage(resource.RUSAGE_SELF), time.process_time(), time.time()
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    after = resource.getrusage(resource.RUSAGE_SELF)
    n = lookups * threads
    return (
        f"{kind:<7} CPU {(time.process_time() - cpu) / n * 1e6:6.1f} µs"
        f" (user {(after.ru_utime - before.ru_utime) / n * 1e6:5.1f},"
        f" system {(after.ru_stime - before.ru_stime) / n * 1e6:5.1f})"
        f"  wall {(time.time() - wall) / n * 1e6:6.1f} µs"
        f"  switches {(after.ru_nvcsw - before.ru_nvcsw) / n:.2f} voluntary,"
        f" {(after.ru_nivcsw - before.ru_nivcsw) / n:.2f} involuntary"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="request threads at once")
    parser.add_argument("--lookups", type=int, default=10000, help="per request thread")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    for kind in args.only:  # warm up
        measure(kind, 500, args.threads)
    for _ in range(args.rounds):
        for kind in args.only:
            print(measure(kind, args.lookups, args.threads), flush=True)


if __name__ == "__main__":
    main()
