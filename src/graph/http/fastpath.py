"""A thin WSGI path for SPARQL queries at /sparql, in front of Flask's routing.

Queries are most of the traffic and the cheapest requests to answer, so Flask's URL
matching, request and application contexts and hooks are a large share of their cost. This
middleware answers query operations (GET with ``query``, POST form-encoded or
``application/sparql-query``) itself with the same pieces the Flask view uses:
:func:`graph.http.protocol.operation_of` (the protocol's rules),
:func:`graph.http.endpoint.answer_query`,
:func:`graph.http.errors.http_error_response` (the one mapping from errors to responses) and
:mod:`graph.http.observe` (CORS, metrics, access log). Everything else, including a request
that the protocol rules refuse, goes to Flask unchanged (with the body it read put back).

Under granian the WSGI environ carries :data:`RESPONDER`, a way to answer the request from
another thread; then the query is evaluated on the request thread itself and the watchdog
answers a runaway one (graph.answering.deadline.run_watched).
"""

from __future__ import annotations

import functools
import hashlib
import io
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from flask import Flask, Response
from werkzeug.datastructures import MultiDict
from werkzeug.http import parse_options_header

from graph.answering.deadline import RESPONDER, Abandoned
from graph.core.errors import HttpError
from graph.http.endpoint import answer_query, with_charset
from graph.http.errors import http_error_response
from graph.http.formdata import unquote_plus
from graph.http.observe import access_logged, cors_headers, record
from graph.http.protocol import FORM, QUERY_BODY, Operation, operation_of

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PATH = "/sparql"


class SparqlFastPath:
    """WSGI middleware: answers SPARQL queries at :data:`PATH`, hands the rest to ``inner``."""

    def __init__(self, app: Flask, inner: WSGIApplication) -> None:
        self.app = app
        self.inner = inner

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or not self._may_be_query(environ):
            return self.inner(environ, start_response)
        started = time.perf_counter()
        body = self._read_body(environ)
        read = _plain_query(environ, body) or _any_query(environ, body)
        if read is None:
            # Flask answers it (or refuses it, in the one place errors are mapped).
            environ["wsgi.input"] = io.BytesIO(body)
            return self.inner(environ, start_response)
        operation, format_param = read
        accept = environ.get("HTTP_ACCEPT")
        respond = environ.get(RESPONDER)
        overrun: Callable[[HttpError], None] | None = None
        if respond is not None:
            overrun = functools.partial(
                self._answer_elsewhere, respond, environ, started, operation.text
            )
        try:
            answer, answer_type, cached = answer_query(
                self.app,
                operation,
                accept,
                format_param,
                overrun=overrun,
                client=environ.get("REMOTE_ADDR", ""),
            )
        except HttpError as error:
            return self._refuse(error, environ, start_response, started, operation.text)
        except Abandoned:
            # The watchdog answered at the deadline; the server ignores a second answer.
            start_response("503 Service Unavailable", [])
            return []
        cache = "hit" if cached else "miss"
        headers = [
            ("Content-Type", with_charset(answer_type)),
            ("Content-Length", str(len(answer))),
            ("X-Cache", cache),
        ]
        vary = ["Accept"]
        for name, value in self._cors(environ):
            if name == "Vary":
                vary.append(value)
            else:
                headers.append((name, value))
        headers.append(("Vary", ", ".join(vary)))
        self._record(200, environ, started, len(answer), cache, operation.text)
        start_response("200 OK", headers)
        return [answer]

    def _refuse(
        self,
        error: HttpError,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        started: float,
        text: str,
    ) -> Iterable[bytes]:
        response = self._error_response(error, environ, started, text)
        return response(environ, start_response)

    def _answer_elsewhere(
        self,
        respond: Callable[[int, list[tuple[str, str]], bytes], None],
        environ: WSGIEnvironment,
        started: float,
        text: str,
        error: HttpError,
    ) -> None:
        """Answer ``error`` through ``respond`` (on the watchdog thread, outside the request)."""
        response = self._error_response(error, environ, started, text)
        # The worker is about to be replaced: the client should reconnect elsewhere.
        headers = [*response.headers.items(), ("Connection", "close")]
        respond(response.status_code, headers, response.get_data())

    def _error_response(
        self, error: HttpError, environ: WSGIEnvironment, started: float, text: str
    ) -> Response:
        """The response for ``error``, with CORS headers, counted and logged."""
        response = http_error_response(error, environ.get("HTTP_ACCEPT", ""))
        for name, value in self._cors(environ):
            if name == "Vary":
                response.vary.add(value)
            else:
                response.headers[name] = value
        size = response.calculate_content_length()
        self._record(response.status_code, environ, started, size, None, text)
        return response

    def _cors(self, environ: WSGIEnvironment) -> list[tuple[str, str]]:
        origins: str = self.app.config["CORS_ORIGINS"]
        return cors_headers(origins, environ.get("HTTP_ORIGIN"), environ["REQUEST_METHOD"])

    @staticmethod
    def _record(
        status: int,
        environ: WSGIEnvironment,
        started: float,
        size: int | None,
        cache: str | None,
        text: str,
    ) -> None:
        record(
            status,
            environ,
            route=PATH,
            duration=time.perf_counter() - started,
            size=size,
            cache=cache,
            # Only the access log shows it: not worth hashing every query for nothing.
            query_hash=hashlib.sha256(text.encode()).hexdigest()[:16] if access_logged() else None,
            query_kind="query",
        )

    def _may_be_query(self, environ: WSGIEnvironment) -> bool:
        method = environ.get("REQUEST_METHOD")
        if method == "GET":
            return "query=" in environ.get("QUERY_STRING", "")
        if method != "POST":
            return False
        media_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if media_type not in (FORM, QUERY_BODY):
            return False
        # A body of unknown or excessive length is Flask's to refuse (411/413).
        length = environ.get("CONTENT_LENGTH", "")
        return length.isdigit() and int(length) <= int(self.app.config["MAX_BODY"])

    @staticmethod
    def _read_body(environ: WSGIEnvironment) -> bytes:
        if environ.get("REQUEST_METHOD") != "POST":
            return b""
        body: bytes = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        return body


