"""Cost of the external-store path: RemoteStore -> ``oxigraph serve`` against the embedded store.

Builds the project into both, then times, on each, N point lookups (every triple of one
resource, through the union default graph, as a resource page does) and a join query run
repeatedly, then N resource pages (``/doc/...ttl``, several queries each) through the
application's test client over each store, and prints the remote/embedded ratios. Usage::

    flock /tmp/bench.lock .venv/bin/python bench/remote_vs_embedded.py [--lookups 200]
        [--joins 20] [--pages 50]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from tests.remote_servers import oxigraph_binary, oxigraph_server  # noqa: E402

from graph.build.embedded import build  # noqa: E402
from graph.build.external import build_remote  # noqa: E402
from graph.core.namespaces import CANONICAL_BASE  # noqa: E402
from graph.http.app import create_app  # noqa: E402
from graph.store import QuerySolutions, Store, open_store, run_query, select_rows  # noqa: E402
from graph.store.external.remote_store import RemoteStore  # noqa: E402

SUBJECTS = "SELECT DISTINCT ?s WHERE { ?s a ?c FILTER(isIRI(?s)) } ORDER BY ?s"
LOOKUP = "SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}"
JOIN = """
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?type (COUNT(DISTINCT ?node) AS ?facts) (COUNT(DISTINCT ?document) AS ?documents)
WHERE { ?node a ?type ; prov:wasDerivedFrom ?passage . ?passage dcterms:isPartOf ?document }
GROUP BY ?type ORDER BY DESC(?facts)
"""


def drain(store: Store | RemoteStore, text: str) -> int:
    result = run_query(store, text)
    assert isinstance(result, QuerySolutions)
    return sum(1 for _ in result)


def timed(action: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        action()
    return time.perf_counter() - start


def measure(store: Store | RemoteStore, subjects: list[str], joins: int) -> tuple[float, float]:
    def lookups() -> None:
        for iri in subjects:
            drain(store, LOOKUP.format(iri=iri))

    drain(store, JOIN)  # warm up connections and caches
    return timed(lookups, 1), timed(lambda: drain(store, JOIN), joins)


def pages(settings: dict[str, object], subjects: list[str]) -> float:
    """Seconds to fetch the Turtle page of each subject through the app over a store."""
    client = create_app({"TESTING": True, "WRITE_TOKEN": "", **settings}).test_client()
    paths = [iri.replace(CANONICAL_BASE + "id/", "/doc/") + ".ttl" for iri in subjects]
    client.get(paths[0])  # warm up

    def fetch() -> None:
        for path in paths:
            assert client.get(path).status_code == 200, path

    return timed(fetch, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--joins", type=int, default=20)
    parser.add_argument("--pages", type=int, default=50)
    args = parser.parse_args()
    binary = oxigraph_binary()
    if binary is None:
        sys.exit("the oxigraph server is missing: pip install oxigraph")
    with tempfile.TemporaryDirectory() as tmp, oxigraph_server(binary, Path(tmp)) as url:
        build(ROOT, Path(tmp) / "store", CANONICAL_BASE)
        local = open_store(Path(tmp) / "store", read_only=True)
        remote = RemoteStore.from_settings(url, {"store_kind": "oxigraph"})
        build_remote(ROOT, remote, CANONICAL_BASE)
        every = [row["s"] for row in select_rows(local, SUBJECTS)]
        subjects = (every * (args.lookups // max(len(every), 1) + 1))[: args.lookups]
        embedded_lookups, embedded_join = measure(local, subjects, args.joins)
        remote_lookups, remote_join = measure(remote, subjects, args.joins)
        shown = [iri for iri in subjects if iri.startswith(CANONICAL_BASE + "id/")][: args.pages]
        embedded_pages = pages({"STORE": str(Path(tmp) / "store")}, shown)
        remote_pages = pages({"STORE": url, "STORE_KIND": "oxigraph"}, shown)
    print(
        f"{len(subjects)} point lookups: embedded {embedded_lookups * 1000:.1f} ms, "
        f"remote {remote_lookups * 1000:.1f} ms, ratio {remote_lookups / embedded_lookups:.1f}x"
    )
    print(
        f"{args.joins} joins: embedded {embedded_join * 1000:.1f} ms, "
        f"remote {remote_join * 1000:.1f} ms, ratio {remote_join / embedded_join:.1f}x"
    )
    print(
        f"{len(shown)} resource pages (/doc/...ttl through the app): embedded"
        f" {embedded_pages * 1000:.1f} ms, remote {remote_pages * 1000:.1f} ms,"
        f" ratio {remote_pages / embedded_pages:.1f}x"
    )
    print(
        f"per lookup: embedded {embedded_lookups / len(subjects) * 1e6:.0f} us, "
        f"remote {remote_lookups / len(subjects) * 1e6:.0f} us"
    )


if __name__ == "__main__":
    main()
