"""Serve the application: granian when read-only (graph.serving.granian_worker), else gunicorn.

This module runs gunicorn: a worker process per core, threads in each.

Read-only (no write token): ``workers`` processes (0 = one per core), each opening its own
read-only handle on the store after the fork (graph.http.context.get_store), ``threads``
threads each.
pyoxigraph releases the GIL while it evaluates, so threads overlap evaluation too.

Writable (a write token is set): RocksDB lets only ONE process open the store read-write, so
the server runs a single worker process with ``threads`` threads.

Runaway queries: pyoxigraph cannot cancel an evaluation, so when one overruns query_timeout
the request is answered with 503 and the worker retires: it stops accepting connections,
finishes the requests it has in flight (up to graceful_timeout), then exits hard, killing the
evaluation; gunicorn's arbiter starts a fresh worker. The other workers keep answering
meanwhile (with a single writable worker, new connections wait for its replacement).
"""

from __future__ import annotations

import errno
import gc
import logging
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from graph.answering import deadline
from graph.answering.admission import Admission, may_restore_priority
from graph.answering.sandbox import worker_filter
from graph.core.machine import usable_cores
from graph.http.app import create_app
from graph.store import is_remote

#: Seconds a retiring worker may spend finishing its other requests before it exits anyway.
RETIRE_GRACE = 10
#: Seconds a thread running Python keeps the GIL once another thread asks for it
#: (sys.setswitchinterval; Python's default is 0.005). A request thread waits up to this long
#: each time it takes the GIL back (after an evaluation, between results) from a thread running
#: Python, such as a write's validation: beside one such thread a point lookup's p99 was 16 ms
#: at 5 ms, 5 ms at 1 ms (docs/scaling.md, "Reads while four writers write"; issue 12).
SWITCH_INTERVAL = 0.001


def worker_count(configured: int, writable: bool) -> int:
    """How many worker processes to run.

    >>> worker_count(0, writable=True)
    1
    >>> worker_count(3, writable=False)
    3
    """
    if writable:
        return 1
    return configured if configured > 0 else usable_cores()


def request_threads(config: dict[str, Any]) -> int:
    """Request threads per worker: ``threads``, and ``slow_query_threads`` more for queries
    running long at idle priority (graph.answering.admission), so they leave short queries theirs.

    Where this process may not demote threads, long queries would compete at full priority:
    no more threads than ``threads`` then (and each runaway retires its worker, as before).
    """
    extra = int(config["SLOW_QUERY_THREADS"]) if may_restore_priority() else 0
    return int(config["THREADS"]) + extra


class Server(BaseApplication):  # type: ignore[misc]
    """gunicorn running :func:`graph.http.app.create_app` with the given settings."""

    def __init__(self, config: dict[str, Any], options: dict[str, Any]) -> None:
        self.app_config = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return create_app(self.app_config)


def gunicorn_options(config: dict[str, Any]) -> dict[str, Any]:
    """gunicorn settings for the app settings ``config`` (upper-case Flask names).

    Over an external store no worker holds a local handle (writes are refused there), so the
    single-writer rule does not apply: one worker per core either way.
    """
    writable = bool(config["WRITE_TOKEN"]) and not is_remote(str(config["STORE"]))
    return {
        "bind": f"{config['HOST']}:{config['PORT']}",
        "workers": worker_count(int(config["WORKERS"]), writable),
        # gthread with a time limit on each request head (slow headers, issue 11 item 3).
        "worker_class": "graph.serving.gunicorn_worker.HeadDeadlineWorker",
        "threads": request_threads(config),
        "worker_connections": 1000,
        "keepalive": 5,
        "graceful_timeout": RETIRE_GRACE,
        # The app buffers each answer within query_timeout; gunicorn's own timeout only has to
        # catch a worker whose main loop is stuck.
        "timeout": max(30, int(float(config["QUERY_TIMEOUT"]) * 3)),
        "preload_app": True,
        "accesslog": None,
        # gunicorn trusts X-Forwarded-Proto (and SCRIPT_NAME headers) from loopback peers by
        # default; the setting `proxies` decides that for both servers (graph.http.app).
        "forwarded_allow_ips": "",
        "secure_scheme_headers": {},
        "post_fork": _post_fork,
        "worker_exit": _worker_exit,
        "child_exit": _child_exit,
    }


