"""A thin WSGI path for SPARQL queries at /sparql, in front of Flask's routing.

Queries are most of the traffic and the cheapest requests to answer, so Flask's URL
matching, request and application contexts and hooks are a large share of their cost. This
middleware answers query operations (GET with ``query``, POST form-encoded or
``application/sparql-query``) itself with the same pieces the Flask view uses:
:func:`graph.protocol.read_operation`, :func:`graph.endpoint.answer_query`,
:func:`graph.app.http_error_response` (the one mapping from errors to responses) and
:func:`graph.observe.record` (CORS, metrics, access log). Everything else, including a request
that the protocol rules refuse, goes to Flask unchanged (with the body it read put back).
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask
from werkzeug.wrappers import Request, Response

from graph.app import http_error_response
from graph.endpoint import answer_query, query_response
from graph.errors import HttpError
from graph.observe import record
from graph.protocol import FORM, QUERY_BODY, read_operation

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
        request = Request(environ)
        try:
            operation = read_operation(request)
        except HttpError:
            operation = None
        if operation is None or operation.kind != "query":
            # Flask answers it (or refuses it, in the one place errors are mapped).
            environ["wsgi.input"] = io.BytesIO(body)
            return self.inner(environ, start_response)
        response: Response
        try:
            accept, format_param = request.headers.get("Accept"), request.values.get("format")
            response = query_response(*answer_query(self.app, operation, accept, format_param))
        except HttpError as error:
            response = http_error_response(error)
        record(
            response,
            self.app.config,
            environ,
            route=PATH,
            duration=time.perf_counter() - started,
            query_hash=hashlib.sha256(operation.text.encode()).hexdigest()[:16],
            query_kind="query",
        )
        return response(environ, start_response)

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
        environ["wsgi.input"] = io.BytesIO(body)
        return body


def install(app: Flask) -> None:
    """Put the fast path in front of ``app``'s own WSGI callable."""
    app.wsgi_app = SparqlFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
