"""gunicorn's gthread worker with a time limit on reading a request's head (slow headers).

gunicorn 27 waits a few seconds for a new connection's first byte off the thread pool, but once
a byte has come a worker thread parses the request line and headers with a blocking ``recv``
and no time limit: two connections sending ``GET / HTTP/1.1\\r\\nHost: x\\r\\n`` and then
nothing froze the writable server (2 threads) for as long as they stayed open (measured,
issue 11 item 3). Here each head must arrive within ``body_timeout`` seconds: past it the
client gets 408 and the connection's read side is shut, so the parser sees the end of the
stream and the thread is free. The body has its own limit (graph.http.bodylimit).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
import socket
import threading
import time
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from graph.http.secureheaders import HEADERS

#: What a client whose request head is too slow gets before its connection closes.
TOO_SLOW = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Connection: close\r\nContent-Length: 60\r\n\r\n"
    b"408 Request Timeout: the request head took too long to come\n"
)


class Watchdog:
    """One thread that cuts off sockets whose deadline has passed (cheaper than a timer each).

    It wakes when the earliest deadline still pending passes, and when a socket is watched
    whose deadline comes before that: never per request otherwise. A head read in time is
    only struck off; its entry stays in the queue until the thread wakes anyway. Waking for
    every watched socket and again at every deadline, cancelled or not, held 9% of a writable
    worker's GIL samples, time its request threads waited for (docs/scaling.md, "Reads while
    four writers write"; issue 12).
    """

    def __init__(self) -> None:
        #: (deadline, ticket) of every socket watched since the thread last looked.
        self._due: list[tuple[float, int]] = []
        #: The sockets still watched, by ticket, with their deadline.
        self._pending: dict[int, tuple[float, socket.socket]] = {}
        self._ids = itertools.count()
        self._wake = threading.Condition()
        #: When the thread looks next (inf: when a socket is watched).
        self._next = math.inf
        #: How many times the thread has looked (tests/serving/test_gunicorn_worker.py).
        self.looks = 0
        threading.Thread(target=self._run, name="kg-head-deadline", daemon=True).start()

    def watch(self, sock: socket.socket, seconds: float) -> int:
        """Cut ``sock`` off in ``seconds`` unless :meth:`cancel` is called with the id returned."""
        ticket = next(self._ids)
        when = time.monotonic() + seconds
        with self._wake:
            self._pending[ticket] = (when, sock)
            heapq.heappush(self._due, (when, ticket))
            if len(self._due) > 4 * len(self._pending) + 1024:
                self._compact()
            if when < self._next:
                self._next = when
                self._wake.notify()
        return ticket

    def cancel(self, ticket: int) -> None:
        """The head arrived in time."""
        with self._wake:
            self._pending.pop(ticket, None)

    def _compact(self) -> None:
        """Drop the struck-off entries from the queue (its length stays within a few times
        the sockets watched, whatever the request rate)."""
        self._due = [(when, ticket) for ticket, (when, _) in self._pending.items()]
        heapq.heapify(self._due)

    def _run(self) -> None:
        while True:
            with self._wake:
                late = self._take_late()
                if not late:
                    left = self._next - time.monotonic()
                    self._wake.wait(None if left == math.inf else max(left, 0.0))
                    continue
            for sock in late:
                _cut_off(sock)

    def _take_late(self) -> list[socket.socket]:
        """The sockets past their deadline, struck off; the next look set (lock held)."""
        self.looks += 1
        now, late = time.monotonic(), []
        while self._due:
            when, ticket = self._due[0]
            if ticket in self._pending and when > now:
                break
            heapq.heappop(self._due)
            if ticket in self._pending:
                late.append(self._pending.pop(ticket)[1])
        self._next = self._due[0][0] if self._due else math.inf
        return late


def _cut_off(sock: socket.socket) -> None:
    # OSError: the client went away meanwhile; nothing is left to cut off.
    with contextlib.suppress(OSError):
        sock.sendall(TOO_SLOW)
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)


def write_error(sock: socket.socket, status: int, reason: str, message: str) -> None:
    """gunicorn's own answer to a request it cannot parse (400, 414 URI too long, 431 header
    too large, 417, ...), as plain text with the security headers every answer of the app
    carries: gunicorn's is an HTML page without them (h11o). Same status and message."""
    body = f"{status} {reason}: {message}\n".encode("utf-8", "replace")
    head = [
        f"HTTP/1.1 {status} {reason}",
        "Connection: close",
        "Content-Type: text/plain; charset=utf-8",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in HEADERS),
    ]
    util.write_nonblock(sock, "\r\n".join(head).encode("latin-1") + b"\r\n\r\n" + body)


class HeadDeadlineWorker(ThreadWorker):  # type: ignore[misc]
    """gthread, each request head read within ``body_timeout`` seconds (the app's setting),
    its own refusals written by :func:`write_error`."""

    watchdog: Watchdog | None = None

    def init_process(self) -> None:
        # Worker.handle_error looks util.write_error up at each call (gunicorn 27).
        util.write_error = write_error
        super().init_process()

    def handle(self, conn: Any) -> Any:
        if self.watchdog is None:
            self.watchdog = Watchdog()  # made in the worker: threads do not survive a fork
        seconds = float(self.app.app_config.get("BODY_TIMEOUT") or 10.0)
        conn.kg_head_ticket = self.watchdog.watch(conn.sock, seconds)
        try:
            return super().handle(conn)
        finally:
            self.watchdog.cancel(conn.kg_head_ticket)

    def handle_request(self, req: Any, conn: Any) -> Any:
        # The head is in: from here the body's and the query's own limits apply.
        if self.watchdog is not None:
            self.watchdog.cancel(conn.kg_head_ticket)
        return super().handle_request(req, conn)
