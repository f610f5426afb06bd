"""``/export/{format}``: the graph, or a CONSTRUCT's result (``?query=``), for graph tools."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint, Flask, Response, current_app, request

from graph.answering.export import FORMATS, ExportError, ExportTooLarge, export
from graph.core.errors import BadRequest, NotFound, ResultTooLarge
from graph.http.context import get_store
from graph.http.pages.guarded import run_visitor_query
from graph.store import stream_dump

bp = Blueprint("exports", __name__)


@bp.get("/export/<name>")
def export_view(name: str) -> Response:
    """Download the graph in one export format, as a file named after the format."""
    if name not in FORMATS:
        raise NotFound(f"no export format {name!r}; available: {', '.join(FORMATS)}")
    store, config = get_store(), current_app.config
    query = request.args.get("query") or None
    body: bytes | Iterator[bytes]
    if FORMATS[name].rdf and query is None:
        # The whole dataset: streamed by Oxigraph like the dumps, in bounded memory.
        body = stream_dump(store, FORMATS[name].media_type)
    else:
        # Graph formats are built in memory (networkx): bounded by max_graph_export.
        setting = "max_results" if FORMATS[name].rdf else "max_graph_export"
        limit, base = int(config[setting.upper()]), str(config["BASE_IRI"])
        try:
            body = run_visitor_query(query, lambda: export(store, name, base, query, limit=limit))
        except ExportTooLarge as error:
            raise ResultTooLarge(too_large(error, setting)) from None
        except ExportError as error:
            raise BadRequest(str(error)) from None
    response = Response(body, mimetype=FORMATS[name].media_type)
    filename = f"alliance-graph.{FORMATS[name].suffix}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def too_large(error: ExportTooLarge, setting: str) -> str:
    """What to tell a visitor whose export or drawing is over ``setting``."""
    return (
        f"{error}, the most this server exports or draws this way (setting {setting});"
        " narrow the CONSTRUCT query, download a dump (/dataset) or export the graph offline"
        " with `kg export`"
    )


def init_app(app: Flask) -> None:
    """Register the export route."""
    app.register_blueprint(bp)
