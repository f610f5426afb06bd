"""Write latency against the store's size, side by side for two source trees (issue 12).

    flock /tmp/bench.lock python bench/write_bench.py --sizes 10000 100000 1000000 \
        --main /work/main/src [--main-max 100000] [--work var/bench/writes] [--project DIR]

For each size, bench/generate.py makes a conforming synthetic graph (cached in --work); each
source tree (this one, and --main if given) runs in its own process: the graph is bulk-loaded
into a fresh on-disk store with the ontology, then one-triple writes go through that tree's
``graph.answering.writes.checked_update``, as the /sparql update view calls it:

* valid: ``rdfs:comment`` on an existing country (accepted, 204);
* invalid: a second ``ag:iso3166Alpha2`` on it (refused, 422: sh:maxCount and sh:pattern);
* several: an update of two operations, an ``INSERT DATA`` and a ``DELETE``/``INSERT`` ...
  ``WHERE`` reading what the first wrote (accepted); main evaluated it on an in-memory copy of
  the whole store, this tree on a RocksDB checkpoint of it (graph.answering.update_plan).

Also the cost of that checkpoint alone (``Store.backup`` into a folder beside the store, opening
it, removing it), which does not depend on the tree.

The median of --repeat writes of each is printed with the ratio to the smallest size, the
figure the issue sets a target for (largest / smallest <= 2). Then, at --concurrency-size,
four writer threads write for --seconds: writes per second, and the latency of point lookups
running meanwhile against their idle latency, in a process with the switch interval the
tree's `kg serve` workers have (graph.serving.server.SWITCH_INTERVAL, if it sets one); over HTTP:
bench/served_write_bench.py. Ratios only mean something within one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AG = "https://w3id.org/alliance-graph/ontology#"
BASE = "https://w3id.org/alliance-graph/"
BENCH_GRAPH = BASE + "graph/write-bench"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--main", type=Path, help="the src/ folder of the tree to compare with")
    parser.add_argument("--main-max", type=int, default=100_000, help="largest size for --main")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench" / "writes")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--main-repeat", type=int, default=3, help="--repeat for --main")
    parser.add_argument("--concurrency-size", type=int, default=100_000, help="0: skip that part")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--project", type=Path, default=ROOT,
        help="the project whose shapes the writes are checked against (default: this one)",
    )  # fmt: skip
    parser.add_argument("--child", nargs=2, metavar=("SRC", "DATA"), help=argparse.SUPPRESS)
    parser.add_argument("--concurrent", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        src, data = args.child
        figures = child(Path(src), Path(data), args.repeat, args.concurrent, args.seconds,
                        args.project)  # fmt: skip
        print(json.dumps(figures))
        return 0
    trees = {"this": ROOT / "src"}
    if args.main:
        trees["main"] = args.main
    results: dict[str, dict[int, dict[str, float]]] = {name: {} for name in trees}
    for size in args.sizes:
        data = generated(args.work, size)
        for name, src in trees.items():
            if name == "main" and size > args.main_max:
                continue
            repeat = args.main_repeat if name == "main" else args.repeat
            results[name][size] = run_child(src, data, args, concurrent=False, repeat=repeat)
            print(f"{name} {size}: {results[name][size]}", flush=True)
    report(results, args.sizes)
    if args.concurrency_size:
        concurrency(trees, generated(args.work, args.concurrency_size), args)
    return 0


def generated(work: Path, size: int) -> Path:
    path = work / f"{size}.nq"
    if not path.exists():
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "generate.py"), "--triples", str(size),
             "--invalid-share", "0", "--out", str(path)],
            check=True, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    return path


def run_child(
    src: Path, data: Path, args: argparse.Namespace, concurrent: bool, repeat: int = 1
) -> Any:
    command = [sys.executable, __file__, "--child", str(src), str(data), "--repeat",
               str(repeat), "--seconds", str(args.seconds),
               "--project", str(args.project)]  # fmt: skip
    if concurrent:
        command.append("--concurrent")
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


KINDS = ("valid", "invalid", "several", "checkpoint")


def report(results: dict[str, dict[int, dict[str, float]]], sizes: list[int]) -> None:
    print("\nmedian latency of a write (s), and its ratio to the smallest store")
    print(f"{'tree':6} {'size':>9}" + "".join(f" {k:>10} {'ratio':>6}" for k in KINDS))
    for name, by_size in results.items():
        first = by_size.get(sizes[0])
        for size, figures in by_size.items():
            cells = [(figures[k], figures[k] / first[k] if first else 0.0) for k in KINDS]
            print(f"{name:6} {size:>9}" + "".join(f" {v:10.4f} {r:6.2f}" for v, r in cells))


def concurrency(trees: dict[str, Path], data: Path, args: argparse.Namespace) -> None:
    print(f"\n4 writers for {args.seconds:.0f} s on {data.stem} triples; point lookups meanwhile")
    for name, src in trees.items():
        size = int(data.stem)
        if name == "main" and size > args.main_max:
            continue
        figures = run_child(src, data, args, concurrent=True)
        print(f"{name:6} writes/s {figures['writes_per_s']:.1f}  lookup p50 idle "
              f"{figures['idle_p50'] * 1000:.2f} ms, busy {figures['busy_p50'] * 1000:.2f} ms "
              f"(x{figures['busy_p50'] / figures['idle_p50']:.2f}); p99 x"
              f"{figures['busy_p99'] / figures['idle_p99']:.2f}", flush=True)  # fmt: skip


# --- in the child process: one source tree, one store ---------------------------------------


def materialize(store: Any) -> None:
    """Make the default graph the set of every triple, as `kg build` does (issue 17), if the
    tree keeps that set."""
    try:
        from graph.store import materialize as make_set
    except ImportError:
        return
    make_set(store)


def child(
    src: Path, data: Path, repeat: int, concurrent: bool, seconds: float, project: Path
) -> Any:
    sys.path.insert(0, str(src))
    as_a_worker()
    import pyoxigraph

    from graph.answering import writes

    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as directory:
        store = pyoxigraph.Store(str(Path(directory) / "store"))
        store.bulk_load(path=str(data), format=pyoxigraph.RdfFormat.N_QUADS)
        ontology = pyoxigraph.NamedNode(BASE + "graph/ontology")
        store.bulk_load(path=str(ROOT / "ontology" / "alliance.ttl"),
                        format=pyoxigraph.RdfFormat.TURTLE, to_graph=ontology)  # fmt: skip
        materialize(store)
        # As `kg build` does (graph.store.finish_generation): else RocksDB compacts the fresh
        # bulk load in the background while the writes are timed, on the same cores.
        store.optimize()
        shapes = writes.load_shapes(str(project), BASE)
        write = writer(writes, store, shapes, Path(directory))
        found = store.query(
            f"SELECT DISTINCT ?c {{ ?c a <{AG}Country> }} LIMIT 2", use_default_graph_as_union=True
        )
        country, other = (row[0] for row in found)
        # One write first: what a process does once (compiling the shapes, starting the
        # validation process of graph.validation.process) is not a write's cost.
        timed(write, "valid", country.value, -1)
        until = time.monotonic() + 60
        while not getattr(getattr(writes, "VALIDATION", None), "ready", True):
            if time.monotonic() > until:
                raise SystemExit("the validation process did not start within 60 s")
            time.sleep(0.1)
            timed(write, "valid", country.value, -1)
        if concurrent:
            return busy(store, write, country.value, other.value, seconds)
        timed(write, "several", country.value, -1)
        # Interleaved, so that every kind meets the store in the same state.
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for n in range(repeat):
            for kind, found in times.items():
                if kind == "checkpoint":
                    found.append(checkpoint(store, Path(directory)))
                else:
                    found.append(timed(write, kind, country.value, n))
        return {kind: statistics.median(found) for kind, found in times.items()}


def as_a_worker() -> None:
    """Run as the tree's `kg serve` workers do: with the switch interval it sets, if any (the
    writers and lookups here are threads of one process, as in a writable server's worker)."""
    try:
        from graph.serving.server import SWITCH_INTERVAL
    except ImportError:
        return
    sys.setswitchinterval(SWITCH_INTERVAL)


