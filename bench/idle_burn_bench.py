"""Point lookups next to CPU burners at idle priority outside the server: is the slowdown that
runaways cause the kernel's / the VM's, or the server's own?

    flock /tmp/bench.lock python bench/idle_burn_bench.py --code main=/work/main/src

Serves one generated store (as bench/runaway_bench.py) and measures point lookups for
``--seconds`` each: alone, next to N busy loops run as separate processes at ``SCHED_IDLE``
(``chrt --idle 0``, N = 2 and 8: one and four per core of this 2-core machine), next to the same
loops at nice 0 (the worst case, for scale), next to as many streaming runaways as the server
has request threads (runaway_bench's 1x: each client sends its runaway again after each 503),
and next to 4 and 8 runaways *held* in the server (``--held``: each sent once, answered 503 at
the time limit and running on, demoted, in its worker; lookups measured from then on, so
neither a runaway's start nor a worker's replacement falls in the phase). Also the steal time
(/proc/stat) per phase: CPU time the hypervisor gave to someone else.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from runaway_bench import (
    RUNAWAYS,
    build_store,
    generated,
    grant_count,
    percentile,
    post,
    run_phase,
    serve,
    settle,
    stop,
)

BURN = "while True: pass"
#: The streaming runaway evaluated by pyoxigraph in a process of its own, on mimalloc as the
#: server's workers are: its evaluation's work, without sharing the worker's process.
EXTERNAL_RUNAWAY = (
    "import pyoxigraph, sys\n"
    "for row in pyoxigraph.Store().query(sys.argv[1]): pass\n"
)
MIMALLOC = "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2"


def steal() -> int:
    """Steal ticks of all CPUs so far."""
    return int(Path("/proc/stat").read_text().split("\n")[0].split()[8])


def phase(name: str, port: int, seconds: float, ids: int, idle_p99: float,
          burners: list[str] | None = None, runaways: int = 0) -> float:  # fmt: skip
    count, code = int(name.split()[0]) if burners is not None else 0, [BURN]
    env = dict(os.environ)
    if "runaway processes" in name:
        code, env["LD_PRELOAD"] = [EXTERNAL_RUNAWAY, RUNAWAYS["streaming"]], MIMALLOC
    procs = [subprocess.Popen([*(burners or []), sys.executable, "-c", *code], env=env)
             for _ in range(count)]  # fmt: skip
    before = steal()
    result = run_phase(port, runaways, seconds, ids, RUNAWAYS["streaming"])
    stolen = steal() - before
    for proc in procs:
        proc.kill()
        proc.wait()
    lat = result.latencies
    p99 = percentile(lat, 0.99) * 1000
    slow = sum(1 for x in lat if x * 1000 > 3 * (idle_p99 or p99))
    print(f"{name:<22} n {len(lat):>5}  p50 {percentile(lat, 0.5) * 1000:5.1f}  p99 {p99:5.1f}"
          f"  max {max(lat) * 1000:6.1f}  x idle {p99 / (idle_p99 or p99):5.2f}"
          f"  over 3x idle {slow:>3}  steal {stolen} ticks", flush=True)  # fmt: skip
    return p99


def workers(root: int) -> set[int]:
    """The process ids of the server's workers."""
    found: set[int] = set()
    for task in Path(f"/proc/{root}/task").glob("*/children"):
        found.update(int(pid) for pid in task.read_text().split())
    return found


def hold(port: int, count: int) -> None:
    """Send ``count`` streaming runaways once, each from its own address, and wait for their
    503s: they run on in the workers (fewer than ``slow_query_threads`` per worker retire none)."""
    statuses: list[str] = []

    def send(number: int) -> None:
        connection, status = post(None, port, f"127.0.1.{number + 1}", RUNAWAYS["streaming"])
        statuses.append(status)
        if connection is not None:
            connection.close()

    senders = [threading.Thread(target=send, args=(n,)) for n in range(count)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    assert statuses == ["503"] * count, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", required=True, help="LABEL=SRC")
    parser.add_argument("--triples", type=int, default=300_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--held", action="store_true",
                        help="only: alone, the 1x runaways, 4 and 8 runaways held in the server")
    args = parser.parse_args()
    src = Path(args.code.split("=", 1)[1]).resolve()
    work = Path(tempfile.mkdtemp(prefix="kg-burn-bench-"))
    try:
        data = generated(work, args.triples, 1)
        oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
        store, ids = build_store(data, work, oxigraph), grant_count(data)
        process, port, threads = serve(src, store, "read-only", 2.0, work)
        try:
            settle(f"http://127.0.0.1:{port}")
            run_phase(port, 0, 3, ids)
            for _ in range(args.rounds):
                idle = phase("alone", port, args.seconds, ids, 0.0)
                if args.held:
                    phase(f"{threads} runaways (1x)", port, args.seconds, ids, idle,
                          runaways=threads)  # fmt: skip
                    for count in (4, 8):
                        stop(process)  # a fresh server: no runaway left from before
                        process, port, threads = serve(src, store, "read-only", 2.0, work)
                        settle(f"http://127.0.0.1:{port}")
                        run_phase(port, 0, 3, ids)
                        phase("alone (fresh server)", port, args.seconds, ids, idle)
                        hold(port, count)
                        before = workers(process.pid)
                        phase(f"{count} runaways held", port, args.seconds, ids, idle)
                        print(f"  workers replaced meanwhile: {len(before - workers(process.pid))}")
                    stop(process)
                    process, port, threads = serve(src, store, "read-only", 2.0, work)
                    settle(f"http://127.0.0.1:{port}")
                    continue
                for n in (2, 8):
                    phase(f"{n} SCHED_IDLE burners", port, args.seconds, ids, idle,
                          ["chrt", "--idle", "0"])  # fmt: skip
                phase("2 nice-0 burners", port, args.seconds, ids, idle, [])
                phase("4 SCHED_IDLE runaway processes", port, args.seconds, ids, idle,
                      ["chrt", "--idle", "0"])  # fmt: skip
                phase(f"{threads} runaways (1x)", port, args.seconds, ids, idle, runaways=threads)
                settle(f"http://127.0.0.1:{port}")
        finally:
            stop(process)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
