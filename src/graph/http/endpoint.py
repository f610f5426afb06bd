"""The SPARQL 1.1 Protocol endpoint at /sparql (https://www.w3.org/TR/sparql11-protocol/): its
one implementation, a WSGI application in front of Flask's routing.

Queries are most of the traffic and the cheapest requests to answer, so Flask's URL matching,
request and application contexts and hooks would be a large share of their cost. Every request
to /sparql is answered here, and only here: a query, an update, the service description (the
query editor for a browser) on a GET without a query, OPTIONS, and every refusal. The request
is read by the protocol's rules (:func:`graph.http.protocol.read_environ`), the operation
answered by graph.http.answer, refusals rendered by graph.http.errors (the one renderer), and
every answer gets the CORS headers, metrics and access log of graph.http.observe. Flask's URL
map lists /sparql as a build-only rule (for ``url_for`` and the lists of routes): Flask has no
view for it.

A query is evaluated on a helper thread under the time limit
(graph.answering.deadline.with_deadline), whichever server runs the app.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask import Flask, Response

from graph.core.errors import GraphError, MethodNotAllowed
from graph.http import answer, service_description
from graph.http.answer import answer_query, apply_update, declared_prefixes, with_charset
from graph.http.errors import wsgi_error_response
from graph.http.observe import access_logged, cors_headers, record
from graph.http.pages.editor import index as editor_page
from graph.http.protocol import Operation, read_environ

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PATH = "/sparql"
#: The methods the endpoint answers (HEAD as GET, OPTIONS for CORS preflights).
METHODS = ("GET", "HEAD", "OPTIONS", "POST")
ALLOW = ", ".join(METHODS)


class SparqlEndpoint:
    """WSGI middleware: answers every request to :data:`PATH`, hands the rest to ``inner``."""

    def __init__(self, app: Flask, inner: WSGIApplication) -> None:
        self.app = app
        self.inner = inner

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH:
            return self.inner(environ, start_response)
        started = time.perf_counter()
        method = environ["REQUEST_METHOD"]
        operation: Operation | None = None
        try:
            if method == "OPTIONS":
                response = Response(status=200, headers={"Allow": ALLOW})
            elif method not in METHODS:
                raise MethodNotAllowed(
                    f"the SPARQL endpoint takes {ALLOW}, not {method}", allowed=METHODS
                )
            else:
                operation, format_param = read_environ(environ)
                if operation.kind == "query":
                    return self._query(environ, start_response, started, operation, format_param)
                if operation.kind == "update":
                    apply_update(self.app, operation, environ.get("HTTP_AUTHORIZATION"))
                    response = Response(status=204)
                else:
                    response = self._describe(environ)
        except GraphError as error:
            response = wsgi_error_response(self.app, error, environ)
        self._add_cors(response, environ)
        size = response.calculate_content_length()
        self._record(response.status_code, environ, started, size, None, operation)
        return response(environ, start_response)

    def _query(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        started: float,
        operation: Operation,
        format_param: str | None,
    ) -> Iterable[bytes]:
        """Answer a query: the usual request, so its 200 is written with the least work."""
        body, media_type, cached = answer_query(
            self.app,
            operation,
            environ.get("HTTP_ACCEPT"),
            format_param,
            client=environ.get("REMOTE_ADDR", ""),
        )
        cache = "hit" if cached else "miss"
        headers = [
            ("Content-Type", with_charset(media_type)),
            ("Content-Length", str(len(body))),
            ("X-Cache", cache),
        ]
        vary = ["Accept"]
        for name, value in self._cors(environ):
            if name == "Vary":
                vary.append(value)
            else:
                headers.append((name, value))
        headers.append(("Vary", ", ".join(vary)))
        self._record(200, environ, started, len(body), cache, operation)
        start_response("200 OK", headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]

    def _describe(self, environ: WSGIEnvironment) -> Response:
        """A GET without a query: the service description, or the query editor for a browser
        (issue 14), rendered in the app's request context (templates, ``url_for``)."""
        with self.app.request_context(environ):
            if service_description.wants_html():
                response = Response(editor_page(), 200, mimetype="text/html")
                response.vary.add("Accept")
                return response
            return service_description.service_description_response(declared_prefixes(self.app))

    def _cors(self, environ: WSGIEnvironment) -> list[tuple[str, str]]:
        origins: str = self.app.config["CORS_ORIGINS"]
        return cors_headers(origins, environ.get("HTTP_ORIGIN"), environ["REQUEST_METHOD"])

    def _add_cors(self, response: Response, environ: WSGIEnvironment) -> None:
        for name, value in self._cors(environ):
            if name == "Vary":
                response.vary.add(value)
            else:
                response.headers[name] = value

    @staticmethod
    def _record(
        status: int,
        environ: WSGIEnvironment,
        started: float,
        size: int | None,
        cache: str | None,
        operation: Operation | None,
    ) -> None:
        kind = operation.kind if operation is not None else "description"
        text = operation.text if operation is not None and kind != "description" else None
        record(
            status,
            environ,
            route=PATH,
            duration=time.perf_counter() - started,
            size=size,
            cache=cache,
            # Only the access log shows it: not worth hashing every query for nothing.
            query_hash=(
                hashlib.sha256(text.encode()).hexdigest()[:16]
                if text is not None and access_logged()
                else None
            ),
            query_kind=kind if text is not None else None,
        )


def init_app(app: Flask) -> None:
    """Put the endpoint in front of ``app``'s routing, with its result cache and admission."""
    answer.init_app(app)
    # No view: the rule is there for url_for and the lists of routes (docs, tests).
    app.add_url_rule(PATH, endpoint="sparql", methods=["GET", "POST"], build_only=True)
    app.wsgi_app = SparqlEndpoint(app, app.wsgi_app)  # type: ignore[method-assign]