def writer(writes: Any, store: Any, shapes: Any, near: Path) -> Any:
    """A function running an update through the tree's checked_update, whatever its API."""
    if hasattr(writes, "Writable"):
        import dataclasses

        from graph.answering.store_version import StoreVersion

        scratch = {"scratch": near} if "scratch" in {
            f.name for f in dataclasses.fields(writes.Writable)
        } else {}  # fmt: skip
        target = writes.Writable(store, shapes, StoreVersion(), **scratch)
        return lambda text: writes.checked_update(target, text)
    return lambda text: writes.checked_update(store, text, shapes=shapes)


def checkpoint(store: Any, near: Path) -> float:
    """Seconds to take a checkpoint of ``store`` beside it, open it and remove it."""
    import shutil

    import pyoxigraph

    start = time.perf_counter()
    folder = Path(tempfile.mkdtemp(dir=near))
    store.backup(str(folder / "copy"))
    copy = pyoxigraph.Store(str(folder / "copy"))
    del copy
    shutil.rmtree(folder)
    return time.perf_counter() - start


def update_text(kind: str, country: str, n: int) -> str:
    if kind == "several":
        comment = "<http://www.w3.org/2000/01/rdf-schema#comment>"
        return (
            f'INSERT DATA {{ GRAPH <{BENCH_GRAPH}> {{ <{country}> {comment} "first {n}" }} }} ;\n'
            f"DELETE {{ GRAPH <{BENCH_GRAPH}> {{ ?c {comment} ?x }} }} "
            f'INSERT {{ GRAPH <{BENCH_GRAPH}> {{ ?c {comment} "second {n}" }} }} '
            f"WHERE {{ GRAPH <{BENCH_GRAPH}> {{ ?c {comment} ?x }} }}"
        )
    if kind == "valid":
        triple = f'<{country}> <http://www.w3.org/2000/01/rdf-schema#comment> "bench {n}"'
    else:
        triple = f'<{country}> <{AG}iso3166Alpha2> "Q{n}"'
    return f"INSERT DATA {{ GRAPH <{BENCH_GRAPH}> {{ {triple} }} }}"


