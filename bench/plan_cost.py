"""What the SERVICE check costs per query with a non-empty allow-list (issue 11, item 2).

    python bench/plan_cost.py --runs 50

Times, side by side in one process, over the same queries: evaluating a point lookup on the
mini fixture store alone; the check of a query that mentions no SERVICE (the text test only);
the check of one that does (a child process: the sandboxed ``oxigraph`` CLI writes the
engine's plan, graph.answering.engine_plan); and the rdflib parse the check used before, for
the same text. Prints the median milliseconds of each and the ratios to the lookup.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graph.answering.guard import check_remote_targets  # noqa: E402
from graph.build.embedded import build  # noqa: E402
from graph.core.links import prefixes  # noqa: E402
from graph.core.namespaces import CANONICAL_BASE  # noqa: E402
from graph.store import open_store, run_query  # noqa: E402

ALLOWED = ("http://allowed.example/",)
LOOKUP = "SELECT ?p ?o WHERE { ?s ?p ?o } LIMIT 10"
PLAIN = "PREFIX ex: <http://e/> SELECT ?p ?o WHERE { ex:thing ?p ?o } LIMIT 10"
SERVICE = (
    "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE <http://allowed.example/sparql> { ?s ?p ?x } } }"
    " LIMIT 10"
)


def median_ms(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def rdflib_parse(text: str) -> None:
    from rdflib.plugins.sparql.parser import parseQuery

    parseQuery(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        store_path = Path(folder) / "store"
        build(ROOT / "tests" / "fixtures" / "mini", store_path, CANONICAL_BASE)
        store = open_store(str(store_path), read_only=True)
        declared = prefixes(CANONICAL_BASE)
        check_remote_targets(SERVICE, ALLOWED, update=False, prefixes=declared)  # warm up
        rdflib_parse(SERVICE)
        rows = {
            "point lookup, evaluated": lambda: list(run_query(store, LOOKUP)),  # type: ignore[call-overload]
            "check, no SERVICE in the text": lambda: check_remote_targets(
                PLAIN, ALLOWED, update=False, prefixes=declared
            ),
            "check, SERVICE (engine plan)": lambda: check_remote_targets(
                SERVICE, ALLOWED, update=False, prefixes=declared
            ),
            "before: rdflib parse of the same": lambda: rdflib_parse(SERVICE),
        }
        lookup = None
        print("| what | median ms | x lookup |\n|---|---|---|")
        for name, action in rows.items():
            ms = median_ms(action, runs)
            lookup = lookup or ms
            print(f"| {name} | {ms:.2f} | {ms / lookup:.1f} |")


if __name__ == "__main__":
    main()
