"""The W3C SPARQL 1.1 Protocol and Graph Store Protocol cases against a real ``kg serve``.

Run from the manifests themselves (tests/http/w3c, with their licence): every case of
``sparql/sparql11/protocol`` and ``sparql/sparql11/graph-store-protocol``, 48 in all, each
request sent over HTTP to a writable server on an embedded store, each response checked as the
manifest says (issue 17). The manifests' paths map onto ours: ``/sparql/`` is ``/sparql``,
``/gsp?...`` is ``/store?...`` (indirect identification) and ``/gsp/x`` is ``/graph/x``
(direct identification). Writes carry the server's token.

Two servers over the mini fixture project (whose shapes the cases' FOAF and vCard data
conform to; the real project's shapes refuse a foaf:Person with no name, 422):

* ``scratch``: ``allow_curated_removal`` on, so that the cases that empty the whole store
  (``CLEAR ALL``, ``DROP ALL``, a PUT of the default graph) run too: 48 of 48.
* ``curated``: the project's curated graphs protected, as deployed. The cases that would
  replace curated data are skipped there, saying so; the other 41 run.

Every case starts from the store as built (``curated``) or from an empty store (``scratch``):
what earlier cases wrote is dropped first, so no case depends on the order they run in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from graph.build.embedded import build
from graph.core.namespaces import CANONICAL_BASE
from graph.sources.files import provided_graphs
from tests.http.w3c.manifests import Case, load_cases
from tests.http.w3c.runner import RESULTS_JSON, Served, auth, replaces_curated, run
from tests.paths import MINI
from tests.processes import free_port, wait_until_healthy

pytestmark = pytest.mark.slow

TOKEN = "w3c-t0ken"
CASES = load_cases()


def test_the_manifests_hold_48_cases() -> None:
    assert len(CASES) == 48
    assert len({case.name for case in CASES}) == 48


def _serve(project: Path, store: Path, log: Path, **env: str) -> Iterator[Served]:
    build(project, store, CANONICAL_BASE)
    port = free_port()
    environment = {
        **os.environ,
        "KG_PROJECT_DIR": str(project),
        "KG_WRITE_TOKEN": TOKEN,
        "KG_RESULT_CACHE_MB": "0",
        **env,
    }
    command = [sys.executable, "-m", "graph", "serve", "--no-access-log"]
    command += ["--store", str(store), "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=environment, stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log=log)
        curated = frozenset(provided_graphs(project, CANONICAL_BASE))
        yield Served(url, TOKEN, curated, env.get("KG_ALLOW_CURATED_REMOVAL") != "1")
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module", params=["scratch", "curated"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    root = tmp_path_factory.mktemp(f"w3c-{request.param}")
    allow = "1" if request.param == "scratch" else "0"
    yield from _serve(MINI, root / "store", root / "serve.log", KG_ALLOW_CURATED_REMOVAL=allow)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_w3c_case(served: Served, case: Case) -> None:
    if served.protects_curated and replaces_curated(case):
        pytest.skip(
            f"{case.name} would replace curated data (the project's graphs): run on scratch"
        )
    _reset(served)
    for label, path in case.graph_data.items():
        _load(served, label, path)
    run(served, case)


def _reset(served: Served) -> None:
    """Drop what earlier cases wrote: every graph no file of the project provides, and on the
    scratch server the project's graphs too, so that each case starts from an empty store as
    the manifests assume (a PUT of the default graph cannot take away triples a named graph
    states: the default graph is their set, issue 17)."""
    answer = requests.get(
        served.url + "/sparql",
        params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }"},
        headers={"Accept": RESULTS_JSON},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    graphs = {row["g"]["value"] for row in answer.json()["results"]["bindings"]}
    kept = served.curated if served.protects_curated else frozenset()
    drops = [f"DROP SILENT GRAPH <{g}>" for g in sorted(graphs - kept)]
    update = " ;\n".join([*drops, "CLEAR SILENT DEFAULT"])
    written = requests.post(
        served.url + "/sparql", data={"update": update}, headers=auth(served), timeout=60
    )
    assert written.status_code == 204, written.text


def _load(served: Served, graph: str, path: Path) -> None:
    """ut:graphData: the graph loaded before the case, through the Graph Store."""
    headers = {**auth(served), "Content-Type": "application/n-triples"}
    response = requests.put(
        served.url + "/store",
        params={"graph": graph},
        data=path.read_bytes(),
        headers=headers,
        timeout=60,
    )
    assert response.status_code in (201, 204), response.text
