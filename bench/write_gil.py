"""Where a write holds the GIL: stretches a reader thread waits, attributed to the write's call.

    flock /tmp/bench.lock python bench/write_gil.py --code main=/tmp/main/src --code branch=src \
        [--triples 100000] [--seconds 10] [--interval 0.0002] [--threshold 0.001]

For each ``--code LABEL=SRC`` a child process bulk-loads the same generated store
(bench/generate.py) with the ontology, as bench/write_bench.py does, then one thread sends
one-triple valid writes (``rdfs:comment`` on a grant, each on the next grant) through that
tree's ``graph.answering.writes.checked_update`` while a second thread loops, reading the clock
and its own scheduling figures, at a switch interval of ``--interval`` (a reader of a busy
server in miniature). Between two turns of the loop, the time the kernel did not count as the
loop running or waiting for a core is time it slept waiting for the GIL; when that exceeds
``--threshold``, the writer held the GIL that long without the interval cutting in (inside a
call into C that keeps it, or several back to back): the stretch is counted and charged to the
line the writer stands at when the loop runs again, the call that just returned or is running.
Printed per tree: writes/s, the stretches per write, their total per write, the longest, and
the lines charged most; and the same loop beside a thread that only sleeps (should be 0).
Not a test: compare trees side by side in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://w3id.org/alliance-graph/"
AG = BASE + "ontology#"
COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", action="append", default=[], help="LABEL=SRC, repeatable")
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=0.0002, help="switch interval (s)")
    parser.add_argument("--threshold", type=float, default=0.001, help="a stretch (s)")
    parser.add_argument("--top", type=int, default=12, help="lines shown per tree")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench" / "writes")
    parser.add_argument("--child", nargs=2, metavar=("SRC", "DATA"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1]), args)))
        return 0
    data = args.work / f"{args.triples}.nq"
    if not data.exists():
        args.work.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "generate.py"), "--triples", str(args.triples),
             "--invalid-share", "0", "--out", str(data)],
            check=True, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    for code in args.code or [f"this={ROOT / 'src'}"]:
        label, _, src = code.partition("=")
        command = [sys.executable, __file__, "--child", src, str(data), "--seconds",
                   str(args.seconds), "--interval", str(args.interval), "--threshold",
                   str(args.threshold)]  # fmt: skip
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        show(label, json.loads(done.stdout.strip().splitlines()[-1]), args.top)
    return 0


def show(label: str, figures: dict[str, Any], top: int) -> None:
    writes = figures["writes"]
    print(
        f"\n{label}: {writes / figures['seconds']:.1f} writes/s; stretches > threshold:"
        f" {figures['count'] / writes:.2f} a write, {figures['held'] / writes * 1000:.2f} ms a"
        f" write ({figures['held'] / figures['seconds'] * 100:.0f}% of the time), longest"
        f" {figures['longest'] * 1000:.1f} ms; loop beside a sleeping thread:"
        f" {figures['idle_count']} stretches, {figures['idle_held'] * 1000:.1f} ms in all"
    )
    print("  ms a write  stretches  where the writer stood")
    for where, (held, count) in sorted(figures["lines"].items(), key=lambda kv: -kv[1][0])[:top]:
        print(f"  {held / writes * 1000:10.3f} {count:10d}  {where}")


def child(src: Path, data: Path, args: argparse.Namespace) -> dict[str, Any]:
    sys.path.insert(0, str(src))
    sys.setswitchinterval(args.interval)
    import pyoxigraph

    from graph.answering import writes
    from graph.answering.store_version import StoreVersion

    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as directory:
        store = pyoxigraph.Store(str(Path(directory) / "store"))
        store.bulk_load(path=str(data), format=pyoxigraph.RdfFormat.N_QUADS)
        store.bulk_load(path=str(ROOT / "ontology" / "alliance.ttl"),
                        format=pyoxigraph.RdfFormat.TURTLE,
                        to_graph=pyoxigraph.NamedNode(BASE + "graph/ontology"))  # fmt: skip
        try:
            from graph.store import materialize
        except ImportError:
            pass
        else:
            materialize(store)
        store.optimize()
        target = writes.Writable(store, writes.load_shapes(str(ROOT), BASE), StoreVersion(),
                                 scratch=Path(directory))  # fmt: skip
        found = store.query(f"SELECT ?g {{ ?g a <{AG}Grant> }}", use_default_graph_as_union=True)
        grants = [row[0].value for row in found]

        def write(n: int) -> None:
            triple = f'<{grants[n % len(grants)]}> <{COMMENT}> "bench {n}"'
            writes.checked_update(target, f"INSERT DATA {{ GRAPH <{BASE}graph/b> {{ {triple} }} }}")

        warm_up(writes, write)
        idle = watch(lambda stop: stop.wait(), min(args.seconds, 3.0), args.threshold)
        busy = watch(lambda stop: writing(write, stop), args.seconds, args.threshold)
    return {**busy, "idle_count": idle["count"], "idle_held": idle["held"]}


def warm_up(writes: Any, write: Any) -> None:
    """What a process does once is not a write's cost: compiling the shapes, and starting the
    tree's validation process if it has one (graph.validation.process)."""
    write(-1)
    until = time.monotonic() + 60
    while not getattr(getattr(writes, "VALIDATION", None), "ready", True):
        if time.monotonic() > until:
            raise SystemExit("the validation process did not start within 60 s")
        time.sleep(0.1)
        write(-2)


