"""Time every compiled SHACL check on a generated graph, slowest first.

    python bench/profile_checks.py --triples 200000 [--fixture-shapes] [--top 20]

Loads a conforming generated project into an on-disk store (as a build does), compiles the
shapes with graph.validation.compile and runs each batch of checks (or each check) alone, so the
expensive ones can be found.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

from graph.core.namespaces import CANONICAL_BASE
from graph.sources.files import discover
from graph.store import Store, bulk_load_file, run_query
from graph.validation.checks import Batch, batches
from graph.validation.compile import compile_shapes
from graph.validation.in_store import plan, shapes_graph, store_classes

sys.path.insert(0, str(Path(__file__).parent))
import generate

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, default=200_000)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--fixture-shapes", action="store_true")
    parser.add_argument(
        "--all-checks",
        action="store_true",
        help="every check, in batches, all looked up per focus node (no plan)",
    )
    parser.add_argument(
        "--one-by-one", action="store_true", help="one query per check instead of per batch"
    )
    parser.add_argument(
        "--subclass-paths",
        action="store_true",
        help="compile instance tests as rdf:type/rdfs:subClassOf* paths (the old way)",
    )
    args = parser.parse_args()
    folder = ROOT / "tests" / "fixtures" / "scale" if args.fixture_shapes else ROOT
    files = discover(folder)
    store = Store(tempfile.mkdtemp(prefix="profile-checks-"))
    buffer = io.StringIO()
    generate.generate(buffer, args.triples, 1, 0.0, quads=True)
    store.bulk_load(input=buffer.getvalue().encode(), format=generate_format())
    for source in files:
        if source.role == "ontology":
            bulk_load_file(store, source.path, source.graph(CANONICAL_BASE), CANONICAL_BASE)
    shapes = shapes_graph(f for f in files if f.role == "shapes")
    start = time.perf_counter()
    checks = compile_shapes(shapes, None if args.subclass_paths else store_classes(store))
    compiled = time.perf_counter() - start
    units = (
        [Batch((c,)) for c in checks]
        if args.one_by_one
        else batches(checks)
        if args.all_checks
        else plan(store, checks)
    )
    timings = []
    for unit in units:
        start = time.perf_counter()
        rows = sum(1 for _ in run_query(store, unit.query))  # type: ignore[union-attr]
        timings.append((time.perf_counter() - start, rows, unit))
    total = sum(t for t, _, _ in timings)
    print(f"{len(checks)} checks, {len(units)} queries, {total:.2f} s (compiling {compiled:.2f} s)")
    ranked = sorted(timings, key=lambda t: -t[0])
    for seconds, rows, unit in ranked[: args.top] + ranked[-(args.top // 2) :]:
        first = unit.checks[0]
        components = ",".join(c.component.replace("ConstraintComponent", "") for c in unit.checks)
        print(
            f"{seconds:7.3f} s {100 * seconds / total:5.1f}% {rows:4d} "
            f"{first.targets[-50:]:50} {first.path[-28:]:28} {components}"
        )
    return 0


def generate_format() -> object:
    from pyoxigraph import RdfFormat

    return RdfFormat.N_QUADS


if __name__ == "__main__":
    sys.exit(main())
