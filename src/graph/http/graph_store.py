"""The SPARQL 1.1 Graph Store HTTP Protocol (https://www.w3.org/TR/sparql11-http-rdf-update/).

Routes:

* ``/store?graph=IRI`` and ``/store?default``: indirect identification (section 4.2).
* ``/graph/{name}``: direct identification (section 4.1). The graph it names is
  ``{BASE_IRI}graph/{name}``, where ``BASE_IRI`` is the setting the graph is published under, so
  ``GET /graph/reference-countries`` is the graph of ``data/reference/countries.ttl`` whatever
  host name the request used.
* ``POST /store``: a new graph ``{BASE_IRI}graph/{uuid}``, answered 201 with its IRI in Location.

``?default`` is the store's own default graph, the triples in no named graph; SPARQL queries see
it as part of their default graph (the union of all graphs). Every write goes through
:mod:`graph.answering.writes`: bearer token, SHACL check, one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import unquote, urlencode

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from graph.answering import deadline, writes
from graph.answering import stack as stacks
from graph.answering.auth import require_write_access
from graph.answering.jsonld import compact_nquads, reshape_form
from graph.core.errors import BadRequest, NotFound, PayloadTooLarge, UnsupportedMediaType
from graph.core.links import local_path
from graph.core.namespaces import PREFIXES, graph_iri, rebase
from graph.http.context import get_store, time_limit, writable_of
from graph.http.negotiate import JSONLD, SYNONYMS, choose, jsonld_profile
from graph.store import (
    Quad,
    RdfFormat,
    check_iri,
    graph_content,
    graph_exists,
    parse_bytes,
    rdf_format_of,
    rdf_format_of_extension,
    serialize_quads,
)

bp = Blueprint("gsp", __name__)

#: Formats a graph is served in, most preferred first (section 5.2: GET).
GRAPH_TYPES = (
    "text/turtle",
    "application/n-triples",
    "application/rdf+xml",
    "application/ld+json",
    "application/trig",
    "application/n-quads",
)

#: Media types that say nothing about the format of a multipart part.
GENERIC_TYPES = ("", "application/octet-stream")

METHODS = ["GET", "PUT", "POST", "DELETE"]  # Flask answers HEAD (and OPTIONS) from GET.


@dataclass(frozen=True)
class Target:
    """What a request is about: a graph (None: the default graph) or the graph store itself."""

    graph: str | None
    is_store: bool = False


def init_app(app: Flask) -> None:
    """Register the Graph Store Protocol routes on ``app``."""
    app.register_blueprint(bp)


@bp.route("/store", methods=METHODS)
def graph_store() -> Response:
    """The graph store, with indirect identification of the graph (section 4.2)."""
    return _dispatch(_indirect_target())


@bp.route("/graph/<path:name>", methods=METHODS)
def direct_graph(name: str) -> Response:
    """A graph identified by the request URL itself (section 4.1)."""
    if "graph" in request.args or "default" in request.args:
        raise BadRequest("a graph URL names its graph itself: drop ?graph and ?default")
    return _dispatch(Target(_valid_iri(graph_iri(name, _base()))))


def _dispatch(target: Target) -> Response:
    if request.method in ("GET", "HEAD"):
        return _get(target)
    require_write_access(current_app.config["WRITE_TOKEN"], request.headers.get("Authorization"))
    if target.is_store and request.method != "POST":
        raise BadRequest(f"{request.method} needs ?default or ?graph=IRI")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    writable = writable_of(app)
    seconds, retire = time_limit(app)
    # A thread's usual stack: these writes parse RDF, not a visitor's SPARQL
    # (graph.answering.stack).
    stack = stacks.stack_for(0)
    if request.method == "DELETE":
        with writes.WRITE_QUEUE:
            deadline.with_deadline(
                lambda: writes.delete_graph(writable, target.graph),
                seconds,
                stack=stack,
                retire=retire,
            )
        return Response(status=204)
    # Section 5.5: POST to the graph store creates a new graph and says where it is.
    graph = graph_iri(uuid.uuid4().hex, _base()) if target.is_store else target.graph
    # Read on this thread, before queueing (a slow upload holds up no other write); parsed
    # under the time limit, like the write itself.
    payloads = _body_payloads(graph)
    base = _base()
    quads = deadline.with_deadline(
        lambda: [q for payload in payloads for q in payload.parse(base)],
        seconds,
        stack=stack,
        retire=retire,
    )
    write = writes.replace_graph if request.method == "PUT" else writes.add_to_graph
    with writes.WRITE_QUEUE:
        created = deadline.with_deadline(
            lambda: write(writable, graph, quads), seconds, stack=stack, retire=retire
        )
    return _written(graph, created or target.is_store)


def _indirect_target() -> Target:
    has_default = "default" in request.args
    graph = request.args.get("graph")
    if has_default and graph is not None:
        raise BadRequest("give either ?default or ?graph=IRI, not both")
    if has_default:
        return Target(None)
    if graph is not None:
        return Target(_valid_iri(_served_graph(graph)))
    return Target(None, is_store=True)


def _served_graph(graph: str) -> str:
    """The graph a ``?graph=`` value names: a URL of this server's ``/graph/{name}`` (what a
    201's ``Location`` gives, see :func:`graph_url`) is the graph that URL serves, so the
    client can use it either way (the W3C case post_get_new_graph does), as section 4.1 makes
    a directly identified graph's URL its name."""
    own = request.url_root + "graph/"
    if graph.startswith(own) and len(graph) > len(own):
        return graph_iri(unquote(graph[len(own) :]), _base())
    return graph


