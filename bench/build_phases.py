"""Where `kg build --engine sparql` spends its time and memory: the load, then each batch.

    python bench/build_phases.py PROJECT_DIR STORE_DIR

Loads PROJECT_DIR's files into a new store at STORE_DIR (removed first) as ``build_in_store``
does, then takes ``finish_generation``'s steps one at a time (the count of stated quads, the
copy making the default graph's set, the compaction), then validates the store, printing
after each phase and after every batch of checks the seconds it took and the process's peak
RSS so far (``ru_maxrss``). Peak RSS only grows: a batch that raises it
is one whose memory could not reuse what earlier ones freed.
"""

from __future__ import annotations

import resource
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from graph.core.namespaces import CANONICAL_BASE
from graph.sources.files import discover
from graph.store import Store, bulk_load_file, materialize, open_generation
from graph.store.default_graph import stated_count
from graph.validation import in_store
from graph.validation.checks import Batch, Check

broken_by = in_store.broken_by


def peak() -> float:
    """The peak RSS of this process so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def traced(
    store: Store, batch: Batch, focus: Sequence[str] | None, *, union: bool = True
) -> list[tuple[Check, str, str]]:
    """:func:`graph.validation.in_store.broken_by`, printing its time and the peak RSS after it."""
    start, before = time.perf_counter(), peak()
    found = broken_by(store, batch, focus, union=union)
    first = batch.checks[0]
    print(
        f"  {time.perf_counter() - start:6.1f} s  peak {before:6.0f} -> {peak():6.0f} MiB"
        f"  {len(batch.checks):2} checks  {first.path[:50]} {first.component}",
        flush=True,
    )
    return found


def main() -> int:
    project, location = Path(sys.argv[1]), Path(sys.argv[2])
    shutil.rmtree(location, ignore_errors=True)
    location.mkdir(parents=True)
    files = discover(project)
    start = time.perf_counter()
    store = open_generation(location)
    for source in files:
        if source.role != "shapes":
            bulk_load_file(store, source.path, source.graph(CANONICAL_BASE), CANONICAL_BASE)
    print(f"load: {time.perf_counter() - start:.1f} s, peak {peak():.0f} MiB", flush=True)
    # finish_generation's steps, each timed (graph.store.handles.finish_generation)
    start = time.perf_counter()
    quads = stated_count(store)
    print(f"count: {time.perf_counter() - start:.1f} s, {quads} quads", flush=True)
    start = time.perf_counter()
    materialize(store)
    store.flush()
    print(f"copy (default graph's set): {time.perf_counter() - start:.1f} s, peak {peak():.0f} MiB")
    start = time.perf_counter()
    store.optimize()
    print(f"compaction: {time.perf_counter() - start:.1f} s, peak {peak():.0f} MiB", flush=True)
    in_store.broken_by = traced  # type: ignore[assignment]
    start = time.perf_counter()
    shapes = in_store.shapes_graph(f for f in files if f.role == "shapes")
    data = [f for f in files if f.role == "data"]
    report = in_store.validate_store(store, shapes, data, CANONICAL_BASE, union=False)
    print(
        f"validate: {time.perf_counter() - start:.1f} s, peak {peak():.0f} MiB,"
        f" {len(report.violations)} violations",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
