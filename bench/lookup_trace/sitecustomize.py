"""Timestamps per step of each request inside a writable ``kg serve`` (bench/served_write_trace.py).

Imported at interpreter start when this folder is on PYTHONPATH; acts only in ``kg serve`` with
``KG_BENCH_TRACE`` naming a file. It wraps the gunicorn worker's steps and
graph.answering.deadline.with_deadline, and appends one JSON line per request to that file: the
client's send time (its ``X-Bench-Sent`` header, CLOCK_MONOTONIC like ours), when the main loop
saw the socket readable, when a pool thread took it, the head parsed, the body read (on
graph.http.bodylimit's reader thread), the helper thread's start and end, the hand-back, the
end; and for the pool and helper threads their time running and waiting for a core
(/proc/thread-self/schedstat), so the rest of each span is time asleep: waiting for the GIL, a
lock or the client. Not part of the application."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

_PATH = os.environ.get("KG_BENCH_TRACE", "")


def _sched() -> tuple[int, int]:
    """(ns running, ns waiting for a core) of the calling thread."""
    with open("/proc/thread-self/schedstat", "rb") as f:
        run, wait, _ = f.read().split()
    return int(run), int(wait)


def _install() -> None:
    from gunicorn.workers import gthread

    from graph.answering import deadline
    from graph.http import bodylimit
    from graph.serving import gunicorn_worker

    out = open(_PATH, "a", buffering=1)  # noqa: SIM115 (open for the process's life)
    local = threading.local()
    readable = gthread.ThreadWorker.on_client_socket_readable

    def on_readable(self: Any, conn: Any, client: Any) -> Any:
        conn.kg_seen = time.monotonic()
        return readable(self, conn, client)

    handle = gunicorn_worker.HeadDeadlineWorker.handle

    def traced_handle(self: Any, conn: Any) -> Any:
        record: dict[str, Any] = {"seen": getattr(conn, "kg_seen", None), "start": time.monotonic()}
        conn.kg_seen = None
        local.record, before = record, _sched()
        try:
            return handle(self, conn)
        finally:
            record["end"] = time.monotonic()
            after = _sched()
            record["pool_run"] = (after[0] - before[0]) / 1e9
            record["pool_queue"] = (after[1] - before[1]) / 1e9
            local.record = None
            if "sent" in record:
                out.write(json.dumps(record) + "\n")

    handle_request = gunicorn_worker.HeadDeadlineWorker.handle_request

    def traced_handle_request(self: Any, req: Any, conn: Any) -> Any:
        record = getattr(local, "record", None)
        if record is not None:
            record["parsed"] = time.monotonic()
            for name, value in req.headers:
                if name == "X-BENCH-SENT":
                    record["sent"] = float(value)
                elif name == "AUTHORIZATION":
                    record["write"] = True
        return handle_request(self, req, conn)

    with_deadline = deadline.with_deadline

    def traced_with_deadline(work: Any, seconds: float, **options: Any) -> Any:
        record = getattr(local, "record", None)
        if record is None:
            return with_deadline(work, seconds, **options)

        def timed() -> Any:
            record["helper_start"], before = time.monotonic(), _sched()
            try:
                return work()
            finally:
                after = _sched()
                record["helper_end"] = time.monotonic()
                record["helper_run"] = (after[0] - before[0]) / 1e9
                record["helper_queue"] = (after[1] - before[1]) / 1e9

        record["handoff"] = time.monotonic()
        try:
            return with_deadline(timed, seconds, **options)
        finally:
            record["back"] = time.monotonic()

    read_within = bodylimit.read_within

    def traced_read_within(environ: Any, size: int, seconds: float) -> bytes:
        record = getattr(local, "record", None)
        if record is not None:
            record["body_start"] = time.monotonic()
        try:
            return read_within(environ, size, seconds)
        finally:
            if record is not None:
                record["body_end"] = time.monotonic()

    bodylimit.read_within = traced_read_within
    collecting: dict[str, float] = {}

    def collection(phase: str, info: dict[str, Any]) -> None:
        # Every cyclic garbage collection, which holds the GIL throughout.
        if phase == "start":
            collecting["start"] = time.monotonic()
        elif "start" in collecting:
            gc = {"gc": info["generation"], "start": collecting.pop("start")}
            out.write(json.dumps({**gc, "end": time.monotonic()}) + "\n")

    import gc

    gc.callbacks.append(collection)
    gthread.ThreadWorker.on_client_socket_readable = on_readable
    gunicorn_worker.HeadDeadlineWorker.handle = traced_handle
    gunicorn_worker.HeadDeadlineWorker.handle_request = traced_handle_request
    deadline.with_deadline = traced_with_deadline


if _PATH and "serve" in sys.argv:
    _install()
