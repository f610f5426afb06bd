"""Serve the read-only application with granian: HTTP in Rust, a worker process per core.

granian parses HTTP and writes responses in Rust and calls the WSGI application on its own
threads, which leaves Python only the application's work per request (gunicorn's HTTP
handling is pure Python and costs several times a point lookup).

Runaway queries: granian answers each request through a protocol object that any thread may
use, so the SPARQL fast path evaluates on the request thread and the watchdog thread answers
503 at the deadline (graph.evaluate.run_watched; :func:`_offer_responder` puts the object's
answering method in the WSGI environ). Other routes use helper threads (graph.evaluate). Then
the worker that ran it is replaced (once graph.admission says enough runaways run in it): it
asks granian's main process for its own graceful replacement (SIGHUP, once per worker, see
:func:`_reloading_only_the_retired`): granian starts the replacement before it stops the old worker,
lets the old one finish the requests it has (up to ``RETIRE_GRACE`` seconds) and kills it
after that, killing the evaluation. The other workers answer meanwhile. A worker that merely
exited would count as a crash, and two within seconds make granian stop altogether, hence the
reload.

Writes need a single process holding RocksDB's lock, which a reload (new worker before old)
cannot give: a writable server runs under gunicorn (graph.server).
"""

from __future__ import annotations

import gc
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

from graph import evaluate
from graph.admission import Admission
from graph.app import create_app
from graph.evaluate import RESPONDER

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

    _config.clear()
    _config.update(config)
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
    )
    try:
        server.serve()
    finally:
        shutil.rmtree(_config["RETIRE_DIR"], ignore_errors=True)


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
    app = create_app(_config)
    app.wsgi_app = _close_when_retiring(app.wsgi_app)  # type: ignore[method-assign,assignment]
    admission: Admission = app.extensions["kg.admission"]
    evaluate.runaway_hook = admission.retire_when_crowded(
        _retire_once(os.getppid()),
        timeout=float(_config["QUERY_TIMEOUT"]),
        limit=int(_config["SLOW_QUERY_THREADS"]),
    )
    # What exists now (modules, the app) lives as long as the worker: keep the cyclic garbage
    # collector from walking it again on every full collection, a pause in some request.
    gc.collect()
    gc.freeze()
    return app


def _close_when_retiring(inner: WSGIApplication) -> WSGIApplication:
    """Once the worker is being replaced (it had a runaway), answer with ``Connection: close``.

    A runaway evaluated in place keeps its thread, so the old worker lingers until granian
    kills it after ``RETIRE_GRACE``; a connection still open to it then would be cut. Closing
    each connection after its next answer moves the clients to the fresh workers first.
    """

    def call(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not evaluate.retiring:
            return inner(environ, start_response)

        def closing(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, ("Connection", "close")], exc_info)

        return inner(environ, closing)

    return call


def _offer_responder() -> None:
    """Put granian's way of answering a request into each WSGI environ (evaluate.RESPONDER).

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
