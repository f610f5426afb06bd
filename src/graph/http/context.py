"""What a view needs from the application it runs in: its store, and what the client wants."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import cast

from flask import Flask, current_app, request

from graph.answering.store_version import StoreVersion
from graph.answering.writes import Shapes, Writable, load_shapes
from graph.core.errors import StoreUnavailable
from graph.http.negotiate import prefers_html
from graph.store import Store, is_remote, open_store
from graph.store.external.transport import GRACE

#: Serializes the first opening of the store in a process (see get_store).
_OPEN_LOCK = threading.Lock()


def get_store() -> Store:
    """The store of this process, opened on first use (after the server forked its workers).

    Read-only unless writes are switched on with a token. When the ``STORE`` setting is an
    http(s) URL this is a :class:`graph.store.external.remote_store.RemoteStore`, which offers
    the part of pyoxigraph.Store's API the application uses (the parity tests in
    tests/store/test_external_store.py hold it to that), so views are written once against
    ``Store``.
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
            except FileNotFoundError as error:
                raise StoreUnavailable(f"the store cannot be opened: {error}") from None
        app.extensions["kg.store"] = handle
    return handle


def external_store(app: Flask | None = None) -> bool:
    """True when the application (default: the current one) reads an external SPARQL store.

    The application then keeps no state between requests (no result cache, no cached
    figures), since the store changes under it: a build from elsewhere, or another instance.
    """
    config = (app or current_app).config
    return config.get("STORE_HANDLE") is None and is_remote(str(config["STORE"]))


def time_limit(app: Flask) -> tuple[float, bool]:
    """Seconds to wait for an evaluation, and whether to retire the worker when they pass.

    An external store stops a query at its own limit (the limit is sent with the query where
    the store takes one) and the HTTP client gives up GRACE seconds later; waiting past both
    lets the store's own clear answer reach the client, and no worker needs retiring.
    """
    seconds = float(app.config["QUERY_TIMEOUT"])
    if external_store(app):
        return seconds + 2 * GRACE, False
    return seconds, True


def wants_html() -> bool:
    """True when the client prefers an HTML page to data (a browser)."""
    return prefers_html(request.headers.get("Accept"))


def app_shapes() -> Shapes:
    """The shapes writes to this application's store are checked against (its PROJECT_DIR)."""
    config = current_app.config
    shapes = load_shapes(str(config["PROJECT_DIR"]), str(config["BASE_IRI"]))
    allowed = bool(config.get("ALLOW_CURATED_REMOVAL"))
    return dataclasses.replace(shapes, allow_curated_removal=allowed)


def store_version(app: Flask) -> StoreVersion:
    """The version of ``app``'s store: every write committed through ``app`` bumps it, and
    everything derived from the store (result cache, VoID figures) is keyed on it."""
    version: StoreVersion | None = app.extensions.get("kg.version")
    if version is None:
        version = app.extensions.setdefault("kg.version", StoreVersion())
    return version


def writable_of(app: Flask) -> Writable:
    """``app``'s store as writes see it: the app's shapes, its curated graphs policy and the
    store's version."""
    target: Writable | None = app.extensions.get("kg.writable")
    if target is None:
        config = app.config
        shapes = load_shapes(str(config["PROJECT_DIR"]), str(config["BASE_IRI"]))
        allowed = bool(config.get("ALLOW_CURATED_REMOVAL"))
        shapes = dataclasses.replace(shapes, allow_curated_removal=allowed)
        store = str(config["STORE"])
        # Scratch checkpoints go beside the store link: the same file system, for hard links.
        local = config.get("STORE_HANDLE") is None and not is_remote(store)
        scratch = Path(store).absolute().parent if local else None
        target = Writable(
            store_of(app), shapes, store_version(app), str(config["BASE_IRI"]), scratch
        )
        app.extensions["kg.writable"] = target
    return target
