"""Where the slow point lookups of a writable ``kg serve`` spend their time while writers write.

    flock /tmp/bench.lock python bench/served_write_trace.py --code branch=src \
        [--triples 100000] [--writers 4] [--seconds 15]

bench/served_write_bench.py's phases (lookups alone, then beside ``--writers`` closed-loop
writers) on a server whose worker records timestamps per step of each request
(bench/lookup_trace/sitecustomize.py); each lookup sends its send time in a header, so the
client's and the server's times line up (one clock). Printed per tree and phase: for all
lookups and for the slow ones (over ``--slow`` x the idle p99), the mean milliseconds of each
step (client to main loop; main loop to a pool thread; the head parsed; to the body's reader;
the body read there; routed to the helper thread; the helper's evaluation; the hand-back; the
answer written; the answer to the client), and how the pool and helper threads spent those:
running, waiting for a core, asleep (the GIL, a lock). Not a test, and the tracing adds its own
cost: compare steps, not totals, with bench/served_write_bench.py."""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from runaway_bench import (  # the same server and data
    LOOKUP,
    LOOKUPS_FROM,
    build_store,
    generated,
    grant_count,
    labelled_codes,
    percentile,
    serve,
    settle,
    stop,
)
from served_write_bench import FORK, writing

HERE = Path(__file__).resolve().parent
STEPS = [
    ("to loop", "sent", "seen"),
    ("to pool", "seen", "start"),
    ("head", "start", "parsed"),
    ("to body", "parsed", "body_start"),
    ("body", "body_start", "body_end"),
    ("to helper", "body_end", "helper_start"),
    ("evaluate", "helper_start", "helper_end"),
    ("hand back", "helper_end", "back"),
    ("answer", "back", "end"),
    ("to client", "end", "done"),
]


def lookup_client(port: int, until: float, ids: int, seed: int, seen: list[dict[str, Any]]) -> None:
    """bench/runaway_bench.py's lookup client, each request carrying its send time."""
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, source_address=(LOOKUPS_FROM, 0))
    while time.monotonic() < until:
        body = urllib.parse.urlencode({"query": LOOKUP % rng.randrange(ids)})
        sent = time.monotonic()
        connection.request("POST", "/sparql", body, {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/sparql-results+json", "X-Bench-Sent": repr(sent)})  # fmt: skip
        response = connection.getresponse()
        response.read()
        seen.append({"sent": sent, "done": time.monotonic(), "status": response.status})
        time.sleep(0.01)
    connection.close()


def phase(port: int, writers: int, seconds: float, ids: int) -> tuple[list[dict[str, Any]], int]:
    """Lookups for ``seconds`` beside ``writers`` writers: (client records, writes answered)."""
    seen: list[dict[str, Any]] = []
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=lookup_client, args=(port, until, ids, n, seen))
               for n in range(2)]  # fmt: skip
    answers = FORK.SimpleQueue()
    process = FORK.Process(target=writing, args=(port, until, writers, ids, answers))
    if writers:
        process.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    written = answers.get().get("204", 0) if writers else 0
    if writers:
        process.join()
    return seen, written


def joined(seen: list[dict[str, Any]], trace: Path) -> list[dict[str, Any]]:
    """The client's records with the server's for the same request (by send time)."""
    server = {}
    for line in trace.read_text().splitlines():
        record = json.loads(line)
        if "sent" in record:
            server[repr(record["sent"])] = record
    return [{**server[repr(r["sent"])], **r} for r in seen if repr(r["sent"]) in server]


def collections(seen: list[dict[str, Any]], trace: Path, slow: float) -> str:
    """The worker's garbage collections during the lookups ``seen``, per generation (count,
    longest, total ms), and how many slow lookups one overlapped."""
    if not seen:
        return ""
    first, last = min(r["sent"] for r in seen), max(r["done"] for r in seen)
    pauses = [g for line in trace.read_text().splitlines()
              if "gc" in (g := json.loads(line)) and first <= g["start"] <= last]  # fmt: skip
    parts = []
    for generation in (0, 1, 2):
        times = [g["end"] - g["start"] for g in pauses if g["gc"] == generation]
        if times:
            parts.append(f"gen{generation} {len(times)} x, longest {max(times) * 1000:.1f} ms,"
                         f" total {sum(times) * 1000:.0f} ms")  # fmt: skip
    late = [r for r in seen if r["done"] - r["sent"] > slow]
    hit = sum(any(g["start"] < r["done"] and g["end"] > r["sent"] for g in pauses if g["gc"])
              for r in late)  # fmt: skip
    return f"  collections: {'; '.join(parts) or 'none'}; slow lookups during a gen1/2 one: {hit}"


