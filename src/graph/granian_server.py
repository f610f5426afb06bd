"""Serve the read-only application with granian: HTTP in Rust, a worker process per core.

granian parses HTTP and writes responses in Rust and calls the WSGI application on its own
threads, which leaves Python only the application's work per request (gunicorn's HTTP
handling is pure Python and costs several times a point lookup).

Runaway queries keep the design described in graph.server: the request thread answers 503 at
the deadline while the evaluation goes on in a daemon helper thread, and the worker that ran
it is replaced. Here the worker asks granian's main process for a graceful reload (SIGHUP,
once per worker): granian starts each replacement before it stops the old worker, lets the old
one finish the requests it has (up to ``RETIRE_GRACE`` seconds) and kills it after that,
killing the evaluation. The other workers answer meanwhile. A worker that merely exited would
count as a crash, and two within seconds make granian stop altogether, hence the reload.

Writes need a single process holding RocksDB's lock, which a reload (new worker before old)
cannot give: a writable server runs under gunicorn (graph.server).
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from flask import Flask

from graph import evaluate
from graph.app import create_app

#: Seconds an old worker may spend finishing its requests before granian kills it.
RETIRE_GRACE = 10
#: Seconds granian waits after starting a replacement before stopping the old worker.
RESPAWN_INTERVAL = 1.0

#: The app settings for the workers; set by :func:`serve` before granian forks them.
_config: dict[str, Any] = {}


def serve(config: dict[str, Any], workers: int, threads: int) -> None:
    """Run granian in the foreground with ``workers`` processes of ``threads`` threads."""
    from granian import Granian
    from granian.constants import Interfaces

    _config.clear()
    _config.update(config)
    server = Granian(
        f"{__name__}:worker_app",
        factory=True,
        address=config["HOST"],
        port=int(config["PORT"]),
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        respawn_failed_workers=True,
        respawn_interval=RESPAWN_INTERVAL,
        workers_kill_timeout=RETIRE_GRACE,
        log_access=False,
    )
    server.serve()


def worker_app() -> Flask:
    """The application of one granian worker (called in the worker after the fork)."""
    app = create_app(_config)
    evaluate.runaway_hook = _retire_once(os.getppid())
    return app


def _retire_once(parent: int) -> Any:
    lock, asked = threading.Lock(), [False]

    def retire() -> None:
        with lock:
            if asked[0]:
                return
            asked[0] = True
        os.kill(parent, signal.SIGHUP)

    return retire
