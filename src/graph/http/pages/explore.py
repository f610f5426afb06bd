"""``/explore``: a drawing that starts from one resource and grows a neighbourhood at a time
(issue 14), or a CONSTRUCT's result drawn whole (cytoscape.js, laid out by fcose).

``/explore/neighbourhood.json?focus=IRI`` gives one resource's neighbourhood (at most
graph.answering.neighbourhood.MAX_NEIGHBOURS neighbours, data graphs only) and
``/explore/find.json?q=text`` up to ten resources by label; both run under the same limits as a
visitor's CONSTRUCT (time limit, per-client admission: graph.http.pages.guarded), with the IRI
and the text bound as terms, never pasted into the query.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from graph.answering.export import ExportError, ExportTooLarge, property_graph, select_triples
from graph.answering.labels import reader_languages
from graph.answering.neighbourhood import default_focus, find_by_label, neighbourhood
from graph.core.errors import BadRequest, ResultTooLarge
from graph.core.links import link_target, prefixes
from graph.http.context import get_store
from graph.http.pages.exports import too_large
from graph.http.pages.guarded import run_visitor_query
from graph.store import check_iri

bp = Blueprint("explore", __name__)

#: Beyond this many nodes a browser drawing is no longer readable; export to Gephi instead.
MAX_NODES = 3000
#: The longest text /explore/find.json searches labels for.
MAX_SEARCH = 200


def elements(query: str | None) -> list[dict[str, Any]]:
    """The cytoscape.js elements of the graph (or of ``query``'s triples).

    :raises BadRequest: for a query that does not parse or does not give triples.
    :raises graph.core.errors.Forbidden: for a SERVICE off the allow-list (nothing is fetched).
    :raises ResultTooLarge: above :data:`MAX_NODES` nodes.
    """
    base, store = str(current_app.config["BASE_IRI"]), get_store()
    limit = int(current_app.config["MAX_GRAPH_EXPORT"])
    try:
        graph = run_visitor_query(
            query,
            lambda: property_graph(
                select_triples(store, query, limit=limit, prefixes=prefixes(base)), base, store
            ),
        )
    except ExportTooLarge as error:
        raise ResultTooLarge(too_large(error, "max_graph_export")) from None
    except ExportError as error:
        raise BadRequest(str(error)) from None
    if graph.number_of_nodes() > MAX_NODES:
        raise ResultTooLarge(
            f"{graph.number_of_nodes()} nodes is more than the explorer draws ({MAX_NODES}); "
            "narrow the CONSTRUCT query or export the graph to Gephi (/export/gexf)"
        )
    data = nx.cytoscape_data(graph)["elements"]
    for node in data["nodes"]:
        node["data"]["href"] = link_target(node["data"]["iri"], base)
    for index, edge in enumerate(data["edges"]):
        edge["data"]["id"] = f"e{index}"
    return [*data["nodes"], *data["edges"]]


#: The routes whose answer names resources in the reader's language (Accept-Language): a
#: shared cache must keep one answer per language (RFC 9110, section 12.5.5).
IN_READERS_LANGUAGE = {"explore.explore", "explore.neighbourhood_json", "explore.find_json"}


@bp.after_request
def vary_by_language(response: Response) -> Response:
    """Say ``Vary: Accept-Language`` on the answers that depend on it."""
    if request.endpoint in IN_READERS_LANGUAGE:
        response.vary.add("Accept-Language")
    return response


@bp.get("/explore")
def explore() -> str:
    """The explorer page: from ``focus`` (an IRI), the best match of ``q``, or a default
    resource; or the drawing of ``query``'s triples."""
    query = request.args.get("query", "")
    focus = request.args.get("focus", "")
    search = request.args.get("q", "")
    matches: list[dict[str, str]] = []
    if not query and not focus:
        if search:
            matches = _found(search)
            focus = matches[0]["iri"] if matches else ""
        else:
            base, store = str(current_app.config["BASE_IRI"]), get_store()
            focus = run_visitor_query(None, lambda: default_focus(store, base)) or ""
    return render_template(
        "explore.html",
        query=query,
        focus=focus,
        search=search,
        matches=matches,
        passages=request.args.get("passages") == "1",
    )


@bp.get("/explore/elements.json")
def elements_json() -> ResponseReturnValue:
    """The elements to draw, as cytoscape.js JSON."""
    return jsonify(elements(request.args.get("query") or None))


@bp.get("/explore/neighbourhood.json")
def neighbourhood_json() -> ResponseReturnValue:
    """One resource's neighbourhood, for the explorer to add to its drawing."""
    focus = request.args.get("focus", "")
    try:
        check_iri(focus)
    except BadRequest:
        raise BadRequest(f"focus must be an absolute IRI, not {focus[:200]!r}") from None
    base, store = str(current_app.config["BASE_IRI"]), get_store()
    languages = reader_languages(request.accept_languages.values())
    passages = request.args.get("passages") == "1"
    around = run_visitor_query(
        None, lambda: neighbourhood(store, focus, base, languages, passages=passages)
    )
    return jsonify(around.as_json())


@bp.get("/explore/find.json")
def find_json() -> ResponseReturnValue:
    """Up to ten resources whose label holds ``q``."""
    return jsonify(_found(request.args.get("q", "")))


def _found(text: str) -> list[dict[str, str]]:
    text = text.strip()
    if not text or len(text) > MAX_SEARCH:
        raise BadRequest(f"q must hold 1 to {MAX_SEARCH} characters")
    base, store = str(current_app.config["BASE_IRI"]), get_store()
    languages = reader_languages(request.accept_languages.values())
    return run_visitor_query(None, lambda: find_by_label(store, text, base, languages))


def init_app(app: Flask) -> None:
    """Register the explorer."""
    app.register_blueprint(bp)
