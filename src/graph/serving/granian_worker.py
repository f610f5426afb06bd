"""Serve the read-only application with granian: HTTP in Rust, a worker process per core.

granian parses HTTP and writes responses in Rust and calls the WSGI application on its own
threads, which leaves Python only the application's work per request (gunicorn's HTTP
handling is pure Python and costs several times a point lookup).

Runaway queries: granian answers each request through a protocol object that any thread may
use, so the SPARQL fast path evaluates on the request thread and the watchdog thread answers
503 at the deadline (graph.answering.deadline.run_watched; :func:`_offer_responder` puts the
object's answering method in the WSGI environ). Other routes use helper threads
(graph.answering.deadline). Its threads get a stack big enough for the longest query accepted
(graph.answering.stack). Then the worker that ran it is replaced (once
graph.answering.admission says enough runaways run in it): it asks granian's main process for
its own graceful replacement (SIGHUP, once per worker, see :func:`_reloading_only_the_retired`):
granian starts the replacement before it stops the old worker,
lets the old one finish the requests it has (up to ``RETIRE_GRACE`` seconds) and kills it
after that, killing the evaluation. The other workers answer meanwhile. A worker that merely
exited would count as a crash, and two within seconds make granian stop altogether, hence the
reload.

Writes need a single process holding RocksDB's lock, which a reload (new worker before old)
cannot give: a writable server runs under gunicorn (graph.serving.server).
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

from graph.answering import deadline, sandbox
from graph.answering import stack as stacks
from graph.answering.admission import Admission
from graph.answering.deadline import RESPONDER
from graph.answering.sandbox import NetworkFilter, worker_filter
from graph.http.app import create_app

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

#: Seconds an old worker may spend finishing its requests before granian kills it.
RETIRE_GRACE = 10
#: Seconds granian waits after starting a replacement before stopping the old worker.
RESPAWN_INTERVAL = 1.0

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
    # threads that can evaluate any query max_query_bytes lets in, so the fast path keeps
    # evaluating in place (graph.answering.stack; unused stack pages take no memory).
    os.environ["RUST_MIN_STACK"] = str(stacks.stack_for(int(config["MAX_QUERY_BYTES"])))
    _config["RETIRE_DIR"] = tempfile.mkdtemp(prefix="kg-retire-")
    server = _reloading_only_the_retired(Granian)(
        f"{__name__}:worker_app",
        factory=True,
        address=config["HOST"],
        port=int(config["PORT"]),
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        runtime_threads=int(config["IO_THREADS"]),
        respawn_failed_workers=True,
        respawn_interval=RESPAWN_INTERVAL,
        workers_kill_timeout=RETIRE_GRACE,
        log_access=False,
        websockets=False,  # a WSGI app has none: granian would say so on every start
        # A request head must arrive within body_timeout (slow headers, issue 11 item 3);
        # bodies cannot be timed under granian (graph.http.bodylimit).
        http1_settings=HTTP1Settings(header_read_timeout=int(float(config["BODY_TIMEOUT"]) * 1000)),
    )
    logging.getLogger("_granian").addFilter(_meant_threads)
    try:
        server.serve()
    finally:
        shutil.rmtree(_config["RETIRE_DIR"], ignore_errors=True)


def _meant_threads(record: logging.LogRecord) -> bool:
    """Drop granian's warning that there are many Python threads per worker: the
    ``slow_query_threads`` beyond ``threads`` are meant (runaways get their own, see
    docs/architecture.md), and the warning on every start only worries whoever reads it."""
    return "Python threads" not in record.getMessage()


def _reloading_only_the_retired(granian: Any) -> Any:
    """granian's server class, made to replace on SIGHUP only the workers that asked.

    granian reloads every worker on SIGHUP: the others' kept-alive connections are closed
    too, and a client sending on one just then gets a reset (seen in
    tests/reliability/test_runaways.py). A retiring worker writes its pid into ``RETIRE_DIR``
    before its SIGHUP (:func:`_retire_once`); a SIGHUP with no such request (an operator's)
    reloads every worker, as granian does. Overrides granian's private ``_reload`` (2.8).
    """

    class Server(granian):  # type: ignore[misc]
        def _reload(self, spawn_target: Any, target_loader: Any) -> Any:
            asking = _retire_requests(Path(_config["RETIRE_DIR"]))
            workers = [w.idx for w in self.wrks if w._id() in asking]
            if not workers:
                return super()._reload(spawn_target, target_loader)
            self.reload_signal = False
            self.main_loop_interrupt.clear()
            return self._respawn_workers(
                workers, spawn_target, target_loader, delay=self.respawn_interval
            )

    return Server


def _retire_requests(directory: Path) -> set[int]:
    """The pids of the workers that asked to be replaced (their requests are taken)."""
    pids = set()
    for request in directory.iterdir():
        request.unlink(missing_ok=True)
        if request.name.isdigit():
            pids.add(int(request.name))
    return pids


def worker_app() -> Flask:
    """The application of one granian worker (called in the worker after the fork)."""
    _offer_responder()
    network = worker_filter(_config)
    # A body read cannot be aborted under granian (graph.http.bodylimit): read in place.
    app = create_app({**_config, "BODY_READS_ABORTABLE": False})
    app.wsgi_app = _close_when_retiring(app.wsgi_app)  # type: ignore[method-assign,assignment]
    if network is not None:
        app.wsgi_app = _sandboxed(app.wsgi_app, network)  # type: ignore[method-assign,assignment]
    retire = _retire_once(os.getppid())
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

    A runaway evaluated in place keeps its thread, so the old worker lingers until granian
    kills it after ``RETIRE_GRACE``; a connection still open to it then would be cut. Closing
    each connection after its next answer moves the clients to the fresh workers first.
    """

    def call(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not deadline.retiring:
            return inner(environ, start_response)

        def closing(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, ("Connection", "close")], exc_info)

        return inner(environ, closing)

    return call


def _offer_responder() -> None:
    """Put granian's way of answering a request into each WSGI environ (deadline.RESPONDER).

    granian's WSGI glue (``granian.wsgi._callback_wrapper``, looked up by the worker right
    after it loads this app) calls ``runner(protocol, scope)`` for each request and answers
    through ``protocol.response_bytes``, which takes effect once: a later answer is ignored.
    Wrapping it here is the one place that knows this; where the glue differs (another granian
    version), nothing is offered and queries fall back to helper threads, still under the limit.
    """
    from granian.server import mp

    glue = getattr(mp, "_wsgi_call_wrap", None)  # private: see the docstring
    if glue is None or getattr(glue, "offers_responder", False):
        return

    def wrap(callback: Any, *args: Any, **kwargs: Any) -> Any:
        runner = glue(callback, *args, **kwargs)

        def run(protocol: Any, scope: Any) -> Any:
            if isinstance(scope, dict):
                scope[RESPONDER] = protocol.response_bytes
            return runner(protocol, scope)

        return run

    wrap.offers_responder = True  # type: ignore[attr-defined]
    setattr(mp, "_wsgi_call_wrap", wrap)  # noqa: B010 (private name: mypy checks exports)


def _retire_once(parent: int) -> Any:
    lock, asked = threading.Lock(), [False]

    def retire() -> None:
        with lock:
            if asked[0]:
                return
            asked[0] = True
        (Path(_config["RETIRE_DIR"]) / str(os.getpid())).touch()
        os.kill(parent, signal.SIGHUP)

    return retire