def _post_fork(_server: Any, worker: Any) -> None:
    # Before the worker answers anything; gunicorn's worker opens no socket of its own.
    network = worker_filter(worker.app.app_config)
    if network is not None:
        network.load()

    def retire() -> None:
        worker.retired = True
        worker.alive = False
        # Backstop: exit even if gunicorn's graceful stop waits on something forever.
        timer = threading.Timer(RETIRE_GRACE + 1.0, os._exit, (0,))
        timer.daemon = True
        timer.start()

    app = worker.app.wsgi()  # preloaded: the application this worker will serve
    admission: Admission = app.extensions["kg.admission"]
    deadline.runaway_hook = admission.retire_when_crowded(
        retire,
        timeout=float(app.config["QUERY_TIMEOUT"]),
        limit=int(app.config["SLOW_QUERY_THREADS"]),
    )
    # A query over its memory budget is frozen holding that memory: replace the worker now.
    deadline.forced_retire_hook = retire
    # Last, as granian's workers do: what exists now (modules, the app) lives as long as the
    # worker; frozen, no full garbage collection walks it again, holding the GIL while every
    # request waits (a walk of the loaded app took 60-90 ms in one process; issue 12).
    gc.collect()
    gc.freeze()


def _worker_exit(_server: Any, worker: Any) -> None:
    if getattr(worker, "retired", False):
        # A runaway evaluation is still running on a pool thread that Python would wait for
        # at interpreter exit; leave at once instead.
        sys.stderr.flush()
        os._exit(0)


def _child_exit(_server: Any, worker: Any) -> None:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def serve(config: dict[str, Any], *, access_log: bool = True) -> None:
    """Run the server in the foreground until it is stopped; build the store first if absent.

    An external store (``STORE`` is a URL) is never built from here: builds run elsewhere
    (``kg build --store URL``), and every instance serving that store is interchangeable.
    """
    store = Path(config["STORE"])
    say = logging.getLogger("kg")
    # Before either server forks its workers, which inherit it.
    sys.setswitchinterval(SWITCH_INTERVAL)
    if not is_remote(str(config["STORE"])) and not store.exists():
        from graph.build.embedded import build

        say.warning("No store at %s: building it from %s", store, config["PROJECT_DIR"])
        started = time.monotonic()
        result = build(Path(config["PROJECT_DIR"]), store, config["BASE_IRI"])
        say.warning("%s", result.summary(time.monotonic() - started))
    writes = "writes on (token required)" if config["WRITE_TOKEN"] else "read-only"
    where = f"http://{_url_host(str(config['HOST']))}:{config['PORT']}/"
    chosen = http_server(config)
    say.warning(
        "Serving %s at %s (%s, %s); stop with Ctrl+C", config["STORE"], where, chosen, writes
    )
    access = logging.getLogger("kg.access")
    access.propagate = False
    if access_log:
        access.addHandler(logging.StreamHandler(sys.stderr))
        access.setLevel(logging.INFO)
    else:
        access.setLevel(logging.WARNING)
    if http_server(config) == "granian":
        from graph.serving import granian_worker

        writable = bool(config["WRITE_TOKEN"])
        workers = worker_count(int(config["WORKERS"]), writable)
        granian_worker.serve(config, workers, request_threads(config))
    else:
        Server(config, gunicorn_options(config)).run()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def port_taken(host: str, port: int) -> str:
    """Why the server could not listen on ``host``:``port`` (another process listens there),
    or "" when it can. Port 5000 is AirPlay Receiver's on macOS.

    >>> port_taken("127.0.0.1", 0)
    ''
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As the servers do: a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                airplay = " (on macOS, AirPlay Receiver takes 5000)" if port == 5000 else ""
                return f"port {port} on {host} is in use by another program{airplay}"
            if error.errno == errno.EADDRNOTAVAIL:
                return f"{host} is not an address of this machine"
            return f"cannot listen on {host}:{port}: {error.strerror}"
    return ""


def http_server(config: dict[str, Any]) -> str:
    """The HTTP server the ``http_server`` setting picks for ``config``.

    >>> http_server({"HTTP_SERVER": "auto", "WRITE_TOKEN": ""})
    'granian'
    >>> http_server({"HTTP_SERVER": "auto", "WRITE_TOKEN": "secret"})
    'gunicorn'

    :raises ValueError: for an unknown server, or granian with writes switched on.
    """
    choice = str(config["HTTP_SERVER"]).lower()
    writable = bool(config["WRITE_TOKEN"])
    if choice == "auto":
        return "gunicorn" if writable else "granian"
    if choice not in ("granian", "gunicorn"):
        raise ValueError(f"http_server must be auto, granian or gunicorn, not {choice!r}")
    if choice == "granian" and writable:
        # granian replaces a worker by starting the new one before the old one lets go of
        # RocksDB's write lock, and cannot abort a late request body's read (graph.http.bodylimit).
        raise ValueError("http_server granian serves read-only stores; use gunicorn for writes")
    return choice
