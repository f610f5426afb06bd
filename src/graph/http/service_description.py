"""Describe the service: SPARQL 1.1 Service Description at GET /sparql and VoID at
/.well-known/void, with the figures computed once per version of the store, per application.

https://www.w3.org/TR/sparql11-service-description/ and https://www.w3.org/TR/void/
"""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, Flask, Response, current_app, request

from graph.answering import queries
from graph.answering.store_version import Derived
from graph.http.context import external_store, get_store, store_version
from graph.http.negotiate import choose
from graph.store import BlankNode, Literal, NamedNode, Quad, RdfFormat, select_rows, serialize_quads

blueprint = Blueprint("description", __name__)

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
FORMATS = "http://www.w3.org/ns/formats/"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DCTERMS = "http://purl.org/dc/terms/"
XSD_INTEGER = NamedNode("http://www.w3.org/2001/XMLSchema#integer")

#: The RDF formats these documents are offered in, most preferred first.
RDF_TYPES = (
    "text/turtle",
    "application/ld+json",
    "application/n-triples",
    "application/rdf+xml",
    "application/trig",
    "application/n-quads",
)
RESULT_FORMATS = (
    "SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
    "Turtle", "N-Triples", "N-Quads", "TriG", "RDF_XML", "JSON-LD",
)  # fmt: skip
#: Dump routes (served by graph.exports) that VoID links to.
DUMPS = ("dumps/alliance-graph.nq", "dumps/alliance-graph.trig")


def init_app(app: Flask) -> None:
    """Register /.well-known/void (GET /sparql without a query is routed here by the endpoint)."""
    app.extensions["kg.figures"] = Derived[dict[str, Any]](store_version(app))
    app.register_blueprint(blueprint)


def figures() -> dict[str, Any]:
    """Triples, distinct subjects/properties/objects, classes, entities, triples per graph.

    Computed once per version of the application's store, except over an external store: it
    changes without this process knowing (a build from elsewhere), so they are counted afresh.
    """
    if external_store():
        return _count_figures()
    return cast(Derived[dict[str, Any]], current_app.extensions["kg.figures"]).get(_count_figures)


def _count_figures() -> dict[str, Any]:
    store = get_store()
    row: dict[str, Any] = {
        k: int(v) for k, v in select_rows(store, queries.DATASET_FIGURES)[0].items()
    }
    row.update({k: int(v) for k, v in select_rows(store, queries.DATASET_TYPES)[0].items()})
    row["graphs"] = {
        r["graph"]: int(r["triples"]) for r in select_rows(store, queries.TRIPLES_PER_GRAPH)
    }
    return row


def _integer(value: int) -> Literal:
    return Literal(str(value), datatype=XSD_INTEGER)


def _rdf_response(triples: list[tuple[Any, Any, Any]]) -> Response:
    media_type = choose(request.headers.get("Accept"), RDF_TYPES, request.args.get("format"))
    fmt = RdfFormat.from_media_type(media_type)
    assert fmt is not None  # every offered type is an RDF format
    body = serialize_quads((Quad(s, p, o) for s, p, o in triples), fmt)
    return Response(body, 200, {"Vary": "Accept"}, content_type=media_type)


def service_description_response() -> Response:
    """The Service Description of this endpoint, in the RDF format the client prefers."""
    endpoint = NamedNode(request.url_root + "sparql")
    config = current_app.config
    facts = figures()
    service, dataset, default = BlankNode(), BlankNode(), BlankNode()
    triples: list[tuple[Any, Any, Any]] = [
        (service, RDF_TYPE, NamedNode(SD + "Service")),
        (service, NamedNode(SD + "endpoint"), endpoint),
        (service, NamedNode(SD + "supportedLanguage"), NamedNode(SD + "SPARQL11Query")),
        (service, NamedNode(SD + "feature"), NamedNode(SD + "UnionDefaultGraph")),
        (service, NamedNode(SD + "defaultDataset"), dataset),
        (dataset, RDF_TYPE, NamedNode(SD + "Dataset")),
        (dataset, NamedNode(SD + "defaultGraph"), default),
        (default, RDF_TYPE, NamedNode(SD + "Graph")),
        (default, NamedNode(VOID + "triples"), _integer(facts["triples"])),
    ]
    if config["WRITE_TOKEN"] and not external_store():
        triples.append(
            (service, NamedNode(SD + "supportedLanguage"), NamedNode(SD + "SPARQL11Update"))
        )
    if config["SERVICE_ALLOWLIST"]:
        triples.append((service, NamedNode(SD + "feature"), NamedNode(SD + "BasicFederatedQuery")))
    for name in RESULT_FORMATS:
        triples.append((service, NamedNode(SD + "resultFormat"), NamedNode(FORMATS + name)))
    for graph, count in facts["graphs"].items():
        named, described = BlankNode(), BlankNode()
        triples += [
            (dataset, NamedNode(SD + "namedGraph"), named),
            (named, RDF_TYPE, NamedNode(SD + "NamedGraph")),
            (named, NamedNode(SD + "name"), NamedNode(graph)),
            (named, NamedNode(SD + "graph"), described),
            (described, RDF_TYPE, NamedNode(SD + "Graph")),
            (described, NamedNode(VOID + "triples"), _integer(count)),
        ]
    return _rdf_response(triples)


@blueprint.route("/.well-known/void")
def void() -> Response:
    """The VoID description of the dataset (https://www.w3.org/TR/void/#well-known)."""
    base = current_app.config["BASE_IRI"]
    root = request.url_root
    dataset = NamedNode(base + "dataset")
    facts = figures()
    triples: list[tuple[Any, Any, Any]] = [
        (dataset, RDF_TYPE, NamedNode(VOID + "Dataset")),
        (dataset, NamedNode(DCTERMS + "title"), Literal("Alliance Graph", language="en")),
        (dataset, NamedNode(VOID + "sparqlEndpoint"), NamedNode(root + "sparql")),
        (dataset, NamedNode(VOID + "uriSpace"), Literal(base + "id/")),
    ]
    for dump in DUMPS:
        triples.append((dataset, NamedNode(VOID + "dataDump"), NamedNode(root + dump)))
    for key, prop in (
        ("triples", "triples"),
        ("entities", "entities"),
        ("classes", "classes"),
        ("properties", "properties"),
        ("subjects", "distinctSubjects"),
        ("objects", "distinctObjects"),
    ):
        triples.append((dataset, NamedNode(VOID + prop), _integer(facts[key])))
    for graph, count in facts["graphs"].items():
        subset = NamedNode(graph)
        triples += [
            (dataset, NamedNode(VOID + "subset"), subset),
            (subset, RDF_TYPE, NamedNode(VOID + "Dataset")),
            (subset, NamedNode(SD + "name"), subset),
            (subset, NamedNode(VOID + "triples"), _integer(count)),
        ]
    return _rdf_response(triples)
