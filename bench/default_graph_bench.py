"""What the default graph as a set costs (issue 17): build time, store size, query speed.

Two stores from the same N-Quads file (``bench/generate.py --triples 1000000 --seed 1``):

* ``union``: the named graphs only, queried with Oxigraph's ``use_default_graph_as_union``
  (what the project did before: a triple stated by two graphs counts twice);
* ``set``: the same plus the default graph holding every triple once
  (graph.store.default_graph.materialize), queried on that default graph.

Each store is loaded in a fresh process (time and peak memory of that process); then serve_bench's
query mix runs in one process on both stores, alternating union/set ``--rounds`` times, and the
median time of each query is reported with the set/union ratio. Not a test: run it by hand,
under ``flock /tmp/bench.lock``.

    python bench/default_graph_bench.py --data data.nq [--rounds 7] [--builds 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from pyoxigraph import RdfFormat, Store  # noqa: E402

from graph.store.default_graph import materialize  # noqa: E402

#: serve_bench's mix, with a fixed grant for the point lookup, and a count over the default graph.
QUERIES = {
    "count-all": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
}


def load(data: Path, location: Path, with_set: bool) -> dict[str, float]:
    """Bulk-load ``data`` (and materialize the set); time and peak memory of this process."""
    started = time.perf_counter()
    store = Store(str(location))
    store.bulk_load(path=str(data), format=RdfFormat.N_QUADS)
    loaded = time.perf_counter() - started
    if with_set:
        materialize(store)
    materialized = time.perf_counter() - started - loaded
    store.flush()
    store.optimize()
    seconds = time.perf_counter() - started
    del store
    size = sum(f.stat().st_size for f in location.rglob("*") if f.is_file())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": seconds,
        "load_seconds": loaded,
        "materialize_seconds": materialized,
        # Measured seconds apart in one process: the machine's load changes less between them.
        "materialize_per_load": materialized / loaded,
        "bytes": size,
        "peak_mb": peak,
    }


def time_queries(union: Path, set_: Path, rounds: int) -> dict[str, dict[str, float]]:
    from serve_bench import MIX

    queries = {**{k: v.replace("%07d", "0000042") for k, v in MIX.items()}, **QUERIES}
    stores = {"union": Store.read_only(str(union)), "set": Store.read_only(str(set_))}
    options = {"union": {"use_default_graph_as_union": True}, "set": {}}
    times: dict[str, dict[str, list[float]]] = {q: {"union": [], "set": []} for q in queries}
    answers: dict[str, dict[str, int]] = {q: {} for q in queries}
    for _ in range(rounds):
        for name, text in queries.items():
            for kind in ("union", "set"):
                started = time.perf_counter()
                result = stores[kind].query(text, **options[kind])  # type: ignore[arg-type]
                rows = sum(1 for _ in result) if not isinstance(result, bool) else 1
                times[name][kind].append(time.perf_counter() - started)
                answers[name][kind] = rows
    figures = {}
    for name in queries:
        union_s = statistics.median(times[name]["union"])
        set_s = statistics.median(times[name]["set"])
        figures[name] = {
            "union_ms": union_s * 1000,
            "set_ms": set_s * 1000,
            "ratio": set_s / union_s,
            "rows_union": answers[name]["union"],
            "rows_set": answers[name]["set"],
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--builds", type=int, default=3, help="alternating builds of each")
    parser.add_argument("--load", choices=["union", "set"], help=argparse.SUPPRESS)
    parser.add_argument("--location", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        print(json.dumps(load(args.data, args.location, args.load == "set")))
        return
    with tempfile.TemporaryDirectory(prefix="default-graph-bench-") as work:
        built: dict[str, dict[str, float]] = {}
        runs: list[dict[str, float]] = []
        for _ in range(args.builds):  # alternating, the last of each kept for the queries
            for kind in ("union", "set"):
                location = Path(work) / kind
                shutil.rmtree(location, ignore_errors=True)
                command = [sys.executable, __file__, "--data", str(args.data), "--load", kind]
                out = subprocess.run(
                    [*command, "--location", str(location)],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                built[kind] = json.loads(out)
            runs.append({"union": built["union"]["seconds"], "set": built["set"]["seconds"]})
        report = {
            "build": built,
            "build_ratios": [run["set"] / run["union"] for run in runs],
            "build_ratio": built["set"]["seconds"] / built["union"]["seconds"],
            "size_ratio": built["set"]["bytes"] / built["union"]["bytes"],
            "queries": time_queries(Path(work) / "union", Path(work) / "set", args.rounds),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
