"""The web pages and linked-data views: each submodule is a blueprint ``bp`` with ``init_app``.

This module owns the shared templates and static files (blueprint ``web``) and renders errors
as HTML pages for browsers.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Response, render_template, send_from_directory
from werkzeug.exceptions import HTTPException

from graph.core.errors import HttpError
from graph.http.context import wants_html
from graph.http.errors import http_error_response, with_error_headers

bp = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/static"
)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site's icon where clients look without a page's ``<link rel="icon">`` (an SVG)."""
    response = send_from_directory(str(bp.static_folder), "favicon.svg", mimetype="image/svg+xml")
    response.cache_control.max_age = 86400
    return response


def error_page(status: int, title: str, detail: str) -> Response:
    """An error as an HTML page."""
    body = render_template("error.html", status=status, title=title, detail=detail)
    return Response(body, status, mimetype="text/html")


def html_or_text_error(error: HttpError) -> Response:
    """A typed error: an HTML page for a browser, else the plain-text answer of the app."""
    if wants_html() and error.body is None:
        return with_error_headers(error_page(error.status, error.title, error.detail), error)
    return http_error_response(error)


def routing_error(error: HTTPException) -> Response | HTTPException:
    """Werkzeug's own errors (no such route, wrong method) as HTML pages for browsers.

    The page keeps the headers Werkzeug's own answer carries (``Allow`` with a 405).
    """
    if wants_html() and error.code is not None:
        page = error_page(error.code, error.name, error.description or "")
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                page.headers[name] = value
        return page
    return error


def init_app(app: Flask) -> None:
    """Register the shared blueprint, the error pages and every page's blueprint."""
    from graph.http.pages import dataset, editor, explore, exports, resource, search

    app.register_blueprint(bp)
    app.register_error_handler(HttpError, html_or_text_error)
    app.register_error_handler(HTTPException, routing_error)
    for module in (resource, editor, explore, exports, dataset, search):
        module.init_app(app)
