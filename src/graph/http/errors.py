"""Typed errors (graph.core.errors) rendered as HTTP responses: the one place that does it."""

from __future__ import annotations

from contextlib import suppress

from flask import Response, has_request_context, request

from graph.core.errors import HttpError, NotAcceptable, ShapeViolation, Unauthorized
from graph.http.negotiate import choose

#: Formats a refused write's SHACL report is offered in, most preferred first.
REPORT_TYPES = ("text/turtle", "application/json", "text/plain")


def http_error_response(error: HttpError) -> Response:
    """Answer a typed error with its status and a plain-text (or attached) body."""
    report = _report_body(error) if isinstance(error, ShapeViolation) else None
    if report is not None:
        response = Response(report[0], error.status, error.headers, mimetype=report[1])
    elif error.body is not None:
        response = Response(
            error.body, error.status, error.headers, mimetype=error.media_type or "text/plain"
        )
    else:
        body = f"{error.status} {error.title}: {error.detail}\n"
        response = Response(body, error.status, mimetype="text/plain")
    return with_error_headers(response, error)


def with_error_headers(response: Response, error: HttpError) -> Response:
    """``response`` carrying the headers ``error`` needs (``Allow``, ``WWW-Authenticate`` ...),
    whatever its body: a text answer or an HTML page (graph.http.pages)."""
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    if isinstance(error, Unauthorized):
        # RFC 6750 section 3: a 401 names the scheme the client must use.
        response.headers["WWW-Authenticate"] = 'Bearer realm="alliance-graph"'
    return response


def _report_body(error: ShapeViolation) -> tuple[bytes, str] | None:
    """The SHACL report of a refused write, in the format the client prefers (Turtle if none)."""
    if error.report is None:
        return None
    media_type = REPORT_TYPES[0]
    if has_request_context():
        with suppress(NotAcceptable):
            media_type = choose(request.headers.get("Accept"), REPORT_TYPES)
    render = {
        "text/turtle": error.report.to_turtle,
        "application/json": error.report.to_json,
        "text/plain": error.report.to_text,
    }[media_type]
    return render().encode("utf-8"), media_type
