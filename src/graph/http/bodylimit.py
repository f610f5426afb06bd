"""Read every request body before the application sees it: at most ``max_body`` bytes, within
``body_timeout`` seconds.

Size: Werkzeug enforces MAX_CONTENT_LENGTH on a body of unknown length (chunked) by
*truncating* it: ``request.get_data()`` returned the first ``max_body`` bytes and raised
nothing, so an over-limit chunked upload was parsed cut short (and a Graph Store PUT committed
its first part). Here a body is read up to one byte past the limit; over it the answer is 413.

Time (issue 11, item 3): neither server bounds the time a client takes to send a body. A body
sent one byte a second held a worker thread for as long as the client liked, so two such
clients froze the writable server (gunicorn, 2 threads) and three or four the read-only one.

Under gunicorn (gthread: blocking ``recv``, no timeout of its own) the body is read on a reader
thread while the request thread waits at most ``body_timeout``; past it the client gets 408,
the connection's read side is shut (the blocked ``recv`` returns, freeing the reader) and the
connection closes.

Under granian the body is read in place, with no time limit: granian reads it in Rust when
``wsgi.input`` is read (``WSGIBody.read`` blocks on the connection), has no body timeout
(granian 2.8: only ``header_read_timeout``) and no way to abort a read, and answering while a
read is still pending stalled the whole worker until that client finished or went away
(measured: one client sending one byte then nothing stalled every other request for as long as
it kept the connection). A slow body there holds one thread, as before; docs/security.md says
so, and ``http_server = gunicorn`` gives a read-only server the time limit too.
The application then gets the body in memory with its Content-Length, like any request.

A refusal is a typed error (408 :class:`RequestTimeout`, 413 :class:`PayloadTooLarge`, 400
:class:`BadRequest`) rendered by graph.http.errors like any other, and closes the connection.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any

from graph.core.errors import BadRequest, GraphError, PayloadTooLarge, RequestTimeout
from graph.http.errors import wsgi_error_response

if TYPE_CHECKING:
    from flask import Flask

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Bytes read from the input stream at a time.
CHUNK = 64 * 1024
#: Threads per process reading request bodies (see the module's docstring).
READERS = 32

_readers: ThreadPoolExecutor | None = None
_readers_lock = threading.Lock()


class RequestBodies:
    """WSGI middleware: read each request body within ``limit`` bytes and ``seconds``."""

    def __init__(
        self,
        inner: WsgiApp,
        limit: Callable[[], int],
        seconds: Callable[[], float],
        *,
        abortable: bool = True,
        app: Flask | None = None,
    ) -> None:
        self.inner = inner
        self.limit = limit
        self.seconds = seconds
        #: False under granian: read in place, without a time limit (see the module's docstring).
        self.abortable = abortable
        #: The application whose error pages browsers get (text without one).
        self.flask = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        try:
            body = self._read(environ)
        except GraphError as error:
            return self._refuse(error, environ, start_response)
        if body is not None:
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.inner(environ, start_response)

    def _read(self, environ: dict[str, Any]) -> bytes | None:
        """The request's whole body; None when it has none.

        :raises GraphError: for a body over the limit, too slow, cut short or of a malformed length.
        """
        length = _declared_length(environ)
        if length == 0:
            return None
        if length is not None and length < 0:
            raise BadRequest("the Content-Length is not a number")
        limit = self.limit()
        if length is not None and length > limit:
            raise PayloadTooLarge(f"the request body is over the limit of {limit} bytes")
        wanted = limit + 1 if length is None else length
        try:
            if self.abortable and not buffered(environ["wsgi.input"], length):
                body = read_within(environ, wanted, self.seconds())
            else:
                body = _read_at_most(environ["wsgi.input"], wanted)
        except TimeoutError:
            raise RequestTimeout(
                f"the request body did not arrive within {self.seconds():g} seconds"
                " (setting body_timeout)"
            ) from None
        if len(body) > limit:
            raise PayloadTooLarge(f"the request body is over the limit of {limit} bytes")
        if length is not None and len(body) < length:
            raise BadRequest(f"the request body ended after {len(body)} of its {length} bytes")
        return body

    def _refuse(
        self, error: GraphError, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Answer ``error``; the connection closes (the rest of the body is not read: gunicorn
        would otherwise read it on a worker thread before the connection's next request)."""
        _stop_reading(environ)
        response = wsgi_error_response(self.flask, error, environ)
        response.headers["Connection"] = "close"
        return response(environ, start_response)


def read_within(environ: dict[str, Any], size: int, seconds: float) -> bytes:
    """Up to ``size`` bytes of the request body (less if it ends first), read within ``seconds``.

    :raises TimeoutError: when the body has not arrived by then.
    """
    stream, given_up = environ["wsgi.input"], threading.Event()

    def read() -> bytes:
        return b"" if given_up.is_set() else _read_at_most(stream, size)

    future = _pool().submit(read)
    try:
        return future.result(timeout=seconds)
    except FutureTimeout:
        given_up.set()
        future.cancel()
        _stop_reading(environ)
        raise TimeoutError from None


def buffered(stream: Any, length: int | None) -> bool:
    """True when gunicorn holds the whole body of ``length`` bytes in memory already (it came
    with the head, as a point lookup's does): reading it cannot block, so it is read in place.

    Handing the read to a reader thread and back costs two waits for the GIL, each up to the
    switch interval while a write's Python runs: a point lookup's slowest step beside four
    writers (docs/scaling.md, "Reads while four writers write"; issue 12). Anything but
    gunicorn's ``Body`` over a ``LengthReader`` (a chunked body, granian, a test's stream) is
    read on a reader thread as before.
    """
    reader = getattr(stream, "reader", None)
    held = getattr(getattr(reader, "unreader", None), "buf", None)
    own, left = getattr(stream, "buf", None), getattr(reader, "length", None)
    if length is None or not isinstance(left, int):
        return False
    if not isinstance(own, io.BytesIO) or not isinstance(held, io.BytesIO):
        return False
    return len(own.getvalue()) + min(len(held.getvalue()), left) >= length


def _stop_reading(environ: dict[str, Any]) -> None:
    """Release a reader blocked on the connection, where the server lets us (gunicorn)."""
    sock = environ.get("gunicorn.socket")
    if isinstance(sock, socket.socket):
        # OSError: the client went away meanwhile, which released the reader already.
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RD)


def _pool() -> ThreadPoolExecutor:
    # Made on first use in each process: a pool's threads do not survive the server's fork.
    global _readers
    with _readers_lock:
        if _readers is None:
            _readers = ThreadPoolExecutor(READERS, thread_name_prefix="kg-body")
        return _readers


def _declared_length(environ: dict[str, Any]) -> int | None:
    """The body's Content-Length; None for a chunked body; -1 for a malformed length."""
    raw = environ.get("CONTENT_LENGTH") or ""
    if raw.strip():
        return int(raw) if raw.strip().isdigit() else -1
    return None if environ.get("HTTP_TRANSFER_ENCODING") else 0


def _read_at_most(stream: Any, size: int) -> bytes:
    parts, total = [], 0
    while total < size:
        part = stream.read(min(CHUNK, size - total))
        if not part:
            break
        parts.append(part)
        total += len(part)
    return b"".join(parts)
