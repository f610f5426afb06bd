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

Every case starts from the store as built: the graphs earlier cases wrote are dropped first.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest
import requests
from rdflib import Graph
from rdflib.compare import isomorphic

from graph.build.embedded import build
from graph.core.namespaces import CANONICAL_BASE
from graph.sources.files import provided_graphs
from tests.http.w3c.manifests import Case, Request, load_cases
from tests.paths import MINI
from tests.processes import free_port, wait_until_healthy

pytestmark = pytest.mark.slow

TOKEN = "w3c-t0ken"
CASES = load_cases()
RESULTS_JSON = "application/sparql-results+json"
RESULTS_XML = "application/sparql-results+xml"
TABULAR = (RESULTS_JSON, RESULTS_XML, "text/csv", "text/tab-separated-values")
RDF_PARSERS = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
    "application/trig": "trig",
    "application/n-quads": "nquads",
}
#: An update that empties every graph, or a write that replaces the default graph (the union of
#: all graphs): on the curated store it would have to replace curated data.
EMPTIES_ALL = re.compile(r"\b(CLEAR|DROP)\s+(SILENT\s+)?(ALL|NAMED|DEFAULT)\b", re.IGNORECASE)


def test_the_manifests_hold_48_cases() -> None:
    assert len(CASES) == 48
    assert len({case.name for case in CASES}) == 48


@dataclass(frozen=True)
class Served:
    """A running ``kg serve`` and the graphs its project's files provide."""

    url: str
    curated: frozenset[str]
    protects_curated: bool


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
        yield Served(url, curated, env.get("KG_ALLOW_CURATED_REMOVAL") != "1")
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


def replaces_curated(case: Case) -> bool:
    """True if a request of ``case`` meant to succeed empties every graph or replaces the
    default graph."""
    for req in case.requests:
        if not req.expected.allows(204) and not req.expected.allows(200):
            continue
        text = urllib.parse.unquote_plus((req.body or b"").decode("utf-8", "replace"))
        if EMPTIES_ALL.search(text):
            return True
        if req.method in ("PUT", "DELETE") and req.path.endswith("?default"):
            return True
    return False


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_w3c_case(served: Served, case: Case) -> None:
    if served.protects_curated and replaces_curated(case):
        pytest.skip(
            f"{case.name} would replace curated data (the project's graphs): run on scratch"
        )
    _reset(served)
    for label, path in case.graph_data.items():
        _load(served, label, path)
    variables: dict[str, str] = {}
    for number, req in enumerate(case.requests, 1):
        response = _send(served, req, variables)
        where = f"{case.name}, request {number} ({req.method} {req.path[:60]})"
        _check(req, response, variables, where)


def _reset(served: Served) -> None:
    """Drop every graph no file of the project provides (what earlier cases wrote)."""
    answer = requests.get(
        served.url + "/sparql",
        params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }"},
        headers={"Accept": RESULTS_JSON},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    graphs = {row["g"]["value"] for row in answer.json()["results"]["bindings"]}
    drops = [f"DROP SILENT GRAPH <{g}>" for g in sorted(graphs - served.curated)]
    update = " ;\n".join([*drops, "CLEAR SILENT DEFAULT"])
    written = requests.post(
        served.url + "/sparql", data={"update": update}, headers=_auth(), timeout=60
    )
    assert written.status_code == 204, written.text


def _load(served: Served, graph: str, path: Path) -> None:
    """ut:graphData: the graph loaded before the case, through the Graph Store."""
    headers = {**_auth(), "Content-Type": "application/n-triples"}
    response = requests.put(
        served.url + "/store",
        params={"graph": graph},
        data=path.read_bytes(),
        headers=headers,
        timeout=60,
    )
    assert response.status_code in (201, 204), response.text


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


def local_path(path: str) -> str:
    """The manifest's path on this server."""
    if path.startswith("/sparql/"):
        return "/sparql" + path[len("/sparql/") :]
    if path.startswith("/gsp/"):
        return "/graph/" + path[len("/gsp/") :]
    if path == "/gsp" or path.startswith("/gsp?"):
        return "/store" + path[len("/gsp") :]
    raise AssertionError(f"a path the manifests do not use: {path}")


def _send(served: Served, req: Request, variables: dict[str, str]) -> requests.Response:
    path, body = req.path, req.body
    for name, value in variables.items():
        path = path.replace(name, value)
        body = body.replace(name.encode(), value.encode()) if body is not None else None
    headers = {**req.headers, **_auth()}
    return requests.request(
        req.method,
        served.url + local_path(path),
        data=body,
        headers=headers,
        allow_redirects=False,
        timeout=60,
    )


def _check(
    req: Request, response: requests.Response, variables: dict[str, str], where: str
) -> None:
    expected = req.expected
    assert expected.allows(response.status_code), (
        f"{where}: {response.status_code} {response.text[:300]}"
    )
    if expected.location:
        assert "Location" in response.headers, where
        variables[expected.location] = response.headers["Location"]
    media_type, params = _media_type(response.headers.get("Content-Type", ""))
    if expected.content_type:
        assert (media_type, params) == _media_type(expected.content_type), where
    if expected.result_format == "boolean":
        assert media_type in (RESULTS_JSON, RESULTS_XML), where
        if expected.boolean is not None:
            assert _boolean(response.content, media_type) is expected.boolean, where
    elif expected.result_format == "tabular":
        assert media_type in TABULAR, where
    elif expected.result_format == "RDF":
        assert media_type in RDF_PARSERS, where
        Graph().parse(data=response.content, format=RDF_PARSERS[media_type])
    if expected.graph is not None:
        wanted = Graph().parse(data=expected.graph, format="turtle")
        got = Graph().parse(data=response.content, format=RDF_PARSERS[media_type])
        assert isomorphic(got, wanted), f"{where}: got\n{response.text}"


def _media_type(value: str) -> tuple[str, dict[str, str]]:
    parts = [p.strip() for p in value.split(";") if p.strip()]
    params = dict(p.lower().split("=", 1) for p in parts[1:])
    return (parts[0].lower() if parts else ""), params


def _boolean(body: bytes, media_type: str) -> bool:
    if media_type == RESULTS_JSON:
        return bool(json.loads(body)["boolean"])
    element = ElementTree.fromstring(body).find("{http://www.w3.org/2005/sparql-results#}boolean")
    assert element is not None
    return element.text == "true"
