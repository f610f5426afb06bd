"""Serve the read-only application with granian: HTTP in Rust, a worker process per core.

granian parses HTTP and writes responses in Rust and calls the WSGI application on its own
threads, which leaves Python only the application's work per request (gunicorn's HTTP
handling is pure Python and costs several times a point lookup).

Runaway queries: queries are evaluated on helper threads while the request thread waits with a
timeout (graph.answering.deadline.with_deadline), so a runaway's client gets its 503 at the
deadline through the plain WSGI interface. Helper threads get a stack big enough for the
longest query accepted (graph.answering.stack). Then the worker is replaced (once
graph.answering.admission says enough runaways run in it), through granian's public interface
only. With two workers or more it stops itself and granian respawns it alone
(graph.serving.stop_alone): the other workers keep their connections and go on listening.
With one worker, or when a query froze over its memory budget (:func:`_retire_once`), the worker
sends SIGHUP to granian's main process, which replaces every worker, each in turn, starting the
new one ``RESPAWN_INTERVAL`` seconds before it stops the old (SIGTERM: the old one stops
accepting and finishes its requests, up to ``RETIRE_GRACE`` seconds, then is killed, with the
runaway evaluation); meanwhile every worker answers with ``Connection: close``
(:func:`_close_when_retiring`, also when an operator sends the SIGHUP: :func:`_count_reload`),
so kept-alive clients reconnect instead of being cut when their worker stops.
graph.serving.listener keeps the connections arriving meanwhile (``TCP_DEFER_ACCEPT``, and the
``net.ipv4.tcp_migrate_req`` warning). Replacing only one worker with a successor started
first would need granian's private ``_reload``.

Writes need a single process holding RocksDB's lock, which granian's replacement (new worker
before old) cannot give, and a late request body holds a thread here until its client leaves
(graph.http.bodylimit): a writable server runs under gunicorn (graph.serving.server).
"""

from __future__ import annotations

import functools
import gc
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable
from ctypes import c_uint64
from multiprocessing.sharedctypes import RawValue
from typing import TYPE_CHECKING, Any

from flask import Flask

from graph.answering import deadline, sandbox
from graph.answering import stack as stacks
from graph.answering.admission import Admission
from graph.answering.sandbox import NetworkFilter, worker_filter
from graph.answering.suspects import Suspects
from graph.http.app import create_app
from graph.http.bodylimit import held_reads
from graph.serving import listener, stop_alone
from graph.store import is_remote

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: Seconds an old worker may spend finishing its requests before granian kills it.
RETIRE_GRACE = 10
#: Seconds granian waits after starting a replacement before stopping the old worker.
RESPAWN_INTERVAL = 1.0

#: The point lookup a worker answers itself before it accepts connections (:func:`_warm_up`).
WARM_UP = "SELECT ?p ?o WHERE { <urn:kg:warm-up> ?p ?o }"
#: The app settings for the workers; set by :func:`serve` before granian forks them.
_config: dict[str, Any] = {}
#: How many workers granian runs; set by :func:`serve` before granian forks them.
_workers = 1
#: How many times a worker asked granian to replace the workers: shared memory, made before
#: granian forks the workers, so each sees the others' requests (a memory read per request).
_reloads = RawValue(c_uint64, 0)
#: The suspect clients and queries of every worker (graph.answering.suspects): made before
#: granian forks the workers, so a worker and its successors know the others' runaways.
_suspects = Suspects()


