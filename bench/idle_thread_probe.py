"""Do pyoxigraph runaways on SCHED_IDLE threads delay another thread of the same process?

    flock -s /tmp/bench.lock python bench/idle_thread_probe.py none 4
    flock -s /tmp/bench.lock python bench/idle_thread_probe.py runaway 4

With ``runaway``, N threads each evaluate bench/runaway_bench.py's streaming runaway (serialized
as the server does) after moving themselves to SCHED_IDLE; the main thread meanwhile sleeps
1 ms and runs a little Python, again and again for 4 s, and prints how long each turn took
(p50, p99, max). ``none``: the same without the runaways. Run under LD_PRELOAD of mimalloc, as
``kg serve`` runs (graph.serving.allocator).
"""

from __future__ import annotations

import os
import sys
import threading
import time

import pyoxigraph
from pyoxigraph import QueryResultsFormat

_HUNDRED = " ".join(str(n) for n in range(100))
STREAMING = (
    "SELECT (COUNT(*) AS ?n) WHERE { "
    + " ".join(f"VALUES ?v{i} {{ {_HUNDRED} }}" for i in range(6))
    + " }"
)


def runaway() -> None:
    os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))
    result = pyoxigraph.Store().query(STREAMING)
    assert isinstance(result, pyoxigraph.QuerySolutions)
    result.serialize(format=QueryResultsFormat.JSON)


def main() -> None:
    mode, count = sys.argv[1], int(sys.argv[2])
    if mode == "runaway":
        for _ in range(count):
            threading.Thread(target=runaway, daemon=True).start()
    time.sleep(0.3)
    turns, until = [], time.monotonic() + 4
    while time.monotonic() < until:
        start = time.perf_counter()
        time.sleep(0.001)
        sum(range(2000))
        turns.append(time.perf_counter() - start)
    turns.sort()
    p50, p99 = turns[len(turns) // 2] * 1000, turns[int(len(turns) * 0.99)] * 1000
    print(f"{mode} {count}: {len(turns)} turns, p50 {p50:.2f} ms, p99 {p99:.2f} ms,"
          f" max {turns[-1] * 1000:.2f} ms", flush=True)  # fmt: skip
    os._exit(0)  # the runaways never end


if __name__ == "__main__":
    main()
