"""An ASGI front for the WSGI application: granian reads request bodies on its event loop
under a time limit, request threads of our own run the application (issue 11, item 3).

Under granian's WSGI interface a body is read on the request thread with no time limit, and
answering while that read is pending stalled the whole worker (graph.http.bodylimit). Under its
ASGI interface the body arrives through ``await receive()`` on granian's event loop, so a body
that has not arrived within ``body_timeout`` is simply abandoned there: no thread ever waits
for a slow client (checked against a real granian 2.8.9: four clients sending a byte a second
got 408 at the limit, their connections closed, and other requests went on).

The application then runs on one of ``threads`` request threads of this module, each with the
stack a query may need (graph.answering.stack); its body comes as ``wsgi.input`` in memory, or,
past the time limit, as a stream whose read raises TimeoutError, which graph.http.bodylimit
turns into the 408 the application renders like any refusal. A whole answer is handed to
granian from the request thread (``send`` completes at once there); a streamed one chunk by
chunk through the event loop, each chunk waiting for the one before to be taken (backpressure).

Prototype: not wired into ``kg serve`` (see bench/README.md, "Why two HTTP servers still", for
what it costs per request).
"""

from __future__ import annotations

import asyncio
import io
import queue
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from graph.answering import stack as stacks

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_Job = tuple[dict[str, Any], Send, asyncio.AbstractEventLoop, "asyncio.Future[None]"]


class _TimedOut(io.RawIOBase):
    """The body of a request whose body did not arrive in time: reading it raises TimeoutError
    (graph.http.bodylimit answers 408 and closes the connection)."""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        raise TimeoutError


class AsgiFront:
    """ASGI application running ``inner`` (WSGI) on ``threads`` request threads of ``stack``
    bytes of stack, once its body (at most ``limit()`` + 1 bytes) is read within ``seconds()``."""

    def __init__(
        self,
        inner: WSGIApplication,
        *,
        threads: int,
        stack: int,
        limit: Callable[[], int],
        seconds: Callable[[], float],
    ) -> None:
        self.inner = inner
        self.threads = threads
        self.stack = stack
        self.limit = limit
        self.seconds = seconds
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._started = False

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # granian's "asginl" interface sends no lifespan events
            return
        if not self._started:
            self._start_threads()
        environ = environ_for(scope)
        if environ.get("CONTENT_LENGTH", "0") != "0" or "HTTP_TRANSFER_ENCODING" in environ:
            try:
                async with asyncio.timeout(self.seconds()):
                    body = await read_body(receive, self.limit() + 1)
            except TimeoutError:
                environ["wsgi.input"] = _TimedOut()
            else:
                environ["wsgi.input"] = io.BytesIO(body)
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._jobs.put((environ, send, loop, done))
        await done

    def _start_threads(self) -> None:
        # On the first request, in the worker: threads do not survive granian's fork.
        self._started = True
        for _ in range(self.threads):
            self._start_thread()

    def _start_thread(self) -> None:
        thread = threading.Thread(target=self._serve, name="kg-request", daemon=True)
        stacks.start_thread(thread, self.stack)

    def _serve(self) -> None:
        try:
            while True:
                environ, send, loop, done = self._jobs.get()
                try:
                    _answer(self.inner, environ, send, loop)
                finally:
                    # Unanswered (the application failed outside Flask's handling): granian
                    # answers 500 once the request's coroutine ends.
                    loop.call_soon_threadsafe(_settle, done)
                del environ, send, loop, done
        finally:
            # An error escaped the application (threading's hook prints it): keep the pool full.
            if not sys.is_finalizing():
                self._start_thread()


def _settle(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)


async def read_body(receive: Receive, most: int) -> bytes:
    """The request body, or its first ``most`` bytes or more when it is longer."""
    parts, total = [], 0
    while total < most:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect: the client left
            break
        part = message.get("body", b"")
        parts.append(part)
        total += len(part)
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def environ_for(scope: Message) -> dict[str, Any]:
    """The WSGI environ of the ASGI request ``scope`` (PEP 3333: strings of latin-1 bytes)."""
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    raw_path = scope.get("raw_path") or scope["path"].encode()
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", ""),
        "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
        "QUERY_STRING": scope["query_string"].decode("latin-1"),
        "SERVER_NAME": server[0],
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": "HTTP/" + scope.get("http_version", "1.1"),
        "REMOTE_ADDR": client[0],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[name] = value
            continue
        key = "HTTP_" + name
        if key in environ:
            value = environ[key] + (";" if name == "COOKIE" else ",") + value
        environ[key] = value
    return environ


def _answer(
    inner: WSGIApplication,
    environ: dict[str, Any],
    send: Send,
    loop: asyncio.AbstractEventLoop,
) -> None:
    """Run ``inner`` for ``environ`` on this thread and hand its answer to granian."""
    started: list[tuple[int, list[tuple[bytes, bytes]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        started[:] = [(int(status[:3]), encoded)]
        return lambda _data: None  # the legacy write() callable: unused by Flask

    result = inner(environ, start_response)
    try:
        chunks = iter(result)
        first = next(chunks, b"")
        second = next(chunks, None)
        status, headers = started[0]
        start: Message = {"type": "http.response.start", "status": status, "headers": headers}
        if second is None:
            # A whole answer: granian takes it at once (its send() needs no event loop then).
            send(start)
            send({"type": "http.response.body", "body": first})
            return
        _stream(send, loop, start, _chain(first, second, chunks))
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def _chain(first: bytes, second: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield second
    yield from rest


def _stream(
    send: Send, loop: asyncio.AbstractEventLoop, start: Message, chunks: Iterable[bytes]
) -> None:
    """Send a streamed answer chunk by chunk through the event loop (granian's send may wait
    for its channel to have room there)."""

    def on_loop(message: Message) -> None:
        asyncio.run_coroutine_threadsafe(_send(send, message), loop).result()

    on_loop(start)
    for chunk in chunks:
        if chunk:
            on_loop({"type": "http.response.body", "body": chunk, "more_body": True})
    on_loop({"type": "http.response.body", "body": b""})


async def _send(send: Send, message: Message) -> None:
    await send(message)
