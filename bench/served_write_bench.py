"""Point-lookup latency of a writable ``kg serve`` while concurrent writers write (issue 12).

    flock /tmp/bench.lock python bench/served_write_bench.py --triples 100000 \
        --code main=/tmp/main/src --code branch=src [--writers 4] [--seconds 15] [--rounds 2] \
        [--writers-nice 19]

For each ``--code LABEL=SRC`` (a checkout's ``src`` folder, put first on PYTHONPATH so the same
interpreter serves each version), a fresh copy of one generated store is served writable
(gunicorn, one worker, as users run it: bench/runaway_bench.py's ``serve``), and two phases of
``--seconds`` run: point lookups alone (bench/runaway_bench.py's lookup clients, one request
at a time each), then the same lookups while ``--writers`` clients send one-triple valid
updates with the token, each waiting for its answer (an ``rdfs:comment`` on a grant, in a graph
of its own: 204).

It prints, per phase, the lookups' p50 / p99 / max, their ratios to the idle phase of the same
server, the writes per second and every status or connection error seen: the goal is lookups
keeping their latency (p50 and p99 busy / idle) and every request answered. ``--writers-nice``
runs the writer clients at that nice value: on a machine of two cores they take a share of
the cores from the server, where real writers would run elsewhere. Not a test: the
machine is shared, so compare ratios measured side by side in one run, never absolute times.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from runaway_bench import (  # the same server, clients and figures
    ID,
    LOOKUP_CLIENTS,
    WRITE_TOKEN,
    Phase,
    build_store,
    generated,
    grant_count,
    labelled_codes,
    lookup_client,
    percentile,
    post,
    serve,
    settle,
    stop,
)

ROOT = Path(__file__).resolve().parents[1]
#: The writers' process is a fork of this one (the clients' code is here, not importable).
FORK = multiprocessing.get_context("fork")
COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
BENCH_GRAPH = "https://w3id.org/alliance-graph/graph/served-write-bench"
#: The writer clients' nice value (--writers-nice): on this machine they take cores from the
#: server, as writers elsewhere would not.
NICE_WRITERS = 0


def update(grant: int, n: int) -> str:
    """A one-triple valid write: a comment on a grant."""
    subject = f"{ID}grant/synthetic-{grant:07d}"
    return f'INSERT DATA {{ GRAPH <{BENCH_GRAPH}> {{ <{subject}> <{COMMENT}> "bench {n}" }} }}'


def writer_client(
    port: int, until: float, number: int, ids: int, done: Counter[str], lock: threading.Lock
) -> None:
    """Send one-triple writes, each after the last one's answer, until ``until``."""
    connection, n = None, 0
    while time.monotonic() < until:
        text = update((number * 7919 + n) % ids, number * 1_000_000 + n)
        connection, status = post(connection, port, "127.0.0.3", text, token=WRITE_TOKEN)
        with lock:
            done[status] += 1
        if status != "204":
            time.sleep(0.1)  # an error: do not spin
        n += 1
    if connection is not None:
        connection.close()


def run_phase(port: int, writers: int, seconds: float, ids: int) -> tuple[Phase, Counter[str]]:
    """Lookups for ``seconds``, with ``writers`` writer clients meanwhile.

    The writers run in a process of their own: as threads beside the lookups, their Python
    would hold this process's GIL when a lookup's answer comes in, and the lookup would wait
    for it (up to the 5 ms switch interval) inside the benchmark, not the server.
    """
    phase, until = Phase(), time.monotonic() + seconds
    threads = [
        threading.Thread(target=lookup_client, args=(port, until, ids, n, phase))
        for n in range(LOOKUP_CLIENTS)
    ]
    answers: multiprocessing.SimpleQueue[dict[str, int]] = FORK.SimpleQueue()
    process = FORK.Process(target=writing, args=(port, until, writers, ids, answers))
    if writers:
        process.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    written = Counter[str]()
    if writers:
        written.update(answers.get())
        process.join()
    return phase, written


def writing(
    port: int, until: float, writers: int, ids: int, answers: multiprocessing.SimpleQueue[Any]
) -> None:
    """In the writers' process: ``writers`` writer clients until ``until``; their statuses."""
    if NICE_WRITERS:
        os.nice(NICE_WRITERS)
    written, lock = Counter[str](), threading.Lock()
    threads = [
        threading.Thread(target=writer_client, args=(port, until, n, ids, written, lock))
        for n in range(writers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    answers.put(dict(written))


def report(label: str, name: str, phase: Phase, written: Counter[str], idle: Phase,
           seconds: float) -> None:  # fmt: skip
    lat, base = phase.latencies, idle.latencies
    p50, p99 = percentile(lat, 0.5) * 1000, percentile(lat, 0.99) * 1000
    idle50, idle99 = percentile(base, 0.5) * 1000, percentile(base, 0.99) * 1000
    worst = max(lat) * 1000 if lat else float("nan")
    lookups = " ".join(f"{k}:{v}" for k, v in sorted(phase.lookup_status.items()))
    writes = " ".join(f"{k}:{v}" for k, v in sorted(written.items())) or "-"
    print(f"{label:<8} {name:<6} {len(lat):>6} {p50:>7.2f} {p99:>7.2f} {worst:>8.1f}"
          f" {p50 / idle50:>6.2f} {p99 / idle99:>6.2f} {written['204'] / seconds:>8.1f}"
          f"  lookups[{lookups}] writes[{writes}]", flush=True)  # fmt: skip


def measure(label: str, src: Path, data: Path, args: argparse.Namespace, work: Path,
            ids: int) -> None:  # fmt: skip
    """One server of ``src`` on a fresh store: idle, then busy."""
    folder = Path(tempfile.mkdtemp(dir=work))
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    store = build_store(data, folder, oxigraph)
    process, port, _ = serve(src, store, "writable", args.timeout, folder)
    try:
        settle(f"http://127.0.0.1:{port}")
        run_phase(port, 1, 3, ids)  # warm-up, not counted: the first write compiles the shapes
        idle, _ = run_phase(port, 0, args.seconds, ids)
        report(label, "idle", idle, Counter(), idle, args.seconds)
        busy, written = run_phase(port, args.writers, args.seconds, ids)
        report(label, "busy", busy, written, idle, args.seconds)
        unanswered = set(idle.lookup_status) | set(busy.lookup_status) | set(written)
        if unanswered - {"200", "204"} or not busy.latencies:
            for log in folder.glob("serve-*.log"):  # what the server said about it
                print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
    finally:
        stop(process)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=10.0, help="kg serve's query_timeout")
    parser.add_argument("--code", action="append", required=True, help="LABEL=SRC, repeatable")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds per version")
    parser.add_argument(
        "--writers-nice", type=int, default=0, help="the writer clients' nice value (0-19)"
    )
    args = parser.parse_args()
    global NICE_WRITERS
    NICE_WRITERS = args.writers_nice
    codes = labelled_codes(args.code)
    work = Path(tempfile.mkdtemp(prefix="kg-served-write-bench-"))
    try:
        data = generated(work, args.triples, args.seed)
        ids = grant_count(data)
        print(f"{args.triples} triples, {ids} grants; {LOOKUP_CLIENTS} lookup clients,"
              f" {args.writers} writers; {args.seconds} s per phase;"
              f" load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        print(f"{'code':<8} {'phase':<6} {'n':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>8}"
              f" {'p50/i':>6} {'p99/i':>6} {'writes/s':>8}  statuses")  # fmt: skip
        for _ in range(args.rounds):
            for label, src in codes:
                measure(label, src, data, args, work, ids)
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