def timed(write: Any, kind: str, country: str, n: int) -> float:
    from graph.core.errors import ShapeViolation

    start = time.perf_counter()
    try:
        write(update_text(kind, country, n))
        outcome = "valid"
    except ShapeViolation:
        outcome = "invalid"
    elapsed = time.perf_counter() - start
    if outcome != ("valid" if kind == "several" else kind):
        raise SystemExit(f"a {kind} write came out {outcome}")
    return elapsed


def busy(store: Any, write: Any, country: str, other: str, seconds: float) -> dict[str, float]:
    """Writes per second of four writers, and lookup latencies idle and while they write.

    The lookups read ``other``, a country the writes leave alone: the writes each add a
    comment to ``country``, whose lookup would grow by a row a write."""
    lookup = f"SELECT ?p ?o WHERE {{ <{other}> ?p ?o }}"

    def lookups(until: float) -> list[float]:
        found = []
        while time.perf_counter() < until:
            start = time.perf_counter()
            list(store.query(lookup))
            found.append(time.perf_counter() - start)
            time.sleep(0.005)
        return found

    idle = lookups(time.perf_counter() + min(seconds, 5.0))
    count = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def work(number: int) -> None:
        n = 0
        while time.perf_counter() < stop:
            write(update_text("valid", country, number * 1_000_000 + n))
            n += 1
            with lock:
                count[0] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    during = lookups(stop)
    for thread in threads:
        thread.join()

    def p99(values: list[float]) -> float:
        return statistics.quantiles(values, n=100)[98]

    return {
        "writes_per_s": count[0] / seconds,
        "idle_p50": statistics.median(idle),
        "busy_p50": statistics.median(during),
        "idle_p99": p99(idle),
        "busy_p99": p99(during),
    }


if __name__ == "__main__":
    sys.exit(main())
