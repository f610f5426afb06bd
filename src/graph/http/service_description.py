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
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_INTEGER = NamedNode(XSD + "integer")
ANY_URI = NamedNode(XSD + "anyURI")
SH = "http://www.w3.org/ns/shacl#"

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


#: Prefixes the descriptions are written with (Turtle, TriG, RDF/XML).
WRITTEN_WITH = {
    "sd": SD,
    "void": VOID,
    "sh": SH,
    "xsd": XSD,
    "formats": FORMATS,
    "dcterms": DCTERMS,
}


def _rdf_response(triples: list[tuple[Any, Any, Any]]) -> Response:
    media_type = choose(request.headers.get("Accept"), RDF_TYPES, request.args.get("format"))
    fmt = RdfFormat.from_media_type(media_type)
    assert fmt is not None  # every offered type is an RDF format
    named = fmt in (RdfFormat.TURTLE, RdfFormat.TRIG, RdfFormat.RDF_XML)
    body = serialize_quads(
        (Quad(s, p, o) for s, p, o in triples), fmt, WRITTEN_WITH if named else None
    )
    return Response(body, 200, {"Vary": "Accept"}, content_type=media_type)


def wants_html() -> bool:
    """True when the client (a browser) prefers a page to the description's RDF; a client that
    names no type, or ``*/*`` only (curl, SPARQL libraries), gets RDF."""
    accept = request.headers.get("Accept")
    if request.args.get("format") or not accept or "text/html" not in accept:
        return False
    return choose(accept, (*RDF_TYPES, "text/html")) == "text/html"


def prefix_declarations(service: NamedNode, declared: dict[str, str]) -> list[Any]:
    """``service sh:declare [ sh:prefix "ag" ; sh:namespace "..."^^xsd:anyURI ]`` for each
    prefix declared for every query: SHACL's vocabulary for prefix declarations
    (https://www.w3.org/TR/shacl/#sparql-prefixes), which SPARQL editors such as SIB's
    sparql-editor read to offer an endpoint's prefixes; the Service Description vocabulary has
    no term for them."""
    triples: list[Any] = []
    for name, namespace in declared.items():
        declaration = BlankNode()
        triples += [
            (service, NamedNode(SH + "declare"), declaration),
            (declaration, NamedNode(SH + "prefix"), Literal(name)),
            (declaration, NamedNode(SH + "namespace"), Literal(namespace, datatype=ANY_URI)),
        ]
    return triples


def service_description_response(declared: dict[str, str]) -> Response:
    """The Service Description of this endpoint, in the RDF format the client prefers;
    ``declared`` are the prefixes every query gets."""
    endpoint = NamedNode(request.url_root + "sparql")
    config = current_app.config
    facts = figures()
    # The endpoint's URL names the service, as on most public endpoints; hash IRIs its
    # dataset and default graph, so that the Turtle reads without blank-node labels.
    service = endpoint
    dataset, default = (
        NamedNode(endpoint.value + "#dataset"),
        NamedNode(endpoint.value + "#default"),
    )
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
    triples += prefix_declarations(service, declared)
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
