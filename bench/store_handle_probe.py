"""Do idle-priority runaways slow point lookups through the store handle they share?

    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2 flock /tmp/bench.lock \
        python bench/store_handle_probe.py STORE [--runaways 4] [--seconds 4] [--rounds 3]

STORE is a built store (a directory RocksDB opened read-only, as ``kg serve`` opens it). Each
case runs in a process of its own (a runaway never ends; the process exits under it), the
cases alternated round after round. In each, N threads evaluate bench/runaway_bench.py's
streaming runaway and serialize it as the server does, after moving themselves to an idle
priority, while the main thread runs point lookups (``SELECT ?p ?o WHERE { <grant> ?p ?o }``,
serialized as JSON, 2 ms apart) and prints their p50 / p99 / max and count. Cases:

- ``none``: no runaways (the idle figure);
- ``same``: the runaways on the lookups' handle, ``SCHED_IDLE`` (what a worker does);
- ``second``: the runaways on one read-only handle, the lookups on a second one;
- ``memory``: the runaways on an in-memory store, the lookups on the read-only handle;
- ``nice``: as ``same``, the runaways at nice 19 instead of ``SCHED_IDLE``;
- ``pinned``: as ``same``, the runaways also pinned to CPU 0.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph
from pyoxigraph import QueryResultsFormat

sys.path.insert(0, str(Path(__file__).resolve().parent))

from runaway_bench import ID, STREAMING, spread

CASES = ("none", "same", "second", "memory", "nice", "pinned")
#: Grants the generated store holds at least (bench/generate.py, 300,000 triples: 3,735).
GRANTS = 3000


def runaway(store: pyoxigraph.Store, case: str) -> None:
    thread = threading.get_native_id()
    if case == "nice":
        os.setpriority(os.PRIO_PROCESS, thread, 19)
    else:
        os.sched_setscheduler(thread, os.SCHED_IDLE, os.sched_param(0))
    if case == "pinned":
        os.sched_setaffinity(thread, {0})
    result = store.query(STREAMING)
    assert isinstance(result, pyoxigraph.QuerySolutions)
    result.serialize(format=QueryResultsFormat.JSON)


def lookup(store: pyoxigraph.Store, grant: int) -> None:
    result = store.query(f"SELECT ?p ?o WHERE {{ <{ID}grant/synthetic-{grant:07d}> ?p ?o }}")
    assert isinstance(result, pyoxigraph.QuerySolutions)
    answer = result.serialize(format=QueryResultsFormat.JSON)
    assert answer is not None and answer.count(b'"p"') > 5, "no such grant: a built store?"


def probe(path: str, case: str, runaways: int, seconds: float) -> None:
    store = pyoxigraph.Store.read_only(path)
    lookups = pyoxigraph.Store.read_only(path) if case == "second" else store
    target = pyoxigraph.Store() if case == "memory" else store
    for n in range(2000):  # warm the block cache as a served worker's would be
        lookup(lookups, n % GRANTS)
    if case != "none":
        for _ in range(runaways):
            threading.Thread(target=runaway, args=(target, case), daemon=True).start()
    time.sleep(0.3)
    turns, until = [], time.monotonic() + seconds
    while time.monotonic() < until:
        time.sleep(0.002)
        start = time.perf_counter()
        lookup(lookups, random.randrange(GRANTS))
        turns.append(time.perf_counter() - start)
    print(f"{case:7} {runaways}: {len(turns):5} lookups, {spread(turns)}", flush=True)
    os._exit(0)  # the runaways never end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store")
    parser.add_argument("--runaways", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)  # one child process
    args = parser.parse_args()
    if args.case:
        probe(args.store, args.case, args.runaways, args.seconds)
        return
    for _ in range(args.rounds):
        for case in args.cases:
            subprocess.run([sys.executable, __file__, args.store, "--case", case,
                            "--runaways", str(args.runaways), "--seconds", str(args.seconds)],
                           check=True)  # fmt: skip


if __name__ == "__main__":
    main()