def serve(config: dict[str, Any], workers: int, threads: int) -> None:
    """Run granian in the foreground with ``workers`` processes of ``threads`` Python threads
    (and ``io_threads`` Rust threads for the connections)."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    global _workers
    _config.clear()
    _config.update(config)
    _workers = workers
    # Before granian forks the workers, so that they share it.
    _reloads.value = 0
    # granian's request threads are Rust threads, 2 MiB of stack by default: ask Rust for
    # threads that can parse any query max_query_bytes lets in (graph.answering.stack; unused
    # stack pages take no memory). Evaluation runs on helper threads sized per query.
    os.environ["RUST_MIN_STACK"] = str(stacks.stack_for(int(config["MAX_QUERY_BYTES"])))
    server = Granian(
        f"{__name__}:worker_app",
        factory=True,
        address=config["HOST"],
        port=int(config["PORT"]),
        interface=Interfaces.WSGI,
        workers=workers,
        # A request whose body is late holds its thread until the client leaves: as many more
        # as may be held (graph.http.bodylimit), so lookups keep ``threads``.
        blocking_threads=threads + held_reads(config),
        runtime_threads=int(config["IO_THREADS"]),
        respawn_failed_workers=True,
        respawn_interval=RESPAWN_INTERVAL,
        workers_kill_timeout=RETIRE_GRACE,
        log_access=False,
        websockets=False,  # a WSGI app has none: granian would say so on every start
        # A request head must arrive within body_timeout (slow headers, issue 11 item 3);
        # bodies have theirs in graph.http.bodylimit.
        http1_settings=HTTP1Settings(header_read_timeout=int(float(config["BODY_TIMEOUT"]) * 1000)),
    )
    logging.getLogger("_granian").addFilter(_meant_threads)
    logging.getLogger("_granian").addFilter(stop_alone.explain_exit)
    if warning := listener.migration_warning():
        logging.getLogger("kg").warning("%s", warning)
    server.on_reload(_count_reload)
    server.serve()


def _count_reload() -> None:
    """In granian's main process, on every SIGHUP (a worker's or an operator's): tell the
    workers being replaced to close their connections after their next answer."""
    _reloads.value += 1


def _meant_threads(record: logging.LogRecord) -> bool:
    """Drop granian's warning that there are many Python threads per worker: the
    ``slow_query_threads`` beyond ``threads`` are meant (runaways get their own, see
    docs/architecture.md), and the warning on every start only worries whoever reads it."""
    return "Python threads" not in record.getMessage()


def worker_app() -> Flask:
    """The application of one granian worker (called in the worker after the fork)."""
    stop_alone.started()
    network = worker_filter(_config)
    # A body read cannot be aborted under granian: a late one is held (graph.http.bodylimit).
    app = create_app({**_config, "BODY_READS_ABORTABLE": False})
    _warm_up(app)
    app.wsgi_app = _close_when_retiring(app.wsgi_app, _reloads.value)  # type: ignore[method-assign,assignment]
    if network is not None:
        app.wsgi_app = _sandboxed(app.wsgi_app, network)  # type: ignore[method-assign,assignment]
    retire = _retire_once(os.getppid())
    admission: Admission = app.extensions["kg.admission"]
    admission.suspects = _suspects
    crowded = retire
    if _workers > 1:
        crowded = stop_alone.retire_alone(
            query_timeout=float(_config["QUERY_TIMEOUT"]), workers=_workers
        )
    deadline.runaway_hook = admission.retire_when_crowded(
        crowded,
        timeout=float(_config["QUERY_TIMEOUT"]),
        limit=int(_config["SLOW_QUERY_THREADS"]),
    )
    # A query over its memory budget is frozen holding that memory: replace the worker now.
    deadline.forced_retire_hook = retire
    listener.defer_accept_once_listening(
        int(_config["PORT"]), then=functools.partial(stop_alone.listening, _workers)
    )
    # What exists now (modules, the app) lives as long as the worker: keep the cyclic garbage
    # collector from walking it again on every full collection, a pause in some request.
    gc.collect()
    gc.freeze()
    return app


def _warm_up(app: Flask) -> None:
    """Answer :data:`WARM_UP` through the whole application before granian lets this worker
    accept connections (it listens once the factory returns): a fresh worker's first lookup
    otherwise opens the store and takes the query path's first steps while its client waits,
    34-212 ms against 1-3 ms (docs/reliability.md, section 9), and a successor's first
    requests come in while runaways have the machine busy. Not for an external store, which
    may be slow or down (its workers keep nothing to warm). Left out of the access log;
    counted in the metrics (one 200 on ``/sparql`` per worker start).
    """
    if is_remote(str(app.config["STORE"])):
        return
    access = logging.getLogger("kg.access")
    shown, access.disabled = access.disabled, True
    try:
        answer = app.test_client().get(
            "/sparql",
            query_string={"query": WARM_UP},
            headers={"Accept": "application/sparql-results+json"},
        )
    finally:
        access.disabled = shown
    if answer.status_code != 200:
        logging.getLogger("kg").warning("worker warm-up lookup answered %s", answer.status)


def _sandboxed(inner: WSGIApplication, network: NetworkFilter) -> WSGIApplication:
    """Load ``network`` (graph.answering.sandbox) before the worker answers its first request.

    Not earlier: granian's worker calls socket() itself after this factory returns, while it
    sets up its listener, and would die of the filter. Every request passes here first, so none
    is answered, and no visitor's SPARQL evaluated, without the filter.
    """

    def call(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not sandbox.active():
            network.load()
        return inner(environ, start_response)

    return call


def _close_when_retiring(inner: WSGIApplication, generation: int) -> WSGIApplication:
    """Once the workers are being replaced (one had runaways), answer with ``Connection: close``.

    granian stops each old worker soon after (:func:`_retire_once`); a kept-alive connection
    still open to it then is closed between two requests, and a client sending on it just then
    gets a reset. Closing each connection after its next answer moves the clients to the fresh
    workers first. ``generation`` is the count of replacements asked for when this worker
    started (a fresh worker is not being replaced).
    """

    def call(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not deadline.retiring and _reloads.value == generation:
            return inner(environ, start_response)

        def closing(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, ("Connection", "close")], exc_info)

        return inner(environ, closing)

    return call


def _retire_once(parent: int) -> Callable[[], None]:
    """The worker's way to be replaced, asked for once: SIGHUP to granian's main process
    ``parent``, granian's public way to replace its workers gracefully (see the module's
    docstring); every worker closes its connections after their next answer meanwhile."""
    lock, asked = threading.Lock(), [False]

    def retire() -> None:
        with lock:
            if asked[0]:
                return
            asked[0] = True
            _reloads.value += 1
        os.kill(parent, signal.SIGHUP)

    return retire
