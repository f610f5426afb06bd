"""Typed errors (graph.core.errors) rendered as HTTP responses: the one place that does it.

Every error answered by the application goes through :func:`error_response`: Flask's error
handlers (:func:`init_app`), the /sparql endpoint (graph.http.endpoint, its watchdog's 503
too) and the body-limit middleware (graph.http.bodylimit), which run in front of Flask's
routing and call :func:`wsgi_error_response`. A browser gets an HTML page, a client that asks
for JSON gets JSON, anyone else plain text; a refused write's SHACL report comes in the format
asked for. Each type of error has its status here (:data:`STATUSES`: graph.core knows nothing
of HTTP), and the headers it calls for (``Allow``, ``WWW-Authenticate``, ``Retry-After``)
whatever the body.
"""

from __future__ import annotations

import json
import math
from contextlib import suppress
from typing import TYPE_CHECKING

from flask import Flask, Response, has_request_context, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed as MethodNotAllowedError

from graph.core.errors import (
    BadRequest,
    CuratedGraphProtected,
    EvaluationFailed,
    Forbidden,
    GraphError,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    PayloadTooLarge,
    QueryTimeout,
    RequestTimeout,
    ResultTooLarge,
    ServerBusy,
    ShapeViolation,
    StoreUnavailable,
    TooManyQueries,
    Unauthorized,
    UnsupportedMediaType,
    WritesNotSupported,
)
from graph.http.negotiate import choose, prefers_html

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

#: The HTTP status and title of each type of error (RFC 9110 section 15; a subclass takes its
#: nearest ancestor's). An error of no type here is the server's fault: 500.
STATUSES: dict[type[GraphError], tuple[int, str]] = {
    BadRequest: (400, "Bad Request"),
    EvaluationFailed: (400, "Bad Request"),
    Unauthorized: (401, "Unauthorized"),
    Forbidden: (403, "Forbidden"),
    NotFound: (404, "Not Found"),
    MethodNotAllowed: (405, "Method Not Allowed"),
    NotAcceptable: (406, "Not Acceptable"),
    RequestTimeout: (408, "Request Timeout"),
    CuratedGraphProtected: (409, "Conflict"),
    PayloadTooLarge: (413, "Content Too Large"),
    ResultTooLarge: (413, "Result Too Large"),
    UnsupportedMediaType: (415, "Unsupported Media Type"),
    ShapeViolation: (422, "Unprocessable Content"),
    TooManyQueries: (429, "Too Many Requests"),
    WritesNotSupported: (501, "Not Implemented"),
    QueryTimeout: (503, "Service Unavailable"),
    ServerBusy: (503, "Service Unavailable"),
    StoreUnavailable: (503, "Service Unavailable"),
}

#: Formats a refused write's SHACL report is offered in, most preferred first.
REPORT_TYPES = ("text/turtle", "application/json", "text/plain")


#: Formats an error's own message is offered in: text unless the client asks for JSON.
MESSAGE_TYPES = ("text/plain", "application/json")


def init_app(app: Flask) -> None:
    """Answer every typed error, and Werkzeug's own (no such route ...), through this module."""
    app.register_error_handler(GraphError, error_response)
    app.register_error_handler(HTTPException, routing_error)


def status_of(error: GraphError) -> tuple[int, str]:
    """The HTTP status and title of ``error``.

    >>> status_of(ResultTooLarge("over max_results"))
    (413, 'Result Too Large')
    """
    for kind in type(error).__mro__:
        found = STATUSES.get(kind)
        if found is not None:
            return found
    return 500, "Internal Server Error"


def error_response(error: GraphError, accept: str | None = None) -> Response:
    """Answer a typed error with its status and headers, and a body for the client: an HTML
    page for a browser (inside a request context: the page links the site); else the SHACL
    report it carries, JSON for a client that asks for ``application/json``, or plain text.
    ``accept`` is the request's Accept header, read from the request when there is one and it
    is not given."""
    if accept is None and has_request_context():
        accept = request.headers.get("Accept")
    status, title = status_of(error)
    if has_request_context() and prefers_html(accept):
        response = error_page(status, title, error.detail)
    elif isinstance(error, ShapeViolation) and (report := _report_body(error, accept)):
        response = Response(report[0], status, mimetype=report[1])
    elif _message_type(accept) == "application/json":
        response = Response(error_json(error), status, mimetype="application/json")
    else:
        response = Response(f"{status} {title}: {error.detail}\n", status, mimetype="text/plain")
    response.vary.add("Accept")
    return _with_error_headers(response, error)


def wsgi_error_response(app: Flask | None, error: GraphError, environ: WSGIEnvironment) -> Response:
    """:func:`error_response` for code in front of Flask's routing (no request context): a
    browser's page is rendered in ``app``'s context for this request; without an app, text."""
    accept = environ.get("HTTP_ACCEPT")
    if app is not None and prefers_html(accept):
        with app.request_context(environ):
            return error_response(error, accept)
    return error_response(error, accept)


#: Werkzeug's own errors (routing, its form and size limits) as the domain's, by status.
_WERKZEUG: dict[int, type[GraphError]] = {
    400: BadRequest,
    404: NotFound,
    406: NotAcceptable,
    408: RequestTimeout,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


def routing_error(error: HTTPException) -> Response | HTTPException:
    """Werkzeug's own errors (no such route, wrong method ...) through :func:`error_response`
    like every other; one with no counterpart here keeps Werkzeug's answer."""
    detail = error.description or error.name
    typed: GraphError
    if isinstance(error, MethodNotAllowedError):
        typed = MethodNotAllowed(detail, allowed=error.valid_methods or ())
    elif error.code in _WERKZEUG:
        typed = _WERKZEUG[error.code](detail)
    else:
        return error
    return error_response(typed)


def error_page(status: int, title: str, detail: str) -> Response:
    """An error as an HTML page (needs a request context: the page links the site)."""
    body = render_template("error.html", status=status, title=title, detail=detail)
    return Response(body, status, mimetype="text/html")


def error_json(error: GraphError) -> str:
    """``{"status", "error", "message"}``, and ``"line"``/``"column"`` when the error is at a
    place in the client's text (a SPARQL syntax error)."""
    status, title = status_of(error)
    payload: dict[str, object] = {"status": status, "error": title, "message": error.detail}
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


def _with_error_headers(response: Response, error: GraphError) -> Response:
    """``response`` carrying the headers ``error`` calls for."""
    if isinstance(error, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(error.allowed)
    elif isinstance(error, Unauthorized):
        # RFC 6750 section 3: a 401 names the scheme the client must use.
        response.headers["WWW-Authenticate"] = 'Bearer realm="alliance-graph"'
    elif isinstance(error, (TooManyQueries, ServerBusy)):
        # RFC 9110 section 10.2.3: a whole number of seconds.
        response.headers["Retry-After"] = str(math.ceil(error.retry_after))
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
