"""Read every request body before the application sees it: at most ``max_body`` bytes, within
``body_timeout`` seconds.

Size: Werkzeug enforces MAX_CONTENT_LENGTH on a body of unknown length (chunked) by
*truncating* it: ``request.get_data()`` returned the first ``max_body`` bytes and raised
nothing, so an over-limit chunked upload was parsed cut short (and a Graph Store PUT committed
its first part). Here a body is read up to one byte past the limit; over it the answer is 413.

Time (issue 11, item 3): neither server bounds the time a client takes to send a body. A body
sent one byte a second held a worker thread for as long as the client liked, so two such
clients froze the writable server (gunicorn, 2 threads) and three or four the read-only one.
The body is read on a reader thread while the request thread waits at most ``body_timeout``;
past it the client gets 408 with ``Connection: close``. What happens to the read still pending
depends on the server:

- gunicorn (gthread: blocking ``recv``, no timeout of its own): the connection's read side is
  shut, the blocked ``recv`` returns, the reader is free and the connection closes.
- granian reads a body in Rust when ``wsgi.input`` is read, has no body timeout (granian 2.8:
  only ``header_read_timeout``) and no way to abort a read; its WSGI environ has no
  ``REMOTE_PORT``, so the connection's socket cannot be found to shut. A request that
  *finishes* while its body is still being read stalls the whole worker (the GIL stays with
  the granian thread that ends it, parked in Rust until the read ends:
  bench/granian_body_stall.py). So the 408's body does not end until the read has
  (:class:`_HeldAnswer`, waiting with the GIL released): the client gets its 408 on time, and
  the request thread and the reader stay held until the client completes its body or leaves.
  What slow clients can hold that way is bounded: a worker has at most ``held_reads`` body
  reads pending (:class:`ReadSlots`, setting ``body_reads``); a request with a body past that
  gets 503 with ``Retry-After``, its body never read (a request that finishes without
  touching its body does not stall granian): at once when the reads holding the slots are
  slow ones, after waiting up to :data:`QUICK` for a slot while one is held by a read just
  begun. Requests without a body take no slot. graph.serving.granian_worker gives granian
  ``held_reads`` request threads more than ``threads``, so point lookups keep theirs.

The application then gets the body in memory with its Content-Length, like any request.

A refusal is a typed error (408 :class:`RequestTimeout`, 413 :class:`PayloadTooLarge`, 400
:class:`BadRequest`, 503 :class:`ServerBusy`) rendered by graph.http.errors like any other,
and closes the connection.
"""

from __future__ import annotations

import contextlib
import io
import math
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from graph.core.errors import (
    BadRequest,
    GraphError,
    PayloadTooLarge,
    RequestTimeout,
    ServerBusy,
)
from graph.http.bodyreaders import Read
from graph.http.errors import wsgi_error_response

if TYPE_CHECKING:
    from flask import Flask

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Bytes read from the input stream at a time.
CHUNK = 64 * 1024
#: Seconds a body's read may be pending before it counts as slow (:class:`ReadSlots`). Under
#: load quick bodies' reads wait for the GIL: with 2 slots, refusing whenever both were taken
#: refused a third of the POST queries of ``bench/cpu_per_request.py`` (wrk, 16 connections).
QUICK = 0.25


def held_reads(config: Mapping[str, Any]) -> int:
    """The body reads a granian worker may have pending at once: ``body_reads``, or as many
    as ``threads`` when it is 0 (upper-case Flask setting names).

    >>> held_reads({"BODY_READS": 0, "THREADS": 2}), held_reads({"BODY_READS": 5, "THREADS": 2})
    (2, 5)
    """
    return int(config["BODY_READS"]) or int(config["THREADS"])


