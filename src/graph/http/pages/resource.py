"""Dereferenceable resource IRIs, following W3C "Cool URIs for the Semantic Web".

* ``/id/{kind}/{slug}`` names a thing; it answers ``303 See Other`` to the document that
  describes it, ``/doc/{kind}/{slug}.{ext}``, the extension picked from Accept (section 4.3,
  https://www.w3.org/TR/cooluris/#r303uri).
* ``/doc/{kind}/{slug}`` is that document, negotiated (``Vary: Accept``) with the chosen
  variant in ``Content-Location``; ``/doc/{kind}/{slug}.ttl`` (``.jsonld``, ``.nt``, ``.rdf``,
  ``.html``) is one variant, for links.
* ``/ontology`` is a hash namespace (section 4.2): ``/ontology#Country`` needs no redirect, and
  the document is the ontology's named graph, negotiated the same way.
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as WerkzeugResponse

from graph.answering import labels, queries
from graph.answering.describe import Describer, group_statements
from graph.answering.jsonld import compact_nquads, document_prefixes
from graph.answering.neighbourhood import neighbourhood
from graph.answering.provenance import page_provenance
from graph.answering.vocabulary import read_vocabulary, shapes_store
from graph.core.errors import NotFound
from graph.core.links import iri_candidates, local_path, prefixes, uri_reference
from graph.core.namespaces import graph_iri
from graph.http.context import get_store
from graph.http.negotiate import choose, jsonld_profile
from graph.store import (
    NamedNode,
    QueryTriples,
    Triple,
    run_query,
    serialize_triples,
)

bp = Blueprint("resource", __name__)

#: The representations of a description, the browser's first; suffix for each.
REPRESENTATIONS = {
    "text/html": "html",
    "text/turtle": "ttl",
    "application/ld+json": "jsonld",
    "application/n-triples": "nt",
    "application/rdf+xml": "rdf",
}
SUFFIXES = {suffix: media for media, suffix in REPRESENTATIONS.items()}


def base() -> str:
    """The base IRI the graph is published under (setting ``base_iri``)."""
    return str(current_app.config["BASE_IRI"])


def find_resource(path: str) -> str:
    """The IRI under the base that a request path (without leading slash) stands for.

    :raises NotFound: if no statement mentions any IRI the path may stand for.
    """
    describer = Describer(get_store(), base())
    for iri in iri_candidates(path, base()):
        if describer.exists(iri):
            return iri
    raise NotFound(f"nothing is known about {base()}{path}")


def split_suffix(path: str) -> tuple[str, str | None]:
    """Split ``kind/slug.ttl`` into ``("kind/slug", "text/turtle")``; no suffix gives None.

    >>> split_suffix("country/honduras.jsonld")
    ('country/honduras', 'application/ld+json')
    >>> split_suffix("place/u.s.-embassy")
    ('place/u.s.-embassy', None)
    """
    stem, dot, suffix = path.rpartition(".")
    if dot and suffix in SUFFIXES and "/" not in suffix:
        return stem, SUFFIXES[suffix]
    return path, None


@bp.get("/id/<path:rest>")
def thing(rest: str) -> WerkzeugResponse:
    """The thing: 303 See Other to the variant of its document the client accepts."""
    iri = find_resource("id/" + rest)
    media = choose(request.headers.get("Accept"), list(REPRESENTATIONS), request.args.get("format"))
    path = local_path(iri, base()) or "/"
    location = request.script_root + path.replace("/id/", "/doc/", 1) + "." + REPRESENTATIONS[media]
    response = redirect(location, 303)
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/doc/<path:rest>")
def document(rest: str) -> Response:
    """The document describing a thing, in the variant the suffix names or Accept picks."""
    stem, media = split_suffix(rest)
    iri = find_resource("id/" + stem)
    return represent(iri, media, lambda: description_triples(iri), "resource.html")


@bp.get("/ontology")
@bp.get("/ontology.<suffix>")
def ontology(suffix: str | None = None) -> Response:
    """The ontology document (a hash namespace: its terms are ``/ontology#Term``)."""
    media = None
    if suffix is not None:
        if suffix not in SUFFIXES:
            raise NotFound(f"no ontology document with suffix .{suffix}")
        media = SUFFIXES[suffix]
    iri = base() + "ontology"
    return represent(iri, media, ontology_triples, "ontology.html")


@bp.get("/context.jsonld")
def context_document() -> WerkzeugResponse:
    """The JSON-LD context every JSON-LD document of this server refers to."""
    from graph.answering.jsonld import context

    return Response(json.dumps(context(base()), indent=2), mimetype="application/ld+json")


def represent(iri: str, media: str | None, triples: Any, template: str) -> Response:
    """Answer with the document of ``iri`` in ``media`` (or the type Accept picks)."""
    negotiated = media is None
    if media is None:
        media = choose(
            request.headers.get("Accept"), list(REPRESENTATIONS), request.args.get("format")
        )
    body: bytes | str
    if media == "text/html":
        body = render_page(iri, template)
    elif media == "application/ld+json":
        nquads = serialize_triples(triples(), "application/n-triples")
        context_url = url_for("resource.context_document", _external=True)
        form = jsonld_profile(request.headers.get("Accept")) or "compacted"
        body = compact_nquads(nquads, base(), context_url, form)
    else:
        body = serialize_triples(triples(), media, document_prefixes(base()))
    response = Response(body, mimetype=media)
    if media == "text/html":  # labels follow the reader's languages
        response.vary.add("Accept-Language")
    if negotiated:
        response.vary.add("Accept")
        path = request.path.rstrip("/")
        response.headers["Content-Location"] = uri_reference(
            f"{request.script_root}{path}.{REPRESENTATIONS[media]}"
        )
    for other, suffix in REPRESENTATIONS.items():
        response.headers.add(
            "Link",
            f'<{local_path(iri, base()) or ""}>; rel="describes"'
            if other == media
            else f'<{_variant(suffix)}>; rel="alternate"; type="{other}"',
        )
    return response


def _variant(suffix: str) -> str:
    """The path of the resource's ``suffix`` representation, percent-encoded: RFC 8288 section 3
    puts a URI-Reference in ``Link``, RFC 3987 section 3.1 maps an IRI to one."""
    stem, _ = split_suffix(request.path)
    return uri_reference(f"{request.script_root}{stem}.{suffix}")


def description_triples(iri: str) -> list[Triple]:
    """The triples of a resource's linked-data document."""
    result = run_query(
        get_store(),
        queries.RESOURCE_DESCRIPTION,
        bindings={"resource": NamedNode(iri)},
        prefixes=prefixes(base()),
    )
    assert isinstance(result, QueryTriples)
    return list(result)


def ontology_triples() -> list[Triple]:
    """The triples of the ontology's named graph."""
    result = run_query(
        get_store(),
        queries.GRAPH_CONTENT,
        bindings={"graph": NamedNode(graph_iri("ontology", base()))},
    )
    assert isinstance(result, QueryTriples)
    return list(result)


def languages() -> tuple[str, ...]:
    """The languages the reader asked for (Accept-Language), English after them."""
    return labels.reader_languages(request.accept_languages.values())


def render_page(iri: str, template: str) -> str:
    """The HTML page of a resource or of the ontology."""
    variants = [(suffix, _variant(suffix)) for suffix in REPRESENTATIONS.values()]
    if template == "ontology.html":
        shapes = shapes_store(str(current_app.config["PROJECT_DIR"]), base())
        vocabulary = read_vocabulary(get_store(), base(), shapes, languages())
        return render_template(template, vocabulary=vocabulary, variants=variants)
    description = Describer(get_store(), base(), languages()).describe(iri)
    around = neighbourhood(get_store(), iri, base(), languages())
    provenance = page_provenance(
        get_store(), iri, [t.value for t in description.types], base(), languages()
    )
    return render_template(
        template,
        description=description,
        grouped=group_statements(description.statements),
        elements=around.elements,
        more_neighbours=around.more,
        provenance=provenance,
        variants=variants,
    )


def init_app(app: Flask) -> None:
    """Register the resource routes."""
    app.register_blueprint(bp)
