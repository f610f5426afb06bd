"""Typed errors (graph.core.errors) rendered as HTTP responses: the one place that does it.

Every error answered by the application goes through :func:`error_response`: Flask's error
handlers (:func:`init_app`), the /sparql endpoint (graph.http.endpoint, its watchdog's 503
too) and the body-limit middleware (graph.http.bodylimit), which run in front of Flask's
routing and call :func:`wsgi_error_response`. A browser gets an HTML page, a client that asks
for JSON gets JSON, anyone else plain text; a refused write's SHACL report comes in the format
asked for. The headers an error calls for (``Allow``, ``WWW-Authenticate``, ``Retry-After``)
are kept whatever the body.
"""

from __future__ import annotations

import json
from contextlib import suppress
from typing import TYPE_CHECKING

from flask import Flask, Response, has_request_context, render_template, request
from werkzeug.exceptions import HTTPException

from graph.core.errors import HttpError, NotAcceptable, ShapeViolation, Unauthorized
from graph.http.negotiate import choose, prefers_html

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

#: Formats a refused write's SHACL report is offered in, most preferred first.
REPORT_TYPES = ("text/turtle", "application/json", "text/plain")


#: Formats an error's own message is offered in: text unless the client asks for JSON.
MESSAGE_TYPES = ("text/plain", "application/json")


def init_app(app: Flask) -> None:
    """Answer every typed error, and Werkzeug's own (no such route ...), through this module."""
    app.register_error_handler(HttpError, error_response)
    app.register_error_handler(HTTPException, routing_error)


def error_response(error: HttpError, accept: str | None = None) -> Response:
    """Answer a typed error with its status and headers, and a body for the client: an HTML
    page for a browser (inside a request context: the page links the site) unless the error
    carries its own body; else the SHACL report or the body it carries, JSON for a client
    that asks for ``application/json``, or plain text. ``accept`` is the request's Accept
    header, read from the request when there is one and it is not given."""
    if accept is None and has_request_context():
        accept = request.headers.get("Accept")
    if error.body is None and has_request_context() and prefers_html(accept):
        page = error_page(error.status, error.title, error.detail)
        page.vary.add("Accept")
        return _with_error_headers(page, error)
    report = _report_body(error, accept) if isinstance(error, ShapeViolation) else None
    if report is not None:
        response = Response(report[0], error.status, mimetype=report[1])
    elif error.body is not None:
        response = Response(error.body, error.status, mimetype=error.media_type or "text/plain")
    elif _message_type(accept) == "application/json":
        response = Response(error_json(error), error.status, mimetype="application/json")
    else:
        body = f"{error.status} {error.title}: {error.detail}\n"
        response = Response(body, error.status, mimetype="text/plain")
    if report is None and error.body is None:
        response.vary.add("Accept")
    return _with_error_headers(response, error)


def wsgi_error_response(app: Flask | None, error: HttpError, environ: WSGIEnvironment) -> Response:
    """:func:`error_response` for code in front of Flask's routing (no request context): a
    browser's page is rendered in ``app``'s context for this request; without an app, text."""
    accept = environ.get("HTTP_ACCEPT")
    if app is not None and prefers_html(accept):
        with app.request_context(environ):
            return error_response(error, accept)
    return error_response(error, accept)


def routing_error(error: HTTPException) -> Response | HTTPException:
    """Werkzeug's own errors (no such route, wrong method): an HTML page for a browser, which
    keeps the headers Werkzeug's answer carries (``Allow`` with a 405); else Werkzeug's answer."""
    if error.code is not None and prefers_html(request.headers.get("Accept")):
        page = error_page(error.code, error.name, error.description or "")
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                page.headers[name] = value
        return page
    return error


def error_page(status: int, title: str, detail: str) -> Response:
    """An error as an HTML page (needs a request context: the page links the site)."""
    body = render_template("error.html", status=status, title=title, detail=detail)
    return Response(body, status, mimetype="text/html")


def error_json(error: HttpError) -> str:
    """``{"status", "error", "message"}``, and ``"line"``/``"column"`` when the error is at a
    place in the client's text (a SPARQL syntax error)."""
    payload: dict[str, object] = {
        "status": error.status,
        "error": error.title,
        "message": error.detail,
    }
    if error.position is not None:
        payload["line"], payload["column"] = error.position
    return json.dumps(payload, ensure_ascii=False)


def _message_type(accept: str | None) -> str:
    """JSON only when the client names it (a browser's or curl's ``*/*`` gets text)."""
    if not accept or "json" not in accept:
        return MESSAGE_TYPES[0]
    try:
        return choose(accept, MESSAGE_TYPES)
    except NotAcceptable:
        return MESSAGE_TYPES[0]


def _with_error_headers(response: Response, error: HttpError) -> Response:
    """``response`` carrying the headers ``error`` needs (``Allow``, ``WWW-Authenticate`` ...)."""
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    if isinstance(error, Unauthorized):
        # RFC 6750 section 3: a 401 names the scheme the client must use.
        response.headers["WWW-Authenticate"] = 'Bearer realm="alliance-graph"'
    return response


def _report_body(error: ShapeViolation, accept: str | None) -> tuple[bytes, str] | None:
    """The SHACL report of a refused write, in the format the client prefers (Turtle if none)."""
    if error.report is None:
        return None
    media_type = REPORT_TYPES[0]
    with suppress(NotAcceptable):
        media_type = choose(accept, REPORT_TYPES)
    render = {
        "text/turtle": error.report.to_turtle,
        "application/json": error.report.to_json,
        "text/plain": error.report.to_text,
    }[media_type]
    return render().encode("utf-8"), media_type
