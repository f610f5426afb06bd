"""The Flask application factory: the only way to build the web application."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from flask import Flask
from flask.typing import RouteCallable
from werkzeug.middleware.proxy_fix import ProxyFix

from graph.answering.store_version import StoreVersion
from graph.core import settings
from graph.http import (
    endpoint,
    errors,
    graph_store,
    observe,
    pages,
    reconcile,
    service_description,
)
from graph.http.bodylimit import RequestBodies, held_reads
from graph.http.secureheaders import SecurityHeaders
from graph.store import evaluating


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the application from the settings (``KG_*``), overridden by ``test_config``.

    ``test_config`` may also carry ``STORE_HANDLE``: an already open store (tests use an
    in-memory one).
    """
    # Static files belong to graph.http.pages (blueprint "web", served at /static).
    app = Flask(__name__, static_folder=None)
    for name, value in settings.resolve().items():
        app.config[name.upper()] = value
    if test_config:
        app.config.update(test_config)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY"]
    errors.init_app(app)
    # What is derived from the store is keyed on its version (graph.answering.store_version).
    app.extensions["kg.version"] = StoreVersion()
    observe.init_app(app)
    service_description.init_app(app)
    graph_store.init_app(app)
    pages.init_app(app)
    reconcile.init_app(app)
    # In front of Flask's routing: the one implementation of /sparql (graph.http.endpoint).
    endpoint.init_app(app)
    _own_queries_read_the_store(app)
    # Outermost, so that no path (/sparql included) sees an unchecked body, and every answer
    # (refusals of bodies too) carries the security headers.
    bodies = RequestBodies(
        app.wsgi_app,
        lambda: int(app.config["MAX_BODY"]),
        lambda: float(app.config["BODY_TIMEOUT"]),
        # graph.serving.granian_worker turns this off: granian cannot abort a read, so a
        # late one is held, and the reads pending at once are capped (graph.http.bodylimit).
        held_reads=None if app.config.get("BODY_READS_ABORTABLE", True) else held_reads(app.config),
        app=app,
    )
    writable = bool(app.config["WRITE_TOKEN"])
    app.wsgi_app = SecurityHeaders(bodies, writable=writable)  # type: ignore[method-assign]
    proxies = int(app.config["PROXIES"])
    if proxies > 0:
        # Outside everything else, so every part of the app sees the client the proxies name.
        # X-Forwarded-Host and -Prefix are never read: a proxy that does not overwrite them
        # would pass a client's value into cacheable answers.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=1, x_host=0, x_prefix=0
        )
    return app


def _own_queries_read_the_store(app: Flask) -> None:
    """Run every view inside :func:`graph.store.evaluating` with no client's text: a view
    evaluates the project's own queries (a visitor's text is evaluated inside
    graph.http.pages.guarded.run_visitor_query, which decides for it), so the engine failing
    one of them is the store failing, a 503, not an unhandled error (brief h13r)."""
    for name, view in list(app.view_functions.items()):
        app.view_functions[name] = cast(RouteCallable, evaluating(text="")(view))
