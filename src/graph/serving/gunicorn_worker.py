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
import socket
import threading
import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

#: What a client whose request head is too slow gets before its connection closes.
TOO_SLOW = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Connection: close\r\nContent-Length: 60\r\n\r\n"
    b"408 Request Timeout: the request head took too long to come\n"
)


class Watchdog:
    """One thread that cuts off sockets whose deadline has passed (cheaper than a timer each)."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, socket.socket]] = []
        self._pending: set[int] = set()
        self._ids = itertools.count()
        self._wake = threading.Condition()
        threading.Thread(target=self._run, name="kg-head-deadline", daemon=True).start()

    def watch(self, sock: socket.socket, seconds: float) -> int:
        """Cut ``sock`` off in ``seconds`` unless :meth:`cancel` is called with the id returned."""
        ticket = next(self._ids)
        with self._wake:
            heapq.heappush(self._due, (time.monotonic() + seconds, ticket, sock))
            self._pending.add(ticket)
            self._wake.notify()
        return ticket

    def cancel(self, ticket: int) -> None:
        """The head arrived in time."""
        with self._wake:
            self._pending.discard(ticket)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._due:
                    self._wake.wait()
                when, ticket, sock = self._due[0]
                if when > time.monotonic():
                    self._wake.wait(when - time.monotonic())
                    continue
                heapq.heappop(self._due)
                if ticket not in self._pending:
                    continue
                self._pending.discard(ticket)
            _cut_off(sock)


def _cut_off(sock: socket.socket) -> None:
    # OSError: the client went away meanwhile; nothing is left to cut off.
    with contextlib.suppress(OSError):
        sock.sendall(TOO_SLOW)
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)


class HeadDeadlineWorker(ThreadWorker):  # type: ignore[misc]
    """gthread, each request head read within ``body_timeout`` seconds (the app's setting)."""

    watchdog: Watchdog | None = None

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
