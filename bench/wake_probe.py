"""How long does a thread woken from another CPU wait while idle-priority runaways hold the CPUs?

    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2 flock /tmp/bench.lock \
        python bench/wake_probe.py [--seconds 4] [--rounds 2]

A waker thread pinned to CPU 0 writes the time to a pipe every 2 ms; a reader thread pinned to
CPU 1 reads it and records how long it took to run (a remote wake-up, as a request's hand-off
between granian's threads and the query helper is). Cases, each in a process of its own:
``none`` (no runaways), ``threads`` (4 streaming runaways of bench/runaway_bench.py on
``SCHED_IDLE`` threads of the same process), ``process`` (the same in another process of the same
session, as a second granian worker is), ``session`` (the same in a process of its own session,
i.e. its own autogroup).
"""

from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import threading
import time

import pyoxigraph

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from runaway_bench import STREAMING, spread

CASES = ("none", "threads", "process", "session")


def runaway() -> None:
    os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))
    for _ in pyoxigraph.Store().query(STREAMING):  # type: ignore[union-attr]
        pass


def burn(count: int) -> None:
    threads = [threading.Thread(target=runaway, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def probe(case: str, seconds: float) -> None:
    others = []
    if case == "threads":
        for _ in range(4):
            threading.Thread(target=runaway, daemon=True).start()
    elif case in ("process", "session"):
        others.append(subprocess.Popen([sys.executable, __file__, "--burn"],
                                       start_new_session=case == "session"))  # fmt: skip
    time.sleep(0.5)
    read, write = os.pipe()
    waits: list[float] = []

    def reader() -> None:
        os.sched_setaffinity(0, {1})
        while (data := os.read(read, 8)) != b"\0" * 8:
            waits.append(time.perf_counter() - struct.unpack("d", data)[0])

    thread = threading.Thread(target=reader)
    thread.start()
    os.sched_setaffinity(0, {0})
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        time.sleep(0.002)
        os.write(write, struct.pack("d", time.perf_counter()))
    os.write(write, b"\0" * 8)
    thread.join()
    for other in others:
        other.kill()
    over = sum(w > 0.001 for w in waits)
    print(f"{case:8} {len(waits):5} wake-ups, {spread(waits, 3)}, over 1 ms {over}", flush=True)
    os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--burn", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.burn:
        burn(4)
    elif args.case:
        probe(args.case, args.seconds)
    else:
        for _ in range(args.rounds):
            for case in CASES:
                subprocess.run([sys.executable, __file__, "--case", case,
                                "--seconds", str(args.seconds)], check=True)  # fmt: skip


if __name__ == "__main__":
    main()
