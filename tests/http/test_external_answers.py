"""Over an external store whose answer breaks off or holds a row that does not parse, every
route answers the domain's 503, and a dump already streaming is cut off where the client can
tell, never ended as if it were whole (brief h13r, item 1). Against a fake store on 127.0.0.1
(tests/fake_sparql_store.py)."""

from __future__ import annotations

import http.client
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.core.namespaces import CANONICAL_BASE, graph_iri
from graph.http.app import create_app
from tests.conftest import ROOT
from tests.fake_sparql_store import (
    BROKEN_LATER,
    CUTS,
    Answer,
    FakeStore,
    graphs_then_broken,
    rows,
    running_fake_store,
)
from tests.processes import free_port, kg_serve

#: Routes that read the store: the endpoint, pages of the project's own queries, the explorer's
#: drawing of a visitor's CONSTRUCT and an export of it.
ROUTES = [
    ("/sparql", {"query": "SELECT * { ?s ?p ?o }"}),
    ("/dataset", {}),
    ("/explore", {}),
    ("/explore/elements.json", {"query": "CONSTRUCT WHERE { ?s ?p ?o }"}),
    ("/export/graphml", {"query": "CONSTRUCT WHERE { ?s ?p ?o }"}),
]


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStore]:
    """One fake store for the module: every test sets its answers first."""
    with running_fake_store() as store:
        yield store


def _settings(url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "STORE": url,
        "STORE_KIND": "oxigraph",
        "BASE_IRI": CANONICAL_BASE,
        "PROJECT_DIR": str(ROOT),
        "WRITE_TOKEN": "",
    }


#: Good triples, then a line that does not parse.
BROKEN_TRIPLES = b"<urn:x:a> <urn:x:b> <urn:x:c> .\n<urn:x:a> <urn:x:b> <not an iri .\n"


def _broken(query: str, broken: str) -> Answer:
    """The answer to ``query``, SPARQL results or (for a CONSTRUCT) N-Triples: with a bad row
    (``bad-row``) or broken off (one of CUTS)."""
    if "CONSTRUCT" in query:
        media_type, whole = "application/n-triples", BROKEN_TRIPLES.split(b"\n")[0] * 40
        bad = BROKEN_TRIPLES
    else:
        media_type, whole = "application/sparql-results+json", rows("urn:x:a", "urn:x:b")
        bad = BROKEN_LATER["json"][1]
    return (media_type, bad, "") if broken == "bad-row" else (media_type, whole, broken)


@pytest.mark.parametrize(("path", "args"), ROUTES, ids=[r[0] for r in ROUTES])
@pytest.mark.parametrize("broken", ["bad-row", *CUTS])
def test_a_broken_answer_is_a_503_on_every_route(
    fake: FakeStore, path: str, args: dict[str, str], broken: str
) -> None:
    fake.route = lambda query: _broken(query, broken)
    response = create_app(_settings(fake.url)).test_client().get(path, query_string=args)
    assert response.status_code == 503, response.data[:500]
    assert b"the external store" in response.data
    assert b"Traceback" not in response.data


@pytest.fixture(scope="module", params=["granian", "gunicorn"])
def served(fake: FakeStore, request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[str]:
    """A real ``kg serve --store URL`` over the fake store, under each HTTP server."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    healthy = graphs_then_broken(graph_iri("", CANONICAL_BASE), "")
    true = ("application/sparql-results+json", b'{"head":{},"boolean":true}', "")
    fake.route = lambda query: healthy(query) if "SELECT DISTINCT ?g" in query else true
    env = dict(os.environ, KG_WORKERS="1", KG_BASE_IRI=CANONICAL_BASE, KG_PROJECT_DIR=str(ROOT))
    arguments = ["--no-access-log", "--store", fake.url, "--store-kind", "oxigraph",
                 "--http-server", request.param]  # fmt: skip
    with kg_serve(arguments, free_port(), env, log, cwd=Path(log).parent) as url:
        yield url


@pytest.mark.server
@pytest.mark.parametrize("broken", ["bad-row", *CUTS])
def test_a_dump_that_breaks_off_is_cut_off_for_the_client(
    fake: FakeStore, served: str, broken: str
) -> None:
    """The head (200) is sent before the second graph is asked for: the body must end so
    that the client can tell it is not whole (no last chunk), after the first graph."""
    fake.route = graphs_then_broken(
        graph_iri("", CANONICAL_BASE), "" if broken == "bad-row" else broken
    )
    host, port = served.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("GET", "/dumps/alliance-graph.nq")
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()
    assert b"<urn:x:first>" in cut.value.partial
    connection.close()
