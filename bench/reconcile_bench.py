"""A 1,000-row reconciliation batch on 1M triples: kg serve's /reconcile against per-row SPARQL
on native Oxigraph, side by side in one run (issue 15).

    flock /tmp/bench.lock python bench/reconcile_bench.py --data 1m.nq [--rounds 3]

``--data`` is ``bench/generate.py --triples 1000000 --seed 1`` output (generated into the work
folder when not given). Both servers read the same store, bulk-loaded by ``oxigraph load``. The
1,000 names are labels of the graph written as people write them (case changed, a letter
dropped or swapped, words reordered) and names the graph does not hold. Timed: the whole batch
in one POST to ``kg serve``; the reference, the same rows one request each (as OpenRefine-style
clients without a reconciliation service do) to ``oxigraph serve-read-only``: an exact label
lookup (index-backed, finds only exact names) and a ``CONTAINS`` over lower-cased labels (finds
a name inside labels, on a sample of rows: each scans every label). Prints the figures and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from graph.answering.reconcile.loading import load
from graph.core.namespaces import CANONICAL_BASE
from graph.store import Literal, open_store

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from serve_bench import build_store  # noqa: E402  (one bulk load, as the other benchmarks)
from tests.processes import free_port  # noqa: E402
from tests.remote_servers import oxigraph_binary  # noqa: E402

EXACT = """SELECT ?e WHERE {{ VALUES ?p {{ <http://www.w3.org/2004/02/skos/core#prefLabel>
<http://www.w3.org/2000/01/rdf-schema#label> }} ?e ?p {name} }} LIMIT 3"""
CONTAINS = """SELECT ?e ?l WHERE {{ VALUES ?p {{ <http://www.w3.org/2004/02/skos/core#prefLabel>
<http://www.w3.org/2000/01/rdf-schema#label> }} ?e ?p ?l
FILTER(CONTAINS(LCASE(STR(?l)), {needle})) }} LIMIT 3"""


def names(labels: list[str], count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` names as people write them: (name, exact label it came from or "")."""
    rng = random.Random(seed)
    chosen = []
    for n in range(count):
        label = rng.choice(labels)
        kind = n % 5
        if kind == 0:
            chosen.append((label.upper(), label))
        elif kind == 1:
            chosen.append((misspelt(label, rng), label))
        elif kind == 2:
            chosen.append((" ".join(reversed(label.split())), label))
        elif kind == 3:
            chosen.append((f"Unknown body {rng.randrange(10**6)} of nowhere", ""))
        else:
            chosen.append((label, label))
    return chosen


def score(rows: list[tuple[str, str]], answers: dict[str, Any]) -> tuple[int, int]:
    """Rows whose first candidate carries the label they came from; unknown names matched."""
    right = wrong = 0
    for n, (_, label) in enumerate(rows):
        result = answers[f"q{n}"]["result"]
        if label:
            right += bool(result) and result[0]["name"] == label
        else:
            wrong += any(candidate["match"] for candidate in result)
    return right, wrong


def misspelt(label: str, rng: random.Random) -> str:
    """``label`` with one letter dropped from its longest word (digits left alone: a number
    one digit off names another thing)."""
    split = label.split()
    longest = max(range(len(split)), key=lambda n: (split[n].isalpha(), len(split[n])))
    word = split[longest]
    if len(word) > 4 and word.isalpha():
        cut = rng.randrange(1, len(word) - 1)
        split[longest] = word[:cut] + word[cut + 1 :]
    return " ".join(split)


def serve_kg(store: Path, work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ, KG_WORKERS="1", KG_RESULT_CACHE_MB="0", KG_QUERY_TIMEOUT="120")
    log = (work / "kg.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "graph", "serve", "--store", str(store), "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


def serve_native(store: Path, binary: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [binary, "serve-read-only", "--location", str(store.resolve()),
         "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


def wait(url: str) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=5).status_code < 500:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not come up")


def per_row(http: requests.Session, url: str, template: str, rows: list[str]) -> float:
    start = time.perf_counter()
    for value in rows:
        query = template.format(name=value, needle=value)
        headers = {"Accept": "application/sparql-results+json"}
        answer = http.get(url, params={"query": query}, headers=headers, timeout=300)
        answer.raise_for_status()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--contains-rows", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    binary = oxigraph_binary()
    assert binary, "pip install oxigraph"
    work = Path(tempfile.mkdtemp(prefix="reconcile-bench-"))
    data = args.data
    if data is None:
        data = work / "data.nq"
        generate = [sys.executable, str(ROOT / "bench" / "generate.py"), "--triples", "1000000"]
        subprocess.run([*generate, "--seed", "1", "--out", str(data)], check=True)
    store = build_store(data, work, binary)
    handle = open_store(store, read_only=True)
    start = time.perf_counter()
    catalogue = load(handle, CANONICAL_BASE)
    built = time.perf_counter() - start
    labels = sorted({e.name for e in catalogue.index.entities})
    del handle, catalogue
    rows = names(labels, args.rows, 1)
    print(f"catalogue: {len(labels)} distinct names, built in {built:.2f} s in process")
    kg, kg_url = serve_kg(store, work)
    native, native_url = serve_native(store, binary)
    try:
        wait(kg_url + "/health")
        wait(native_url + "/query?query=ASK%7B%7D")
        http = requests.Session()
        batch = {f"q{n}": {"query": name, "limit": 3} for n, (name, _) in enumerate(rows)}
        body = {"queries": json.dumps(batch)}
        first = time.perf_counter()
        answers = http.post(kg_url + "/reconcile", data=body, timeout=600).json()
        took = time.perf_counter() - first
        print(f"kg first batch (builds the catalogue in the server): {took:.2f} s")
        right, wrongly_matched = score(rows, answers)
        known = sum(1 for _, label in rows if label)
        print(
            f"kg top-1 on the generated names: {right}/{known}; unknown names matched:"
            f" {wrongly_matched}/{len(rows) - known}"
        )
        exact_rows = [str(Literal(name, language="en")) for name, _ in rows]
        contains_rows = [str(Literal(name.lower())) for name, _ in rows[: args.contains_rows]]
        kg_times, exact_times, contains_times = [], [], []
        for _ in range(args.rounds):
            start = time.perf_counter()
            http.post(kg_url + "/reconcile", data=body, timeout=600).raise_for_status()
            kg_times.append(time.perf_counter() - start)
            exact_times.append(per_row(http, native_url + "/query", EXACT, exact_rows))
            contains_times.append(per_row(http, native_url + "/query", CONTAINS, contains_rows))
        kg_s = statistics.median(kg_times)
        exact_s = statistics.median(exact_times)
        contains_row = statistics.median(contains_times) / len(contains_rows)
        rounds = ", ".join(f"{t:.3f}" for t in kg_times)
        print(f"kg /reconcile, {len(rows)} rows in one POST: {kg_s:.3f} s (rounds {rounds})")
        print(
            f"native exact label lookups, one request per row: {exact_s:.3f} s"
            f" -> kg/native time ratio {kg_s / exact_s:.2f}"
        )
        contains_all = contains_row * len(rows)
        print(
            f"native CONTAINS per row: {contains_row * 1000:.0f} ms/row, {contains_all:.1f} s"
            f" for {len(rows)} rows -> kg/native time ratio {kg_s / contains_all:.4f}"
        )
    finally:
        for process in (kg, native):
            process.terminate()
            process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