def writing(write: Any, stop: threading.Event) -> int:
    n = 0
    while not stop.is_set():
        write(n)
        n += 1
    return n


def watch(work: Any, seconds: float, threshold: float) -> dict[str, Any]:
    """Run ``work(stop)`` on a thread for ``seconds`` while this one loops, noting stretches.

    A stretch is the time between two turns of the loop less what the kernel counts for this
    thread meanwhile as running or waiting for a core (/proc/.../schedstat): what is left is
    time it slept waiting for the GIL, so a machine busy with other processes does not count.
    """
    stop, result = threading.Event(), {}
    thread = threading.Thread(target=lambda: result.setdefault("n", work(stop)))
    thread.start()
    held, count, longest = 0.0, 0, 0.0
    lines: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    stat = os.open(f"/proc/self/task/{threading.get_native_id()}/schedstat", os.O_RDONLY)
    until = time.perf_counter() + seconds
    last, busy = time.perf_counter(), scheduled(stat)
    while last < until:
        now, now_busy = time.perf_counter(), scheduled(stat)
        waited = (now - last) - (now_busy - busy)
        if waited > threshold:
            where = standing(sys._current_frames().get(thread.ident or 0))
            held, count, longest = held + waited, count + 1, max(longest, waited)
            lines[where] += waited
            counts[where] += 1
            now, now_busy = time.perf_counter(), scheduled(stat)
        last, busy = now, now_busy
    os.close(stat)
    stop.set()
    thread.join()
    return {"writes": result.get("n") or 0, "seconds": seconds, "count": count, "held": held,
            "longest": longest, "lines": {k: (v, counts[k]) for k, v in lines.items()}}  # fmt: skip


def scheduled(stat: int) -> float:
    """Seconds this thread has run or waited for a core, by the kernel's count."""
    running, waiting = os.pread(stat, 100, 0).split()[:2]
    return (int(running) + int(waiting)) / 1e9


def standing(frame: FrameType | None) -> str:
    """The innermost line of the project (graph/), and below it the innermost line of all."""
    inner, ours = frame, None
    while frame is not None:
        if "/graph/" in frame.f_code.co_filename:
            ours = frame
            break
        frame = frame.f_back
    parts = [f for f in (ours, inner) if f is not None]
    text = [f"{Path(f.f_code.co_filename).name}:{f.f_lineno} {f.f_code.co_name}" for f in parts]
    return " < ".join(dict.fromkeys(text)) or "-"


if __name__ == "__main__":
    sys.exit(main())
