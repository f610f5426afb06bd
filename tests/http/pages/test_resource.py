"""Resource IRIs dereference: 303 to a negotiated document, in HTML, Turtle, JSON-LD, ..."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from pyld import jsonld
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

from graph.core.links import local_path
from graph.core.namespaces import CANONICAL_BASE
from tests.conftest import HONDURAS

AWKWARD = [
    CANONICAL_BASE + "id/place/caf%C3%A9%20central",
    CANONICAL_BASE + "id/place/são-paulo",
    CANONICAL_BASE + "id/place/o'neill-100%25",
]


def get_followed(client: FlaskClient, path: str, accept: str) -> Any:
    return client.get(path, headers={"Accept": accept}, follow_redirects=True)


def test_thing_redirects_with_303_to_the_accepted_document(web_client: FlaskClient) -> None:
    response = web_client.get("/id/country/honduras", headers={"Accept": "text/turtle"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/doc/country/honduras.ttl")
    assert "Accept" in response.headers["Vary"]
    browser = web_client.get("/id/country/honduras", headers={"Accept": "text/html,*/*;q=0.8"})
    assert browser.headers["Location"].endswith("/doc/country/honduras.html")


def test_turtle_describes_the_resource(web_client: FlaskClient) -> None:
    response = get_followed(web_client, "/id/country/honduras", "text/turtle")
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"
    graph = Graph().parse(data=response.data, format="turtle")
    subject = URIRef(HONDURAS)
    assert (
        subject,
        URIRef("http://www.w3.org/2002/07/owl#sameAs"),
        URIRef("http://www.wikidata.org/entity/Q783"),
    ) in graph
    # what points to it is in its document too
    assert (URIRef(CANONICAL_BASE + "id/organization/weprotect"), None, subject) in graph


def test_negotiated_document_names_its_variant(web_client: FlaskClient) -> None:
    response = web_client.get("/doc/country/honduras", headers={"Accept": "application/n-triples"})
    assert response.mimetype == "application/n-triples"
    assert response.headers["Content-Location"] == "/doc/country/honduras.nt"
    assert "Accept" in response.headers["Vary"]
    Graph().parse(data=response.data, format="nt")


def test_json_ld_expands_to_the_same_triples_as_turtle(web_client: FlaskClient) -> None:
    turtle = Graph().parse(data=web_client.get("/doc/country/honduras.ttl").data, format="turtle")
    response = get_followed(web_client, "/id/country/honduras", "application/ld+json")
    assert response.mimetype == "application/ld+json"
    document = json.loads(response.data)
    assert document["@context"].endswith("/context.jsonld")

    def loader(url: str, options: dict[str, Any]) -> dict[str, Any]:
        assert url.endswith("/context.jsonld"), url
        body = json.loads(web_client.get("/context.jsonld").data)
        return {"contextUrl": None, "documentUrl": url, "document": body}

    nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": loader})
    assert isomorphic(Graph().parse(data=nquads, format="nt"), turtle)


def test_rdf_xml_variant_parses(web_client: FlaskClient) -> None:
    response = web_client.get("/doc/country/honduras.rdf")
    graph = Graph().parse(data=response.data, format="xml")
    assert (URIRef(HONDURAS), None, None) in graph


def test_html_page_shows_labels_types_links_sources_and_identifiers(
    web_client: FlaskClient,
) -> None:
    response = get_followed(web_client, "/id/country/honduras", "text/html")
    page = response.data.decode()
    assert response.status_code == 200
    for text in (
        "Гондурас",
        ">ru<",
        ">es<",
        "Member state",
        "Country",
        'href="http://www.wikidata.org/entity/Q783"',
        "https://www.iso.org/obp/ui/#iso:code:3166:HN",
        "WePROTECT Global Alliance",
        "Honduras joins the alliance",
        "line 3",
    ):
        assert text in page, text
    # links under the base stay on this server
    assert 'href="/id/organization/weprotect"' in page
    assert 'href="/ontology#MemberState"' in page
    assert f'href="{CANONICAL_BASE}' not in page
    assert 'id="neighbourhood-elements"' in page


def test_markup_in_a_label_is_escaped(web_client: FlaskClient) -> None:
    page = web_client.get("/doc/organization/script-test.html").data.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page
    honduras = web_client.get("/doc/country/honduras.html").data.decode()
    assert "<script>alert" not in honduras


@pytest.mark.parametrize("iri", AWKWARD)
def test_iris_with_unusual_characters_dereference(web_client: FlaskClient, iri: str) -> None:
    path = local_path(iri, CANONICAL_BASE)
    assert path is not None
    turtle = get_followed(web_client, path, "text/turtle")
    assert turtle.status_code == 200, path
    assert (URIRef(iri), None, None) in Graph().parse(data=turtle.data, format="turtle")
    html = get_followed(web_client, path, "text/html")
    assert html.status_code == 200


def test_honduras_page_links_the_awkward_iris_so_that_they_work(web_client: FlaskClient) -> None:
    page = web_client.get("/doc/country/honduras.html").data.decode()
    href = local_path(AWKWARD[0], CANONICAL_BASE)
    assert f'href="{href}"' in page
    assert get_followed(web_client, str(href), "text/html").status_code == 200


def test_unknown_iri_is_a_404_page(web_client: FlaskClient) -> None:
    browser = web_client.get("/id/country/atlantis", headers={"Accept": "text/html"})
    assert browser.status_code == 404
    assert browser.mimetype == "text/html"
    assert "atlantis" in browser.data.decode()
    machine = web_client.get("/doc/country/atlantis.ttl", headers={"Accept": "text/turtle"})
    assert machine.status_code == 404
    nowhere = web_client.get("/no/such/page", headers={"Accept": "text/html"})
    assert nowhere.status_code == 404 and nowhere.mimetype == "text/html"


def test_unacceptable_type_is_406(web_client: FlaskClient) -> None:
    response = web_client.get("/id/country/honduras", headers={"Accept": "image/png"})
    assert response.status_code == 406


def test_ontology_is_a_hash_namespace(web_client: FlaskClient) -> None:
    page = web_client.get("/ontology", headers={"Accept": "text/html"})
    assert page.headers["Content-Location"] == "/ontology.html"
    assert 'id="Country"' in page.data.decode()
    turtle = Graph().parse(data=web_client.get("/ontology.ttl").data, format="turtle")
    assert (URIRef(CANONICAL_BASE + "ontology#Country"), None, None) in turtle
    assert web_client.get("/ontology.xyz").status_code == 404


def test_context_has_prefixes_and_kinds(web_client: FlaskClient) -> None:
    context = json.loads(web_client.get("/context.jsonld").data)["@context"]
    assert context["ag"] == CANONICAL_BASE + "ontology#"
    assert context["country"] == CANONICAL_BASE + "id/country/"
