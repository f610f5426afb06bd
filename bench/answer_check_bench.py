"""Cost of reading an external store's SELECT answer whole before handing it out
(graph.store.external.answers): pyoxigraph parses rows lazily, so every row is parsed once to
check it and again as the answer is written. Against the lazy read it replaced (only the
answer's start checked), same run, side by side: SELECTs of 10, 1,000 and 50,000 rows from a
native ``oxigraph serve`` through RemoteStore, written as SPARQL JSON. Usage::

    flock /tmp/bench.lock .venv/bin/python bench/answer_check_bench.py [--repeat 9]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pyoxigraph import RdfFormat  # noqa: E402
from tests.remote_servers import oxigraph_binary, oxigraph_server  # noqa: E402

from graph.store import Literal, NamedNode, Quad, run_query, serialize_results  # noqa: E402
from graph.store.external import remote_store  # noqa: E402
from graph.store.external.answers import QueryResult, _ask_answer  # noqa: E402
from graph.store.results import solutions_from_bytes, triples_from_bytes  # noqa: E402

JSON = "application/sparql-results+json"


def lazy_read(content: bytes, media_type: str, *, ask: bool = False) -> QueryResult:
    """read_answer before the whole-answer check (main at e15b273)."""
    if RdfFormat.from_media_type(media_type) is not None:
        return triples_from_bytes(content, media_type)
    result = solutions_from_bytes(content, media_type)
    return _ask_answer(result) if ask else result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=9)
    repeat = parser.parse_args().repeat
    binary = oxigraph_binary()
    if binary is None:
        sys.exit("needs the oxigraph server (pip install oxigraph)")
    checked = remote_store.read_answer
    with tempfile.TemporaryDirectory() as tmp, oxigraph_server(binary, Path(tmp)) as url:
        store = remote_store.RemoteStore.from_settings(url, {"store_kind": "oxigraph"})
        graph = NamedNode(store.graph_scope + "g")
        store.extend(
            Quad(NamedNode(f"urn:x:s{i}"), NamedNode("urn:x:p"), Literal(f"v {i}"), graph)
            for i in range(50_000)
        )
        for rows in (10, 1_000, 50_000):
            query = f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o }} LIMIT {rows}"
            times: dict[str, list[float]] = {"lazy": [], "checked": []}
            for _ in range(repeat):
                for name, reader in (("lazy", lazy_read), ("checked", checked)):
                    remote_store.read_answer = reader  # type: ignore[assignment]
                    start = time.perf_counter()
                    serialize_results(run_query(store, query, default_graphs=[graph.value]), JSON)
                    times[name].append(time.perf_counter() - start)
            lazy, whole = (statistics.median(times[n]) for n in ("lazy", "checked"))
            print(
                f"{rows:>6} rows: lazy {lazy * 1e3:.2f} ms, checked {whole * 1e3:.2f} ms,"
                f" ratio {whole / lazy:.2f}"
            )


if __name__ == "__main__":
    main()
