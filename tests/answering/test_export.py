"""Exports for graph tools read back with the same counts; GEXF is schema-valid."""

from __future__ import annotations

import io
import json
from pathlib import Path

import networkx as nx
import pydot
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from rdflib import Dataset

from graph.answering.export import export, property_graph, select_triples
from graph.cli import cli
from graph.core.namespaces import CANONICAL_BASE
from graph.store import open_store, select_rows
from tests.conftest import HONDURAS
from tests.paths import FIXTURES, WEB

GEXF_XSD = FIXTURES / "schemas" / "gexf" / "1.2draft" / "gexf.xsd"
GRAPH_FORMATS = ["gexf", "graphml", "cytoscape", "dot"]


def read_back(name: str, body: bytes) -> nx.MultiDiGraph:
    if name == "gexf":
        return nx.read_gexf(io.BytesIO(body))
    if name == "graphml":
        return nx.read_graphml(io.BytesIO(body))
    if name == "cytoscape":
        return nx.cytoscape_graph(json.loads(body))
    dot = pydot.graph_from_dot_data(body.decode())
    assert dot
    return nx.MultiDiGraph(nx.nx_pydot.from_pydot(dot[0]))


@pytest.fixture
def expected(web_store: Path) -> nx.MultiDiGraph:
    store = open_store(web_store, read_only=True)
    return property_graph(select_triples(store, None), CANONICAL_BASE)


@pytest.mark.parametrize("name", GRAPH_FORMATS)
def test_graph_exports_read_back_with_the_same_counts(
    web_store: Path, expected: nx.MultiDiGraph, name: str
) -> None:
    body = export(open_store(web_store, read_only=True), name, CANONICAL_BASE)
    graph = read_back(name, body)
    assert graph.number_of_nodes() == expected.number_of_nodes() > 10
    assert graph.number_of_edges() == expected.number_of_edges() > 5


def test_literals_are_attributes_and_nodes_carry_label_class_iri(
    expected: nx.MultiDiGraph,
) -> None:
    honduras = expected.nodes[HONDURAS]
    assert honduras["label"] == "Honduras"
    assert honduras["class"] == "ag:Country"
    assert honduras["iri"] == HONDURAS
    assert honduras["ag:iso3166Alpha2"] == "HN"
    assert "HN" not in expected
    edge = next(
        iter(
            expected.get_edge_data(CANONICAL_BASE + "id/organization/weprotect", HONDURAS).values()
        )
    )
    assert edge["label"] == "ag:member" and edge["iri"].endswith("ontology#member")


def test_gexf_validates_against_the_schema(web_store: Path) -> None:
    if not GEXF_XSD.is_file():
        pytest.fail(f"the GEXF schema is missing at {GEXF_XSD}")
    schema = etree.XMLSchema(etree.parse(str(GEXF_XSD)))
    body = export(open_store(web_store, read_only=True), "gexf", CANONICAL_BASE)
    document = etree.fromstring(body)
    assert schema.validate(document), schema.error_log


@pytest.mark.parametrize("name", ["nquads", "trig", "jsonld"])
def test_rdf_exports_hold_every_quad(web_store: Path, name: str) -> None:
    store = open_store(web_store, read_only=True)
    count = int(select_rows(store, "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }")[0]["n"])
    body = export(store, name, CANONICAL_BASE)
    fmt = {"nquads": "nquads", "trig": "trig", "jsonld": "json-ld"}[name]
    dataset = Dataset().parse(data=body, format=fmt)
    assert len(dataset) == count


def test_cli_export_of_a_construct_query(web_store: Path, tmp_path: Path) -> None:
    query = WEB / "queries" / "neighbourhood.rq"
    out = tmp_path / "members.graphml"
    result = CliRunner().invoke(
        cli,
        [
            "export",
            "--format",
            "graphml",
            "--query",
            str(query),
            "--out",
            str(out),
            "--store",
            str(web_store),
        ],
    )
    assert result.exit_code == 0, result.output
    graph = nx.read_graphml(out)
    assert HONDURAS in graph
    assert graph.number_of_nodes() < 20


def test_cli_export_refuses_a_select(web_store: Path, tmp_path: Path) -> None:
    query = tmp_path / "select.rq"
    query.write_text("SELECT * { ?s ?p ?o }")
    result = CliRunner().invoke(
        cli, ["export", "--format", "gexf", "--query", str(query), "--store", str(web_store)]
    )
    assert result.exit_code == 1
    assert "CONSTRUCT" in result.output


def test_http_export(web_client: FlaskClient) -> None:
    response = web_client.get(
        "/export/cytoscape",
        query_string={
            "query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s a ?place ; ?p ?o "
            "FILTER(?place = <https://w3id.org/alliance-graph/ontology#Place>) }"
        },
    )
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert nx.cytoscape_graph(json.loads(response.data)).number_of_nodes() >= 3
    assert web_client.get("/export/xlsx").status_code == 404
    assert web_client.get("/export/gexf", query_string={"query": "CONSTRUCT {"}).status_code == 400


CONTROL = "bell\x07 nul\x00 esc\x1b"


