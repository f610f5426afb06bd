"""JSON-LD's profile parameter picks the compacted, expanded or flattened form (issue 17).

Every route that answers JSON-LD honours it: the Graph Store, CONSTRUCT results and the
resource pages. Each form holds the same triples.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from rdflib import Graph
from rdflib.compare import isomorphic

from graph.answering import jsonld
from graph.core.namespaces import CANONICAL_BASE

COUNTRIES = CANONICAL_BASE + "graph/reference-countries"
PROFILE = 'application/ld+json; profile="http://www.w3.org/ns/json-ld#{}"'
CONSTRUCT = (
    "CONSTRUCT { ?c ?p ?o } WHERE { GRAPH <" + COUNTRIES + "> { ?c ?p ?o } "
    "VALUES ?c { <https://w3id.org/alliance-graph/id/country/honduras> } }"
)


def _requests(client: FlaskClient, accept: str) -> list[Any]:
    return [
        client.get("/store", query_string={"graph": COUNTRIES}, headers={"Accept": accept}),
        client.get("/sparql", query_string={"query": CONSTRUCT}, headers={"Accept": accept}),
        client.get("/doc/country/honduras", headers={"Accept": accept}),
    ]


def _check_form(document: Any, form: str, single_subject: bool) -> None:
    if form == "expanded":  # a list of node objects, every IRI in full, no @context
        assert isinstance(document, list)
        keys = {key for node in document for key in node}
        assert all(key.startswith("@") or "://" in key for key in keys) and "@context" not in keys
        return
    assert isinstance(document, dict) and "@context" in document
    nodes = document.get("@graph", [document])
    assert any(key.startswith(("skos:", "rdfs:", "ag:")) for n in nodes for key in n)
    if form == "flattened":  # every node at the top, in @graph, even a single one
        assert set(document) == {"@context", "@graph"}
    elif single_subject:  # compacted: a single node is the document itself
        assert "@graph" not in document


@pytest.mark.parametrize("form", ["compacted", "expanded", "flattened"])
def test_the_profile_picks_the_form(client: FlaskClient, form: str) -> None:
    plain = [Graph().parse(data=r.data, format="turtle") for r in _requests(client, "text/turtle")]
    answers = zip(_requests(client, PROFILE.format(form)), plain, strict=True)
    for response, expected in answers:
        assert response.status_code == 200, response.data
        assert response.mimetype == "application/ld+json"
        document = json.loads(response.data)
        _check_form(document, form, single_subject=response.request.path == "/sparql")
        # Same triples whatever the form (a context URL is not fetched: inline it for rdflib).
        if isinstance(document, dict) and isinstance(document["@context"], str):
            document["@context"] = client.get("/context.jsonld").get_json()["@context"]
        parsed = Graph().parse(data=json.dumps(document), format="json-ld")
        assert isomorphic(parsed, expected), response.request.path


def test_a_head_with_a_charset_in_accept_is_not_406(client: FlaskClient) -> None:
    """W3C head_existing_indirect: Accept: text/turtle; charset=utf-8."""
    response = client.head(
        "/store",
        query_string={"graph": COUNTRIES},
        headers={"Accept": "text/turtle; charset=utf-8"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/turtle; charset=utf-8"
    refused = client.head(
        "/store",
        query_string={"graph": COUNTRIES},
        headers={"Accept": "text/turtle; charset=latin1"},
    )
    assert refused.status_code == 406


def test_a_large_answer_keeps_the_expanded_form(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyld is slow (docs/security.md): past RESHAPE_LIMIT triples the profile is not followed,
    on the Graph Store and on CONSTRUCT results alike."""
    monkeypatch.setattr(jsonld, "RESHAPE_LIMIT", 5)
    for response in _requests(client, PROFILE.format("compacted"))[:2]:
        assert response.status_code == 200
        document = json.loads(response.data)
        assert isinstance(document, list) and document, response.request.path
        _check_form(document, "expanded", single_subject=False)