def _get(target: Target) -> Response:
    if target.is_store:
        raise BadRequest("name the graph to read with ?default or ?graph=IRI")
    store = get_store()
    if not graph_exists(store, target.graph):
        raise NotFound(f"there is no graph <{target.graph}> in the store")
    media_type = choose(request.headers.get("Accept"), GRAPH_TYPES, request.args.get("format"))
    fmt = RdfFormat.from_media_type(media_type)
    assert fmt is not None  # every offered type is an RDF format
    # Not "id": its names have a "/" that Turtle must escape (id:country\/x), full IRIs read better.
    prefixes = {name: rebase(iri, _base()) for name, iri in PREFIXES.items() if name != "id"}
    use_prefixes = fmt in (RdfFormat.TURTLE, RdfFormat.TRIG, RdfFormat.RDF_XML)
    quads = graph_content(store, target.graph)
    form = jsonld_profile(request.headers.get("Accept")) if media_type == JSONLD else None
    form = reshape_form(form, len(quads))  # Oxigraph writes the expanded form
    if form is not None:
        triples = serialize_quads(quads, RdfFormat.N_TRIPLES, None)
        body = compact_nquads(triples, _base(), None, form)
    else:
        if fmt == RdfFormat.JSON_LD:  # a graph, not a dataset: no @graph named after it
            quads = [Quad(q.subject, q.predicate, q.object) for q in quads]
        body = serialize_quads(quads, fmt, prefixes if use_prefixes else None)
    response = Response(body, 200, mimetype=media_type)
    response.vary.add("Accept")
    return response


def _written(graph: str | None, created: bool) -> Response:
    if not created:
        return Response(status=204)
    response = Response(f"Created graph <{graph}>\n", 201, mimetype="text/plain")
    response.headers["Location"] = graph_url(graph or "")
    return response


def graph_url(graph: str) -> str:
    """The URL of ``graph``'s Graph Store resource on this server: ``/graph/{name}`` for a
    graph under the base (direct identification), else ``/store?graph=IRI``. A 201's
    ``Location`` names it (RFC 9110 section 10.2.2: a URL the client can act on here).
    """
    path = local_path(graph, _base())
    if path is not None and path.startswith("/graph/"):
        return request.url_root.rstrip("/") + path
    return request.url_root + "store?" + urlencode({"graph": graph})


@dataclass(frozen=True)
class Payload:
    """An RDF document of the request, read but not parsed yet."""

    data: bytes
    fmt: RdfFormat
    graph: str | None
    base_iri: str
    source: str = "request body"

    def parse(self, base: str) -> list[Quad]:
        """The document's quads, in :attr:`graph`, IRIs moved to ``base``.

        :raises graph.store.RdfSyntaxError: a 400 naming the line and column.
        """
        return parse_bytes(
            self.data, self.fmt, self.graph, base, base_iri=self.base_iri, source=self.source
        )


def _body_payloads(graph: str | None) -> list[Payload]:
    """The RDF documents of the request, to go into ``graph``; multipart parts are merged."""
    base_iri = graph or _base()
    try:
        if request.mimetype == "multipart/form-data":
            return [_part_payload(part, graph, base_iri) for part in _parts()]
        data = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise PayloadTooLarge(
            f"the request body is over the limit of {current_app.config['MAX_BODY']} bytes"
        ) from None
    if not request.mimetype and not data.strip():
        return []
    return [Payload(data, _body_format(request.mimetype, "the request body"), graph, base_iri)]


def _parts() -> list[FileStorage]:
    parts = [part for _, part in request.files.items(multi=True)]
    if not parts:
        raise BadRequest("the multipart/form-data request has no file part")
    return parts


def _part_payload(part: FileStorage, graph: str | None, base_iri: str) -> Payload:
    name = part.filename or part.name or "part"
    media_type = part.mimetype if part.mimetype not in GENERIC_TYPES else ""
    if media_type:
        fmt = _body_format(media_type, f"part {name!r}")
    else:
        extension = name.rsplit(".", 1)[-1] if "." in name else ""
        found = rdf_format_of_extension(extension)
        if found is None or found.supports_datasets:
            raise UnsupportedMediaType(
                f"part {name!r} has no RDF Content-Type and its file extension is not a graph "
                f"format; use one of: {', '.join(GRAPH_TYPES[:4])}"
            )
        fmt = found
    return Payload(part.read(), fmt, graph, base_iri, source=name)


def _body_format(media_type: str, what: str) -> RdfFormat:
    if not media_type:
        raise UnsupportedMediaType(f"{what} has no Content-Type; send an RDF graph format")
    fmt = rdf_format_of(media_type) or rdf_format_of(SYNONYMS.get(media_type, media_type))
    # JSON-LD can hold named graphs, but a plain JSON-LD document is a graph: accept it.
    if fmt is None or (fmt.supports_datasets and fmt != RdfFormat.JSON_LD):
        raise UnsupportedMediaType(
            f"{what} is {media_type}, which is not an RDF graph format; use one of: "
            f"{', '.join(GRAPH_TYPES[:4])}"
        )
    return fmt


def _valid_iri(value: str) -> str:
    try:
        return check_iri(value)
    except BadRequest as error:
        raise BadRequest(f"{value!r} is not a valid graph IRI: {error}") from None


def _base() -> str:
    return str(current_app.config["BASE_IRI"])