@pytest.mark.parametrize("name", ["gexf", "graphml"])
def test_xml_exports_of_a_literal_holding_control_characters(name: str) -> None:
    """Issue 11, item 9: one stored NUL made /export/gexf and /export/graphml a 500 for all.

    Characters XML 1.0 cannot hold become U+FFFD; the file is well-formed XML."""
    from graph.http.app import create_app
    from graph.store import Literal, NamedNode, Quad, memory_store

    subject = NamedNode("https://w3id.org/alliance-graph/id/x")
    label = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    store = memory_store([Quad(subject, label, Literal(CONTROL))])
    client = create_app({"TESTING": True, "STORE_HANDLE": store, "WRITE_TOKEN": ""}).test_client()
    response = client.get(f"/export/{name}")
    assert response.status_code == 200
    graph = read_back(name, response.data)
    assert graph.nodes[subject.value]["label"] == "bell\ufffd nul\ufffd esc\ufffd"


def test_graph_exports_over_the_limit_are_refused_with_413(web_app: Flask) -> None:
    """Issue 11, item 8: a graph format is built in memory, so the web bounds what it reads."""
    web_app.config["MAX_GRAPH_EXPORT"] = 10
    client = web_app.test_client()
    for path in ("/export/gexf", "/export/cytoscape", "/explore/elements.json"):
        response = client.get(path)
        assert response.status_code == 413, path
        assert "kg export" in response.get_data(as_text=True)
    small = "CONSTRUCT WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?o } LIMIT 3"
    assert client.get("/export/gexf", query_string={"query": small}).status_code == 200
    # RDF formats of the whole dataset are streamed, so they have no such limit.
    whole = client.get("/export/nquads")
    assert whole.status_code == 200 and whole.is_streamed
    assert len(whole.get_data().splitlines()) > 10


TRIPLE_TERM = (
    "CONSTRUCT { <https://w3id.org/alliance-graph/id/x> <http://e.org/says>"
    " <<( <https://w3id.org/alliance-graph/id/x> <http://e.org/p> <http://e.org/o> )>> } WHERE {}"
)


@pytest.mark.parametrize("name", GRAPH_FORMATS)
def test_a_triple_term_is_a_node_of_its_own(web_client: FlaskClient, name: str) -> None:
    """An RDF 1.2 triple term in a CONSTRUCT's result made every graph export a 500 (it has no
    ``value``): it is a node named as SPARQL writes it, linked from its subject."""
    response = web_client.get(f"/export/{name}", query_string={"query": TRIPLE_TERM})
    assert response.status_code == 200, response.get_data(as_text=True)
    graph = read_back(name, response.data)
    assert graph.number_of_nodes() == 2 and graph.number_of_edges() == 1
    if name != "dot":  # DOT nodes are n0, n1 ... with the name in an attribute
        assert (
            "<<( <https://w3id.org/alliance-graph/id/x> <http://e.org/p> <http://e.org/o> )>>"
            in graph
        )


def test_json_ld_refuses_a_triple_term_with_406(web_client: FlaskClient) -> None:
    """JSON-LD cannot hold a triple term; Oxigraph's refusal (an OSError) read as a store
    failure, a 503; every JSON-LD route now says what to ask for instead."""
    compacted = 'application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"'
    answers = [
        web_client.get("/export/jsonld", query_string={"query": TRIPLE_TERM}),
        web_client.get(
            "/sparql",
            query_string={"query": TRIPLE_TERM},
            headers={"Accept": "application/ld+json"},
        ),
        web_client.get(
            "/sparql", query_string={"query": TRIPLE_TERM}, headers={"Accept": compacted}
        ),
    ]
    for response in answers:
        assert response.status_code == 406, response.get_data(as_text=True)
        assert "triple term" in response.get_data(as_text=True)
    turtle = web_client.get(
        "/sparql", query_string={"query": TRIPLE_TERM}, headers={"Accept": "text/turtle"}
    )
    assert turtle.status_code == 200 and b"<<(" in turtle.data


def test_compacted_json_ld_of_a_directional_literal_falls_back_to_expanded(
    web_client: FlaskClient,
) -> None:
    """pyld reads RDF 1.1 only: a directional language tag made compaction a 500."""
    query = (
        'CONSTRUCT { <https://w3id.org/alliance-graph/id/x> <http://e.org/p> "x"@en--ltr } WHERE {}'
    )
    compacted = 'application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"'
    response = web_client.get(
        "/sparql", query_string={"query": query}, headers={"Accept": compacted}
    )
    assert response.status_code == 200
    (node,) = response.json
    assert node["@id"] == "https://w3id.org/alliance-graph/id/x"
    assert node["http://e.org/p"][0]["@value"] == "x"


def test_dot_quotes_what_would_break_the_file() -> None:
    """pydot left ``<...>`` unquoted (an HTML-like label in DOT) and a trailing backslash
    escaped the closing quote; both now read back as the data says."""
    from graph.store import Literal, NamedNode, Quad, memory_store

    subject = NamedNode("https://w3id.org/alliance-graph/id/x")
    label = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    for text in ("<b>bold</b>", "ends in a backslash \\", 'say "hi"'):
        store = memory_store([Quad(subject, label, Literal(text))])
        body = export(store, "dot", CANONICAL_BASE)
        (dot,) = pydot.graph_from_dot_data(body.decode())
        (node,) = [n for n in dot.get_nodes() if n.get_name() == "n0"]
        quoted = node.get_attributes()["label"]
        assert quoted.startswith('"') and quoted.endswith('"'), quoted
        assert quoted[1:-1].replace('\\"', '"').replace("\\\\", "\\") == text
