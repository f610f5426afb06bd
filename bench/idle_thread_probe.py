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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from runaway_bench import STREAMING, spread


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
    print(f"{mode} {count}: {len(turns)} turns, {spread(turns)}", flush=True)
    os._exit(0)  # the runaways never end


if __name__ == "__main__":
    main()
