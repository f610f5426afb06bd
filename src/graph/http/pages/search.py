"""``/search?q=``: names found the way /reconcile finds them, as a page or as JSON (issue 15)."""

from __future__ import annotations

import json

from flask import Blueprint, Flask, Response, render_template, request

from graph.answering.reconcile import requests
from graph.http.negotiate import choose
from graph.http.reconcile import bounded, limits, service

bp = Blueprint("search", __name__)

OFFERED = ["text/html", "application/json"]


@bp.get("/search")
def search() -> Response:
    """The entities ``q`` may name, best first (``type`` keeps one class, ``limit`` caps)."""
    bounds = limits()
    text = requests.bounded_text(request.args.get("q"), "q", bounds)
    kind = requests.bounded_text(request.args.get("type"), "type", bounds) or None
    limit = requests.bounded_limit(request.args.get("limit"), bounds, default=20)
    fmt = request.args.get("format")
    media = "application/json" if fmt == "json" else None
    media = media or choose(request.headers.get("Accept"), OFFERED, fmt)
    svc = service()
    found = bounded(lambda: svc.search(text, kind, limit)) if text.strip() else []
    results = [svc.candidate(candidate) for candidate in found]
    for result in results:
        result["url"] = f"{request.script_root}/id/{result['id']}"
    if media == "application/json":
        body = json.dumps({"q": text, "results": results}, ensure_ascii=False)
        response = Response(body, mimetype="application/json")
    else:
        response = Response(render_template("search.html", q=text, results=results))
    response.headers["Vary"] = "Accept"
    return response


def init_app(app: Flask) -> None:
    """Register /search."""
    app.register_blueprint(bp)
