"""The Flask application factory: the only way to build the web application."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, cast

from flask import Flask, Response, current_app, request

from graph import settings
from graph.bodylimit import ChunkedBodyLimit
from graph.errors import HttpError, StoreUnavailable, Unauthorized
from graph.store import Store, is_remote, open_store
from graph.store_version import StoreVersion
from graph.writes import Writable, load_shapes

#: Serializes the first opening of the store in a process (see get_store).
_OPEN_LOCK = threading.Lock()


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the application from the settings (``KG_*``), overridden by ``test_config``.

    ``test_config`` may also carry ``STORE_HANDLE``: an already open store (tests use an
    in-memory one).
    """
    # Static files belong to graph.web (blueprint "web", served at /static).
    app = Flask(__name__, static_folder=None)
    for name, value in settings.resolve().items():
        app.config[name.upper()] = value
    if test_config:
        app.config.update(test_config)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY"]
    app.register_error_handler(HttpError, http_error_response)
    # What is derived from the store is keyed on its version (graph.store_version).
    app.extensions["kg.version"] = StoreVersion()
    # Imported here: these modules import get_store from this one.
    from graph import description, endpoint, fastpath, observe, web
    from graph.web import store as graph_store

    observe.init_app(app)
    endpoint.init_app(app)
    description.init_app(app)
    graph_store.init_app(app)
    web.init_app(app)
    fastpath.install(app)
    # Outermost, so that no path (the /sparql fast path included) sees an unchecked body.
    app.wsgi_app = ChunkedBodyLimit(  # type: ignore[method-assign]
        app.wsgi_app, lambda: int(app.config["MAX_BODY"])
    )
    return app


def http_error_response(error: HttpError) -> Response:
    """Answer a typed error with its status and a plain-text (or attached) body."""
    if error.body is not None:
        response = Response(
            error.body, error.status, error.headers, mimetype=error.media_type or "text/plain"
        )
    else:
        body = f"{error.status} {error.title}: {error.detail}\n"
        response = Response(body, error.status, error.headers, mimetype="text/plain")
    if isinstance(error, Unauthorized):
        # RFC 6750 section 3: a 401 names the scheme the client must use.
        response.headers["WWW-Authenticate"] = 'Bearer realm="alliance-graph"'
    return response


def get_store() -> Store:
    """The store of this process, opened on first use (after the server forked its workers).

    Read-only unless writes are switched on with a token. When the ``STORE`` setting is an
    http(s) URL this is a :class:`graph.remote.RemoteStore`, which offers the part of
    pyoxigraph.Store's API the application uses (the parity tests in tests/test_remote.py hold
    it to that), so views are written once against ``Store``.
    """
    return store_of(cast(Flask, current_app._get_current_object()))  # type: ignore[attr-defined]


def store_of(app: Flask) -> Store:
    """The store of ``app`` in this process (see :func:`get_store`), without a request context."""
    handle: Store | None = app.extensions.get("kg.store")
    if handle is not None:
        return handle
    # The threads of a fresh worker may all get here at once; RocksDB refuses a second
    # read-write open in the same process ("lock hold by current process"): open once.
    with _OPEN_LOCK:
        handle = app.extensions.get("kg.store")
        if handle is None:
            handle = app.config.get("STORE_HANDLE")
        if handle is None:
            read_only = not app.config["WRITE_TOKEN"]
            try:
                options = {name.lower(): value for name, value in app.config.items()}
                opened = open_store(app.config["STORE"], read_only=read_only, options=options)
                handle = cast(Store, opened)
            except (FileNotFoundError, OSError) as error:
                raise StoreUnavailable(f"the store cannot be opened: {error}") from None
        app.extensions["kg.store"] = handle
    return handle


def store_version(app: Flask) -> StoreVersion:
    """The version of ``app``'s store: every write committed through ``app`` bumps it."""
    version: StoreVersion = app.extensions["kg.version"]
    return version


def writable_of(app: Flask) -> Writable:
    """``app``'s store as writes see it: with the project's shapes and the store's version."""
    target: Writable | None = app.extensions.get("kg.writable")
    if target is None:
        shapes = load_shapes(str(app.config["PROJECT_DIR"]), str(app.config["BASE_IRI"]))
        target = Writable(store_of(app), shapes, store_version(app))
        app.extensions["kg.writable"] = target
    return target


def external_store(app: Flask | None = None) -> bool:
    """True when the application (default: the current one) reads an external SPARQL store.

    The application then keeps no state between requests (no result cache, no cached
    figures), since the store changes under it: a build from elsewhere, or another instance.
    """
    config = (app or current_app).config
    return config.get("STORE_HANDLE") is None and is_remote(str(config["STORE"]))


def wants_html() -> bool:
    """True when the client prefers an HTML page to data (a browser)."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "text/turtle"])
    return best == "text/html"