def show(label: str, name: str, records: list[dict[str, Any]], slow: float, written: int,
         seconds: float) -> None:  # fmt: skip
    total = [r["done"] - r["sent"] for r in records]
    picked = {"all": records, f"> {slow * 1000:.1f} ms": [r for r in records
                                                            if r["done"] - r["sent"] > slow]}
    print(f"\n{label} {name}: {len(records)} lookups, p50 {percentile(total, 0.5) * 1000:.2f} ms,"
          f" p99 {percentile(total, 0.99) * 1000:.2f} ms; {written / seconds:.1f} writes/s")
    print(f"  {'lookups':<12} {'n':>5} " + " ".join(f"{s[0]:>9}" for s in STEPS)
          + "   pool: run  queue  asleep | helper: run  queue  asleep")  # fmt: skip
    for which, chosen in picked.items():
        full = [r for r in chosen if all(r.get(a) is not None for _, a, _ in STEPS)]
        if not full:
            print(f"  {which:<12} {0:>5}")
            continue
        steps = [statistics.mean(r[b] - r[a] for r in full) * 1000 for _, a, b in STEPS]
        pool = [statistics.mean(r[k] for r in full) * 1000 for k in ("pool_run", "pool_queue")]
        inside = statistics.mean(r["end"] - r["start"] - (r["helper_end"] - r["helper_start"])
                                 for r in full) * 1000  # fmt: skip
        helper = [statistics.mean(r[k] for r in full) * 1000
                  for k in ("helper_run", "helper_queue")]  # fmt: skip
        asleep = (inside - pool[0] - pool[1], steps[6] - sum(helper))
        print(f"  {which:<12} {len(full):>5} " + " ".join(f"{s:>9.2f}" for s in steps)
              + f"   {pool[0]:>9.2f} {pool[1]:>6.2f} {asleep[0]:>7.2f}"
              f" | {helper[0]:>11.2f} {helper[1]:>6.2f} {asleep[1]:>7.2f}")  # fmt: skip


def measure(label: str, src: Path, data: Path, args: argparse.Namespace, work: Path,
            ids: int) -> None:  # fmt: skip
    folder = Path(tempfile.mkdtemp(dir=work))
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    store = build_store(data, folder, oxigraph)
    trace = folder / "trace.jsonl"
    os.environ["KG_BENCH_TRACE"] = str(trace)
    # serve() puts its ``src`` on PYTHONPATH as it is: the tracing module's folder goes after it.
    process, port, _ = serve(Path(f"{src}{os.pathsep}{HERE / 'lookup_trace'}"), store,
                             "writable", 10.0, folder)  # fmt: skip
    try:
        settle(f"http://127.0.0.1:{port}")
        phase(port, 1, 3, ids)
        idle, _ = phase(port, 0, args.seconds, ids)
        busy, written = phase(port, args.writers, args.seconds, ids)
        idle_p99 = percentile([r["done"] - r["sent"] for r in idle], 0.99)
        for name, seen, count in (("idle", idle, 0), ("busy", busy, written)):
            show(label, name, joined(seen, trace), args.slow * idle_p99, count, args.seconds)
            print(collections(seen, trace, args.slow * idle_p99))
    finally:
        stop(process)
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--slow", type=float, default=2.0, help="slow: over this x idle p99")
    parser.add_argument("--code", action="append", required=True, help="LABEL=SRC, repeatable")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kg-served-write-trace-"))
    try:
        data = generated(work, args.triples, 1)
        ids = grant_count(data)
        print(f"load average {os.getloadavg()[0]:.1f}")
        for label, src in labelled_codes(args.code):
            measure(label, src, data, args, work, ids)
        print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
