"""``/export/{format}``: the graph, or a CONSTRUCT's result (``?query=``), for graph tools."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, request

from graph.answering.export import FORMATS, ExportError, export
from graph.core.errors import BadRequest, NotFound
from graph.http.context import get_store
from graph.http.pages.guarded import run_visitor_query
from graph.store import QuerySyntaxError

bp = Blueprint("exports", __name__)


@bp.get("/export/<name>")
def export_view(name: str) -> Response:
    """Download the graph in one export format, as a file named after the format."""
    if name not in FORMATS:
        raise NotFound(f"no export format {name!r}; available: {', '.join(FORMATS)}")
    store, base = get_store(), str(current_app.config["BASE_IRI"])
    query = request.args.get("query") or None
    try:
        body = run_visitor_query(query, lambda: export(store, name, base, query))
    except (ExportError, QuerySyntaxError) as error:
        raise BadRequest(str(error)) from None
    response = Response(body, mimetype=FORMATS[name].media_type)
    filename = f"alliance-graph.{FORMATS[name].suffix}"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def init_app(app: Flask) -> None:
    """Register the export route."""
    app.register_blueprint(bp)
