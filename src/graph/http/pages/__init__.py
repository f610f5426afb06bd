"""The web pages and linked-data views: each submodule is a blueprint ``bp`` with ``init_app``.

This module owns the shared templates and static files (blueprint ``web``); errors are
rendered as pages for browsers by graph.http.errors, with this blueprint's ``error.html``.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, send_from_directory

bp = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/static"
)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site's icon where clients look without a page's ``<link rel="icon">`` (an SVG)."""
    response = send_from_directory(str(bp.static_folder), "favicon.svg", mimetype="image/svg+xml")
    response.cache_control.max_age = 86400
    return response


def init_app(app: Flask) -> None:
    """Register the shared blueprint and every page's blueprint."""
    from graph.http.pages import dataset, editor, explore, exports, resource, search

    app.register_blueprint(bp)
    for module in (resource, editor, explore, exports, dataset, search):
        module.init_app(app)