class ReadSlots:
    """At most ``size`` body reads pending at once: each holds a slot until its read ends.

    A request that finds every slot taken waits for one while the youngest read holding one
    is under :data:`QUICK` seconds old (a quick body's read is pending for a moment, longer
    under load), and is refused at once when all of them are older (slow clients).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._changed = threading.Condition()
        #: When each pending read started, by its slot.
        self._started: dict[object, float] = {}

    def take(self) -> object | None:
        """A slot (give it back with :meth:`give_back`), or None when none is free for
        being held by slow reads."""
        with self._changed:
            while len(self._started) >= self.size:
                left = max(self._started.values()) + QUICK - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)
            slot = object()
            self._started[slot] = time.monotonic()
            return slot

    def give_back(self, slot: object) -> None:
        with self._changed:
            del self._started[slot]
            self._changed.notify()


class RequestBodies:
    """WSGI middleware: read each request body within ``limit`` bytes and ``seconds``."""

    def __init__(
        self,
        inner: WsgiApp,
        limit: Callable[[], int],
        seconds: Callable[[], float],
        *,
        held_reads: int | None = None,
        app: Flask | None = None,
    ) -> None:
        self.inner = inner
        self.limit = limit
        self.seconds = seconds
        #: Under granian, the reads that may be pending at once (see the module's docstring);
        #: None under gunicorn, where a late read is aborted.
        self.slots = None if held_reads is None else ReadSlots(held_reads)
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

        :raises GraphError: for a body over the limit, too slow, cut short or of a malformed
            length, or when every read slot is taken.
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
        body = self._read_in_time(environ, wanted, length)
        if len(body) > limit:
            raise PayloadTooLarge(f"the request body is over the limit of {limit} bytes")
        if length is not None and len(body) < length:
            raise BadRequest(f"the request body ended after {len(body)} of its {length} bytes")
        return body

    def _read_in_time(self, environ: dict[str, Any], size: int, length: int | None) -> bytes:
        """Up to ``size`` bytes of the body (of ``length`` declared bytes, None when chunked),
        read on a reader thread within ``seconds``, or in place when it is in memory already.

        :raises RequestTimeout: when the body has not arrived by then (:class:`_StillReading`
            under granian: the read goes on).
        :raises ServerBusy: under granian, when every read slot is taken.
        """
        seconds = self.seconds()
        late = (
            f"the request body did not arrive within {seconds:g} seconds (setting body_timeout)"
        )
        if buffered(environ["wsgi.input"], length):
            return _read_at_most(environ["wsgi.input"], size)
        if self.slots is not None:
            return _read_held(environ, size, seconds, self.slots, late)
        try:
            return read_within(environ, size, seconds)
        except TimeoutError:
            raise RequestTimeout(late) from None

    def _refuse(
        self, error: GraphError, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Answer ``error``; the connection closes (the rest of the body is not read: gunicorn
        would otherwise read it on a worker thread before the connection's next request)."""
        _stop_reading(environ)
        response = wsgi_error_response(self.flask, error, environ)
        response.headers["Connection"] = "close"
        answer = response(environ, start_response)
        if isinstance(error, _StillReading):
            return _HeldAnswer(answer, error.read)
        return answer


class _StillReading(RequestTimeout):
    """A 408 whose body's read is still pending (granian cannot abort it)."""

    def __init__(self, detail: str, read: Read) -> None:
        super().__init__(detail)
        self.read = read


class _HeldAnswer:
    """An answer whose body ends only once ``read`` has (see the module's docstring).

    The wait is in ``__next__`` after the last chunk, and again in ``close()`` for a server
    that stops iterating early: with either alone the worker did not stall
    (bench/granian_body_stall.py); a wait that gives up before the read ends stalled it again.
    The wait blocks on a queue, which releases the GIL.
    """

    def __init__(self, answer: Iterable[bytes], read: Read) -> None:
        self._answer = answer
        self._chunks: Iterator[bytes] = iter(answer)
        self._read = read

    def __iter__(self) -> _HeldAnswer:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except StopIteration:
            self._read.wait()
            raise

    def close(self) -> None:
        self._read.wait()
        close = getattr(self._answer, "close", None)
        if close is not None:
            close()


def _read_held(
    environ: dict[str, Any], size: int, seconds: float, slots: ReadSlots, late: str
) -> bytes:
    """:meth:`RequestBodies._read_in_time` under granian: the read takes a slot and, late,
    goes on past the 408 (see the module's docstring).

    :raises _StillReading: when the body has not arrived within ``seconds``.
    :raises ServerBusy: when every slot is taken by slow reads.
    """
    slot = slots.take()
    if slot is None:
        raise ServerBusy(
            f"the server is receiving as many request bodies as it takes ({slots.size},"
            " setting body_reads); retry later",
            retry_after=max(1, math.ceil(seconds)),
        )
    stream = environ["wsgi.input"]

    def read_then_give_back() -> bytes:
        try:
            return _read_at_most(stream, size)
        finally:
            slots.give_back(slot)

    try:
        read = Read(read_then_give_back)
    except RuntimeError:  # no thread could be started
        slots.give_back(slot)
        raise
    try:
        return read.result(timeout=seconds)
    except TimeoutError:
        raise _StillReading(late, read) from None


def read_within(environ: dict[str, Any], size: int, seconds: float) -> bytes:
    """Up to ``size`` bytes of the request body (less if it ends first), read within ``seconds``;
    past them the read is aborted where the server lets us (gunicorn).

    :raises TimeoutError: when the body has not arrived by then.
    """
    stream = environ["wsgi.input"]
    try:
        return Read(lambda: _read_at_most(stream, size)).result(timeout=seconds)
    except TimeoutError:
        _stop_reading(environ)
        raise


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
