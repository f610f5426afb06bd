"""Bad input over HTTP: /sparql and /store answer 4xx with a message, never 5xx, write nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.reliability.conftest import CORPUS, Figures, add

from graph.core.namespaces import CANONICAL_BASE
from graph.store import MAX_QUERY_NESTING, Store, dump_nquads

#: Hypothesis examples of random request bodies.
RANDOM_BODIES = 60
AUTH = {"Authorization": "Bearer t0ken"}
NEW_GRAPH = CANONICAL_BASE + "graph/new"
MEDIA_TYPES = {
    ".ttl": "text/turtle",
    ".nt": "application/n-triples",
    ".nq": "application/n-quads",
    ".trig": "application/trig",
    ".jsonld": "application/ld+json",
    ".rdf": "application/rdf+xml",
}
BAD_QUERIES = [
    "SELEC * WHERE { }",
    "SELECT * WHERE {\n  ?s ?p ?o\n",
    "",
    "PREFIX : <http://a b/> ASK {}",
    "SELECT * WHERE { FILTER(" + "(" * 20000 + "1" + ")" * 20000 + ") }",
    "ASK {" + "{" * (MAX_QUERY_NESTING + 1) + "}" * (MAX_QUERY_NESTING + 1) + "}",
    "SELECT * WHERE { ?s ?p ?o " + "?s ?p ?o . " * 20000,
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { " + "{" * 20000 + "}" * 20000 + " } }",
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
]
BAD_UPDATES = [
    "INSERT DATA { <urn:a> <urn:b> }",
    "INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> . } } ; DELETE WHERE { ?s }",
    "INSERT DATA {" + "{" * 5000 + "}" * 5000 + "}",
    "DROP GRAPH <urn:no-such-graph>",
    "LOAD <http://127.0.0.1:9/data.ttl>",
    "LOAD <http://127.0.0.1:9/data.ttl> ; INSERT DATA {" + "{" * 20000 + "}" * 20000 + "}",
]


@pytest.fixture
def client(write_app: Callable[..., Flask]) -> FlaskClient:
    return write_app().test_client()


def check(response: object, figures: Figures, before: bytes, store: Store) -> None:
    """A 4xx with a message and no traceback, and the store as it was."""
    from werkzeug.test import TestResponse

    assert isinstance(response, TestResponse)
    add(figures, "http_bad_requests_tried", 1)
    figures.setdefault("http_5xx_seen", 0)
    if response.status_code >= 500:
        add(figures, "http_5xx_seen", 1)
    body = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500, (response.status_code, body[:300])
    assert "Traceback" not in body
    assert body.strip()
    assert dump_nquads(store) == before


@pytest.mark.parametrize(("suffix", "content", "where"), CORPUS)
def test_put_of_a_bad_document_is_a_4xx_and_writes_nothing(
    client: FlaskClient, writable: Store, figures: Figures, suffix: str, content: bytes, where: str
) -> None:
    before = dump_nquads(writable)
    headers = {"Content-Type": MEDIA_TYPES[suffix], **AUTH}
    response = client.put(
        "/store", query_string={"graph": NEW_GRAPH}, data=content, headers=headers
    )
    check(response, figures, before, writable)


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_bad_query_is_a_400(
    client: FlaskClient, writable: Store, figures: Figures, query: str
) -> None:
    before = dump_nquads(writable)
    check(client.post("/sparql", data={"query": query}), figures, before, writable)


@pytest.mark.parametrize("update", BAD_UPDATES)
def test_bad_update_is_a_4xx_and_writes_nothing(
    client: FlaskClient, writable: Store, figures: Figures, update: str
) -> None:
    before = dump_nquads(writable)
    check(client.post("/sparql", data={"update": update}, headers=AUTH), figures, before, writable)


@settings(
    max_examples=RANDOM_BODIES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    body=st.binary(max_size=200) | st.text(max_size=200).map(lambda t: t.encode()),
    media_type=st.sampled_from(sorted(MEDIA_TYPES.values())),
)
def test_random_bodies_never_cause_a_5xx(
    client: FlaskClient, writable: Store, figures: Figures, body: bytes, media_type: str
) -> None:
    before = dump_nquads(writable)
    headers = {"Content-Type": media_type, **AUTH}
    response = client.post("/store", query_string={"graph": NEW_GRAPH}, data=body, headers=headers)
    add(figures, "http_random_bodies_tried", 1)
    figures.setdefault("http_5xx_seen", 0)
    if response.status_code >= 500:
        add(figures, "http_5xx_seen", 1)
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    if response.status_code >= 400:
        assert dump_nquads(writable) == before
