"""Typed errors (graph.core.errors) rendered as HTTP responses: the one place that does it."""

from __future__ import annotations

import json
from contextlib import suppress

from flask import Response, has_request_context, request

from graph.core.errors import HttpError, NotAcceptable, ShapeViolation, Unauthorized
from graph.http.negotiate import choose

#: Formats a refused write's SHACL report is offered in, most preferred first.
REPORT_TYPES = ("text/turtle", "application/json", "text/plain")


#: Formats an error's own message is offered in: text unless the client asks for JSON.
MESSAGE_TYPES = ("text/plain", "application/json")


def http_error_response(error: HttpError, accept: str | None = None) -> Response:
    """Answer a typed error with its status and a plain-text, JSON (when the client asks for
    ``application/json``) or attached body; ``accept`` is the request's Accept header, read
    from the request when there is one and it is not given."""
    if accept is None and has_request_context():
        accept = request.headers.get("Accept")
    report = _report_body(error, accept) if isinstance(error, ShapeViolation) else None
    if report is not None:
        response = Response(report[0], error.status, error.headers, mimetype=report[1])
    elif error.body is not None:
        response = Response(
            error.body, error.status, error.headers, mimetype=error.media_type or "text/plain"
        )
    elif _message_type(accept) == "application/json":
        response = Response(error_json(error), error.status, mimetype="application/json")
    else:
        body = f"{error.status} {error.title}: {error.detail}\n"
        response = Response(body, error.status, mimetype="text/plain")
    if report is None and error.body is None:
        response.vary.add("Accept")
    return with_error_headers(response, error)


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


def with_error_headers(response: Response, error: HttpError) -> Response:
    """``response`` carrying the headers ``error`` needs (``Allow``, ``WWW-Authenticate`` ...),
    whatever its body: a text answer or an HTML page (graph.http.pages)."""
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