def _plain_query(environ: WSGIEnvironment, body: bytes) -> tuple[Operation, str | None] | None:
    """The query of the usual request: one ``query`` parameter (perhaps a ``format``) and
    nothing else, or a UTF-8 ``application/sparql-query`` body with no parameters; else None.

    No dataset, no conflict, nothing for the protocol's rules to decide, so it is read here
    with the least work (:func:`_any_query` reads the others).
    """
    content_type = environ.get("CONTENT_TYPE", "")
    if environ["REQUEST_METHOD"] == "GET":
        encoded = environ.get("QUERY_STRING", "")
    elif environ.get("QUERY_STRING"):
        return None
    elif content_type == QUERY_BODY:
        try:
            return Operation("query", body.decode("utf-8")), None
        except UnicodeDecodeError:
            return None
    elif content_type == FORM:
        encoded = body.decode("latin-1")
    else:
        return None
    if encoded.startswith("query=") and "&" not in encoded:
        return Operation("query", unquote_plus(encoded[6:])), None
    query = format_param = None
    for name, value in urllib.parse.parse_qsl(encoded, keep_blank_values=True):
        if name == "query" and query is None:
            query = value
        elif name == "format" and format_param is None:
            format_param = value
        else:
            return None
    return (Operation("query", query), format_param) if query is not None else None


def _any_query(environ: WSGIEnvironment, body: bytes) -> tuple[Operation, str | None] | None:
    """The query (and ``format``) of a request, by the protocol's rules; None when the request
    is not a query or breaks a rule (Flask then answers it, or refuses it)."""
    media_type, options = parse_options_header(environ.get("CONTENT_TYPE", ""))
    args = _params(environ.get("QUERY_STRING", ""))
    form = _params(body.decode("latin-1")) if media_type == FORM else MultiDict[str, str]()
    try:
        operation = operation_of(
            environ["REQUEST_METHOD"],
            media_type,
            options.get("charset", "utf-8"),
            args,
            lambda: form,
            lambda: body,
        )
    except HttpError:
        return None
    if operation.kind != "query":
        return None
    # Like Werkzeug's request.values: the query string first, then the form.
    formats = args.getlist("format") + form.getlist("format")
    return operation, formats[0] if formats else None


def _params(encoded: str) -> MultiDict[str, str]:
    """URL-encoded parameters (query string or form body), decoded as UTF-8 like Werkzeug."""
    if not encoded:
        return MultiDict()
    return MultiDict(urllib.parse.parse_qsl(encoded, keep_blank_values=True, encoding="utf-8"))


def install(app: Flask) -> None:
    """Put the fast path in front of ``app``'s own WSGI callable."""
    app.wsgi_app = SparqlFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
