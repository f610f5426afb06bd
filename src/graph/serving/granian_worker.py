"""Serve the read-only application with granian: HTTP in Rust, a worker process per core.

granian parses HTTP and writes responses in Rust and calls the WSGI application on its own
threads, which leaves Python only the application's work per request (gunicorn's HTTP
handling is pure Python and costs several times a point lookup).

Runaway queries: queries are evaluated on helper threads while the request thread waits with a
timeout (graph.answering.deadline.with_deadline), so a runaway's client gets its 503 at the
deadline through the plain WSGI interface. Helper threads get a stack big enough for the
longest query accepted (graph.answering.stack). Then the worker that ran it is replaced (once
graph.answering.admission says enough runaways run in it), through granian's public behaviour
only (:func:`_retire_once`): the worker stops itself as granian stops a worker (SIGTERM: it
stops accepting connections and finishes the requests it has), with a backstop exit after
``RETIRE_GRACE`` seconds, and granian's ``respawn_failed_workers`` starts a fresh one. granian
takes a worker that exits within ``CRASH_LOOP_WINDOW`` seconds of its own start for a crash
loop and stops altogether, so a worker never leaves younger than that. The listening socket is
granian's main process's: connections arriving meanwhile wait in its backlog, and the other
workers answer.

Writes need a single process holding RocksDB's lock; a worker replaced this way lets go of it
before its successor starts, but a request body cannot be read under a time limit here
(graph.http.bodylimit), so a writable server runs under gunicorn (graph.serving.server).
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask

from graph.answering import deadline, sandbox
from graph.answering import stack as stacks
from graph.answering.admission import Admission
from graph.answering.sandbox import NetworkFilter, worker_filter
from graph.http.app import create_app

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: Seconds a retiring worker may spend finishing its requests before it exits anyway.
RETIRE_GRACE = 10
#: granian (2.8, ``AbstractServer._serve_loop``) stops the whole server when a worker exits
#: within 5.5 s of being (re)spawned ("Worker crash loop detected"); a retiring worker waits
#: until it is older than this.
CRASH_LOOP_WINDOW = 6.5

#: The app settings for the workers; set by :func:`serve` before granian forks them.
_config: dict[str, Any] = {}


def serve(config: dict[str, Any], workers: int, threads: int) -> None:
    """Run granian in the foreground with ``workers`` processes of ``threads`` Python threads
    (and ``io_threads`` Rust threads for the connections)."""
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    _config.clear()
    _config.update(config)
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
        blocking_threads=threads,
        runtime_threads=int(config["IO_THREADS"]),
        # A worker that retired (a runaway) exits; granian starts a fresh one.
        respawn_failed_workers=True,
        workers_kill_timeout=RETIRE_GRACE,
        log_access=False,
        websockets=False,  # a WSGI app has none: granian would say so on every start
        # A request head must arrive within body_timeout (slow headers, issue 11 item 3);
        # bodies cannot be timed under granian (graph.http.bodylimit).
        http1_settings=HTTP1Settings(header_read_timeout=int(float(config["BODY_TIMEOUT"]) * 1000)),
    )
    logging.getLogger("_granian").addFilter(_meant_threads)
    server.serve()


def _meant_threads(record: logging.LogRecord) -> bool:
    """Drop granian's warning that there are many Python threads per worker: the
    ``slow_query_threads`` beyond ``threads`` are meant (runaways get their own, see
    docs/architecture.md), and the warning on every start only worries whoever reads it."""
    return "Python threads" not in record.getMessage()


def worker_app() -> Flask:
    """The application of one granian worker (called in the worker after the fork)."""
    born = time.monotonic()
    network = worker_filter(_config)
    # A body read cannot be aborted under granian (graph.http.bodylimit): read in place.
    app = create_app({**_config, "BODY_READS_ABORTABLE": False})
    app.wsgi_app = _close_when_retiring(app.wsgi_app)  # type: ignore[method-assign,assignment]
    if network is not None:
        app.wsgi_app = _sandboxed(app.wsgi_app, network)  # type: ignore[method-assign,assignment]
    retire = _retire_once(born)
    admission: Admission = app.extensions["kg.admission"]
    deadline.runaway_hook = admission.retire_when_crowded(
        retire,
        timeout=float(_config["QUERY_TIMEOUT"]),
        limit=int(_config["SLOW_QUERY_THREADS"]),
    )
    # A query over its memory budget is frozen holding that memory: replace the worker now.
    deadline.forced_retire_hook = retire
    # What exists now (modules, the app) lives as long as the worker: keep the cyclic garbage
    # collector from walking it again on every full collection, a pause in some request.
    gc.collect()
    gc.freeze()
    return app


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


def _close_when_retiring(inner: WSGIApplication) -> WSGIApplication:
    """Once the worker is being replaced (it had a runaway), answer with ``Connection: close``.

    The worker keeps answering until it stops (:func:`_retire_once` waits out granian's
    crash-loop window first); a kept-alive connection still open to it then would be closed
    between two requests, and a client sending on it just then gets a reset. Closing each
    connection after its next answer moves the clients to the other or the fresh workers first.
    """

    def call(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not deadline.retiring:
            return inner(environ, start_response)

        def closing(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, ("Connection", "close")], exc_info)

        return inner(environ, closing)

    return call


def _retire_once(born: float) -> Any:
    """The worker's way to be replaced, asked for once: stop as granian stops a worker.

    SIGTERM is what granian's main process sends a worker it stops: the worker stops
    accepting and finishes its requests; the exit then looks like a failed worker to granian,
    which starts a fresh one (``respawn_failed_workers``) unless the worker is younger than
    ``CRASH_LOOP_WINDOW``, hence the wait. A runaway's evaluation (a daemon helper thread)
    ends with the process; a request that keeps the worker past ``RETIRE_GRACE`` (a body still
    arriving) is cut then.
    """
    lock, asked = threading.Lock(), [False]

    def stop() -> None:
        time.sleep(max(0.0, born + CRASH_LOOP_WINDOW - time.monotonic()))
        logging.getLogger("kg").warning(
            "worker %d retires (runaway queries): granian starts a fresh one", os.getpid()
        )
        backstop = threading.Timer(RETIRE_GRACE, os._exit, (0,))
        backstop.daemon = True
        backstop.start()
        os.kill(os.getpid(), signal.SIGTERM)

    def retire() -> None:
        with lock:
            if asked[0]:
                return
            asked[0] = True
        threading.Thread(target=stop, name="kg-retire", daemon=True).start()

    return retire
