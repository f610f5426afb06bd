"""``/explore``: the whole graph, or a CONSTRUCT's result, drawn as a network (cytoscape.js)."""

from __future__ import annotations

from typing import Any

import networkx as nx
from flask import Blueprint, Flask, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from graph.answering.export import ExportError, ExportTooLarge, property_graph, select_triples
from graph.core.errors import BadRequest, ResultTooLarge
from graph.core.links import link_target, prefixes
from graph.http.context import get_store
from graph.http.pages.exports import too_large
from graph.http.pages.guarded import run_visitor_query
from graph.store import QuerySyntaxError

bp = Blueprint("explore", __name__)

#: Beyond this many nodes a browser drawing is no longer readable; export to Gephi instead.
MAX_NODES = 3000


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
                select_triples(store, query, limit=limit, prefixes=prefixes(base)), base
            ),
        )
    except ExportTooLarge as error:
        raise ResultTooLarge(too_large(error, "max_graph_export")) from None
    except (ExportError, QuerySyntaxError) as error:
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


@bp.get("/explore")
def explore() -> str:
    """The explorer page; it loads its elements from ``/explore/elements.json``."""
    return render_template("explore.html", query=request.args.get("query", ""))


@bp.get("/explore/elements.json")
def elements_json() -> ResponseReturnValue:
    """The elements to draw, as cytoscape.js JSON."""
    return jsonify(elements(request.args.get("query") or None))


def init_app(app: Flask) -> None:
    """Register the explorer."""
    app.register_blueprint(bp)
