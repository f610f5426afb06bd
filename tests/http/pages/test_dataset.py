"""The DCAT description and the streamed dumps."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF

from graph.core.namespaces import CANONICAL_BASE
from graph.store import open_store, select_rows

DCAT = Namespace("http://www.w3.org/ns/dcat#")
VOID = Namespace("http://rdfs.org/ns/void#")
DATASET = URIRef(CANONICAL_BASE + "dataset")


def quad_count(web_store: Path) -> int:
    store = open_store(web_store, read_only=True)
    return int(select_rows(store, "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }")[0]["n"])


def test_dcat_description(web_client: FlaskClient, web_store: Path) -> None:
    response = web_client.get("/dataset", headers={"Accept": "text/turtle"})
    assert response.headers["Content-Location"] == "/dataset.ttl"
    graph = Graph().parse(data=response.data, format="turtle")
    assert (DATASET, RDF.type, DCAT.Dataset) in graph
    assert (
        DATASET,
        DCTERMS.license,
        URIRef("https://creativecommons.org/licenses/by/4.0/"),
    ) in graph
    assert graph.value(DATASET, DCTERMS.publisher) is not None
    assert graph.value(DATASET, VOID.triples).toPython() == quad_count(web_store)  # type: ignore[union-attr]
    downloads = {
        str(graph.value(d, DCAT.downloadURL)) for d in graph.objects(DATASET, DCAT.distribution)
    }
    assert {
        "http://localhost/dumps/alliance-graph." + s for s in ("nq", "trig", "jsonld")
    } <= downloads
    services = list(graph.subjects(DCAT.endpointURL, URIRef("http://localhost/sparql")))
    assert services
    assert URIRef(CANONICAL_BASE + "ontology#") in set(graph.objects(DATASET, VOID.vocabulary))
    assert URIRef(CANONICAL_BASE + "id/country/honduras") in set(
        graph.objects(DATASET, VOID.exampleResource)
    )
    assert (DATASET, DCTERMS.title, Literal("Alliance Graph", lang="en")) in graph


def test_dcat_in_json_ld_and_html(web_client: FlaskClient) -> None:
    document = web_client.get("/dataset", headers={"Accept": "application/ld+json"})
    assert document.mimetype == "application/ld+json"
    page = web_client.get("/dataset", headers={"Accept": "text/html"}).data.decode()
    assert "/dumps/alliance-graph.nq" in page and "CC BY 4.0" in page


@pytest.mark.parametrize(
    ("suffix", "fmt"), [("nq", "nquads"), ("trig", "trig"), ("jsonld", "json-ld")]
)
def test_dumps_hold_every_quad_in_its_graph(
    web_client: FlaskClient, web_store: Path, suffix: str, fmt: str
) -> None:
    response = web_client.get(f"/dumps/alliance-graph.{suffix}")
    assert response.status_code == 200
    assert response.is_streamed
    dataset = Dataset().parse(data=response.data, format=fmt)
    assert len(dataset) == quad_count(web_store)
    graphs = {str(g.identifier) for g in dataset.graphs()}
    assert CANONICAL_BASE + "graph/reference-countries" in graphs


def test_unknown_dump_is_404(web_client: FlaskClient) -> None:
    assert web_client.get("/dumps/alliance-graph.zip").status_code == 404


def test_front_page_links_the_dumps_and_examples(web_client: FlaskClient) -> None:
    page = web_client.get("/").data.decode()
    for suffix in ("nq", "trig", "jsonld"):
        assert f"/dumps/alliance-graph.{suffix}" in page
    # the example's title comes from its first comment line, escaped
    assert "Which countries are members of which alliance? &lt;b&gt;bold&lt;/b&gt;" in page
    assert "PREFIX ag: \\u003chttps://w3id.org/alliance-graph/ontology#\\u003e" in page
    assert "vendor/yasgui/yasgui.min.js" in page


def test_explorer_elements(web_client: FlaskClient) -> None:
    elements = web_client.get("/explore/elements.json").get_json()
    nodes = [e for e in elements if "source" not in e["data"]]
    edges = [e for e in elements if "source" in e["data"]]
    assert nodes and edges
    honduras = next(n for n in nodes if n["data"]["id"] == CANONICAL_BASE + "id/country/honduras")
    assert honduras["data"]["href"] == "/id/country/honduras"
    assert honduras["data"]["class"] == "ag:Country"
    bad = web_client.get("/explore/elements.json", query_string={"query": "SELECT * {?s ?p ?o}"})
    assert bad.status_code == 400
