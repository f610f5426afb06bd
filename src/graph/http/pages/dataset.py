"""``/dataset``: the DCAT description of the graph (with VoID figures), and ``/dumps/``, the
whole dataset streamed by Oxigraph in N-Quads, TriG and JSON-LD.

Follows DCAT 3 (https://www.w3.org/TR/vocab-dcat-3/): a dcat:Dataset with a dcat:Distribution
per dump and one whose dcat:accessService is the SPARQL endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for

from graph.answering import queries
from graph.answering.jsonld import compact_nquads, document_prefixes
from graph.core.errors import NotFound
from graph.core.links import local_path, prefixes
from graph.core.namespaces import DCAT, DCTERMS, FOAF, RDF, VOID, XSD
from graph.http.context import get_store
from graph.http.negotiate import choose, jsonld_profile
from graph.store import (
    BlankNode,
    Literal,
    NamedNode,
    QuerySolutions,
    Triple,
    run_query,
    select_rows,
    serialize_triples,
    stream_dump,
)

bp = Blueprint("dataset", __name__)

LICENCE = "https://creativecommons.org/licenses/by/4.0/"
SPARQL_PROTOCOL = "https://www.w3.org/TR/sparql11-protocol/"
TITLE = "Alliance Graph"
DESCRIPTION = (
    "An open knowledge graph of international cooperation against the sexual exploitation of "
    "children online and the trafficking of persons, every fact traced to a line of a source."
)
#: The dumps: file suffix -> (media type, format name).
DUMPS = {
    "nq": ("application/n-quads", "N-Quads"),
    "trig": ("application/trig", "TriG"),
    "jsonld": ("application/ld+json", "JSON-LD"),
}
OFFERED = ["text/html", "text/turtle", "application/ld+json"]


@dataclass
class Figures:
    """What the store holds: counts, the vocabularies used and a few example resources."""

    triples: int = 0
    graphs: int = 0
    entities: int = 0
    properties: int = 0
    vocabularies: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)


def figures(base: str) -> Figures:
    """Count the graph in the store and list its vocabularies and example resources."""
    store = get_store()
    names = prefixes(base)
    predicates = [row["p"] for row in select_rows(store, queries.DISTINCT_PREDICATES)]
    examples = run_query(store, queries.EXAMPLE_RESOURCES, prefixes=names)
    assert isinstance(examples, QuerySolutions)
    return Figures(
        triples=int(select_rows(store, queries.COUNT_TRIPLES)[0]["n"]),
        graphs=int(select_rows(store, queries.COUNT_GRAPHS)[0]["n"]),
        entities=int(select_rows(store, queries.COUNT_ENTITIES)[0]["n"]),
        properties=len(predicates),
        vocabularies=sorted(
            {ns for ns in names.values() if any(p.startswith(ns) for p in predicates)}
        ),
        examples=[row["example"].value for row in examples],
    )


def dcat_triples(base: str, counts: Figures) -> list[Triple]:
    """The DCAT and VoID description of the dataset."""
    dataset = NamedNode(base + "dataset")
    out: list[Triple] = []

    def add(
        subject: NamedNode | BlankNode, predicate: str, obj: NamedNode | BlankNode | Literal
    ) -> None:
        out.append(Triple(subject, NamedNode(predicate), obj))

    def number(value: int) -> Literal:
        return Literal(str(value), datatype=NamedNode(XSD + "integer"))

    add(dataset, RDF + "type", NamedNode(DCAT + "Dataset"))
    add(dataset, RDF + "type", NamedNode(VOID + "Dataset"))
    add(dataset, DCTERMS + "title", Literal(TITLE, language="en"))
    add(dataset, DCTERMS + "description", Literal(DESCRIPTION, language="en"))
    add(dataset, DCTERMS + "license", NamedNode(LICENCE))
    publisher = BlankNode("publisher")
    add(dataset, DCTERMS + "publisher", publisher)
    add(publisher, RDF + "type", NamedNode(FOAF + "Organization"))
    add(publisher, FOAF + "name", Literal("The Alliance Graph project", language="en"))
    for keyword in ("child protection", "trafficking in persons", "international cooperation"):
        add(dataset, DCAT + "keyword", Literal(keyword, language="en"))
    add(dataset, VOID + "triples", number(counts.triples))
    add(dataset, VOID + "entities", number(counts.entities))
    add(dataset, VOID + "properties", number(counts.properties))
    add(dataset, VOID + "uriSpace", Literal(base + "id/"))
    for vocabulary in counts.vocabularies:
        add(dataset, VOID + "vocabulary", NamedNode(vocabulary))
    for example in counts.examples:
        add(dataset, VOID + "exampleResource", NamedNode(example))
    endpoint = NamedNode(url_for("editor.index", _external=True) + "sparql")
    add(dataset, VOID + "sparqlEndpoint", endpoint)
    for suffix, (media, name) in DUMPS.items():
        dump = NamedNode(url_for("dataset.dump", suffix=suffix, _external=True))
        distribution = BlankNode(f"dump-{suffix}")
        add(dataset, DCAT + "distribution", distribution)
        add(dataset, VOID + "dataDump", dump)
        add(distribution, RDF + "type", NamedNode(DCAT + "Distribution"))
        add(distribution, DCTERMS + "title", Literal(f"Dump in {name}", language="en"))
        add(distribution, DCAT + "downloadURL", dump)
        add(
            distribution,
            DCAT + "mediaType",
            NamedNode("https://www.iana.org/assignments/media-types/" + media),
        )
        add(distribution, DCTERMS + "license", NamedNode(LICENCE))
    distribution, service = BlankNode("sparql"), BlankNode("service")
    add(dataset, DCAT + "distribution", distribution)
    add(distribution, RDF + "type", NamedNode(DCAT + "Distribution"))
    add(distribution, DCTERMS + "title", Literal("SPARQL 1.1 endpoint", language="en"))
    add(distribution, DCAT + "accessURL", endpoint)
    add(distribution, DCAT + "accessService", service)
    add(service, RDF + "type", NamedNode(DCAT + "DataService"))
    add(service, DCAT + "endpointURL", endpoint)
    add(service, DCTERMS + "conformsTo", NamedNode(SPARQL_PROTOCOL))
    add(service, DCAT + "servesDataset", dataset)
    return out


@bp.get("/dataset")
@bp.get("/dataset.<suffix>")
def dataset(suffix: str | None = None) -> Response:
    """The dataset's description, negotiated between HTML, Turtle and JSON-LD."""
    aliases = {"html": "text/html", "ttl": "text/turtle", "jsonld": "application/ld+json"}
    if suffix is not None and suffix not in aliases:
        raise NotFound(f"no dataset description with suffix .{suffix}")
    media = (
        aliases[suffix]
        if suffix
        else choose(request.headers.get("Accept"), OFFERED, request.args.get("format"))
    )
    base = str(current_app.config["BASE_IRI"])
    counts = figures(base)
    if media == "text/html":
        body: bytes | str = render_template(
            "dataset.html",
            figures=counts,
            dumps=DUMPS,
            licence=LICENCE,
            title=TITLE,
            description=DESCRIPTION,
            examples=[(iri, local_path(iri, base) or iri) for iri in counts.examples],
        )
    elif media == "application/ld+json":
        nt = serialize_triples(dcat_triples(base, counts), "application/n-triples")
        context_url = url_for("resource.context_document", _external=True)
        form = jsonld_profile(request.headers.get("Accept")) or "compacted"
        body = compact_nquads(nt, base, context_url, form)
    else:
        body = serialize_triples(dcat_triples(base, counts), media, document_prefixes(base))
    response = Response(body, mimetype=media)
    if suffix is None:
        response.headers["Vary"] = "Accept"
        ext = {v: k for k, v in aliases.items()}[media]
        response.headers["Content-Location"] = url_for("dataset.dataset", suffix=ext)
    return response


@bp.get("/dumps/alliance-graph.<suffix>")
def dump(suffix: str) -> Response:
    """The whole dataset with its named graphs, streamed as Oxigraph writes it."""
    if suffix not in DUMPS:
        raise NotFound(f"no dump in .{suffix}; available: {', '.join(DUMPS)}")
    media = DUMPS[suffix][0]
    chunks = stream_dump(get_store(), media, prefixes(str(current_app.config["BASE_IRI"])))
    response = Response(chunks, mimetype=media)
    response.headers["Content-Disposition"] = f'attachment; filename="alliance-graph.{suffix}"'
    return response


def init_app(app: Flask) -> None:
    """Register the dataset description and the dumps."""
    app.register_blueprint(bp)
