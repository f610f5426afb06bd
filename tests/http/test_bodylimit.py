"""Request bodies are read within max_body bytes and body_timeout seconds (graph.http.bodylimit)."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from typing import Any

import pytest
from gunicorn.http.body import Body, LengthReader
from gunicorn.http.unreader import SocketUnreader

from graph.http import bodylimit
from graph.http.app import create_app
from graph.http.bodylimit import RequestBodies
from graph.store import memory_store


class SlowInput:
    """A request body that sends one byte, then nothing until released (a slow client)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.sent = False

    def read(self, size: int = -1) -> bytes:
        if not self.sent:
            self.sent = True
            return b"q"
        self.release.wait(30)
        return b""


def call(app: RequestBodies, environ: dict[str, Any]) -> tuple[str, bytes, dict[str, Any]]:
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
        answer["status"], answer["headers"] = status, dict(headers)

    body = b"".join(app(environ, start_response))
    return answer["status"], body, answer["headers"]


def echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    start_response("200 OK", [])
    return [body]


def middleware(limit: int = 100, seconds: float = 0.3) -> RequestBodies:
    return RequestBodies(echo, lambda: limit, lambda: seconds)


def environ(body: Any, **extra: str) -> dict[str, Any]:
    return {"REQUEST_METHOD": "POST", "wsgi.input": body, **extra}


def test_a_slow_body_gets_408_and_frees_the_request_thread() -> None:
    slow = SlowInput()
    try:
        status, body, headers = call(middleware(), environ(slow, CONTENT_LENGTH="50"))
    finally:
        slow.release.set()
    assert status == "408 REQUEST TIMEOUT"
    assert b"body_timeout" in body
    assert headers["Connection"] == "close"


def test_a_slow_chunked_body_gets_408_too() -> None:
    slow = SlowInput()
    try:
        status, _, _ = call(middleware(), environ(slow, HTTP_TRANSFER_ENCODING="chunked"))
    finally:
        slow.release.set()
    assert status == "408 REQUEST TIMEOUT"


def test_bodies_within_the_limits_reach_the_application_whole() -> None:
    status, body, _ = call(middleware(), environ(io.BytesIO(b"x" * 80), CONTENT_LENGTH="80"))
    assert (status, body) == ("200 OK", b"x" * 80)
    chunked = environ(io.BytesIO(b"y" * 100), HTTP_TRANSFER_ENCODING="chunked")
    assert call(middleware(), chunked)[:2] == ("200 OK", b"y" * 100)


def test_bodies_over_the_limit_get_413_without_being_read() -> None:
    never = SlowInput()
    never.sent = True
    status, _, _ = call(middleware(), environ(never, CONTENT_LENGTH="101"))
    assert status == "413 REQUEST ENTITY TOO LARGE"
    chunked = environ(io.BytesIO(b"y" * 101), HTTP_TRANSFER_ENCODING="chunked")
    assert call(middleware(), chunked)[0] == "413 REQUEST ENTITY TOO LARGE"


def test_a_body_shorter_than_its_length_or_a_bad_length_is_a_400() -> None:
    assert call(middleware(), environ(io.BytesIO(b"ab"), CONTENT_LENGTH="5"))[0].startswith("400")
    assert call(middleware(), environ(io.BytesIO(b"ab"), CONTENT_LENGTH="x1"))[0].startswith("400")


def test_a_refusal_is_rendered_like_any_error_of_the_app() -> None:
    """One renderer (graph.http.errors): JSON when asked for, an HTML page for a browser."""
    app = create_app({"TESTING": True, "STORE_HANDLE": memory_store([]), "MAX_BODY": 10})
    client = app.test_client()
    as_json = client.post("/sparql", data="x" * 11, headers={"Accept": "application/json"})
    assert as_json.status_code == 413 and as_json.headers["Connection"] == "close"
    assert json.loads(as_json.data)["message"] == "the request body is over the limit of 10 bytes"
    page = client.post("/sparql", data="x" * 11, headers={"Accept": "text/html"})
    assert page.status_code == 413 and page.mimetype == "text/html"
    assert "over the limit of 10 bytes" in page.get_data(as_text=True)
    assert page.headers["Content-Security-Policy"]


class NeverRead:
    """A request body that must not be read (the test fails if it is)."""

    def read(self, size: int = -1) -> bytes:
        raise AssertionError("the body was read")


def held(reads: int = 1, seconds: float = 0.3) -> RequestBodies:
    """The middleware as under granian: late reads held, at most ``reads`` pending."""
    return RequestBodies(echo, lambda: 100, lambda: seconds, held_reads=reads)


def test_under_granian_a_late_body_gets_408_whose_answer_ends_with_the_read() -> None:
    """granian stalls its worker when a request ends while its body is being read
    (graph.http.bodylimit): the 408 is sent, then its iterable waits for the read."""
    slow, answer = SlowInput(), {}
    app = held()

    def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
        answer["status"], answer["headers"] = status, dict(headers)

    chunks = iter(app(environ(slow, CONTENT_LENGTH="50"), start_response))
    try:
        assert answer["status"] == "408 REQUEST TIMEOUT"
        assert answer["headers"]["Connection"] == "close"
        assert b"body_timeout" in next(chunks)
        ended = threading.Event()
        waiting = threading.Thread(target=lambda: (list(chunks), ended.set()), daemon=True)
        waiting.start()
        assert not ended.wait(0.3), "the answer ended while its body was still being read"
    finally:
        slow.release.set()
    assert ended.wait(5)


def test_under_granian_bodies_past_the_cap_get_503_without_being_read() -> None:
    slow = SlowInput()
    app = held(reads=1)
    first = threading.Thread(target=call, args=(app, environ(slow, CONTENT_LENGTH="50")))
    first.start()
    try:
        while not slow.sent:
            time.sleep(0.01)
        status, body, headers = call(app, environ(NeverRead(), CONTENT_LENGTH="5"))
        assert status == "503 SERVICE UNAVAILABLE"
        assert b"body_reads" in body
        assert headers["Retry-After"] == "1" and headers["Connection"] == "close"
        # A request without a body takes no slot.
        assert call(app, {"REQUEST_METHOD": "GET", "wsgi.input": NeverRead()})[0] == "200 OK"
    finally:
        slow.release.set()
    first.join(5)
    # The slot came back with the end of the slow read.
    assert call(app, environ(io.BytesIO(b"abc"), CONTENT_LENGTH="3"))[:2] == ("200 OK", b"abc")


def test_under_granian_quick_bodies_give_their_slot_back() -> None:
    app = held(reads=1)
    for n in range(20):
        body = str(n).encode()
        assert call(app, environ(io.BytesIO(body), CONTENT_LENGTH=str(len(body))))[1] == body


class LateInput:
    """A request body that arrives whole after ``delay`` seconds (a quick client under load)."""

    def __init__(self, body: bytes, delay: float) -> None:
        self.body, self.delay = body, delay

    def read(self, size: int = -1) -> bytes:
        time.sleep(self.delay)
        self.body, body = b"", self.body
        return body


def test_under_granian_a_body_waits_for_a_slot_held_by_a_quick_read() -> None:
    """Refused at once only when the slots are held by slow reads: a quick body's read is
    pending for a moment, and a burst of POST queries must not be refused for it."""
    app = held(reads=1)
    first = threading.Thread(
        target=call, args=(app, environ(LateInput(b"abc", 0.1), CONTENT_LENGTH="3"))
    )
    first.start()
    time.sleep(0.02)  # the first read holds the only slot
    assert call(app, environ(io.BytesIO(b"de"), CONTENT_LENGTH="2"))[:2] == ("200 OK", b"de")
    first.join(5)


def gunicorn_body(sock: socket.socket, length: int) -> Any:
    """What gunicorn hands the application as ``wsgi.input`` for a body of ``length`` bytes,
    having read the head (and what came with it) from ``sock``."""
    unreader = SocketUnreader(sock)
    head = unreader.read()
    unreader.unread(head.partition(b"\r\n\r\n")[2])
    return Body(LengthReader(unreader, length))


def test_a_body_that_came_with_its_head_is_read_in_place(monkeypatch: Any) -> None:
    # No reader thread (each hand-over waits for the GIL; issue 12): the body is in memory.
    monkeypatch.setattr(bodylimit, "Read", lambda *_: pytest.fail("a reader thread was used"))
    server, client = socket.socketpair()
    with server, client:
        client.sendall(b"POST /sparql HTTP/1.1\r\nContent-Length: 11\r\n\r\nquery=ASK{}")
        stream = gunicorn_body(server, 11)
        assert bodylimit.buffered(stream, 11)
        status, body, _ = call(middleware(), environ(stream, CONTENT_LENGTH="11"))
    assert (status, body) == ("200 OK", b"query=ASK{}")


def test_a_body_still_to_come_is_read_within_the_time_limit() -> None:
    # Half the body came with the head, then nothing: reading it in place would block for as
    # long as the client liked; on the reader thread it gets 408.
    server, client = socket.socketpair()
    with server, client:
        client.sendall(b"POST /sparql HTTP/1.1\r\nContent-Length: 50\r\n\r\nquery=")
        stream = gunicorn_body(server, 50)
        assert not bodylimit.buffered(stream, 50)
        status, _, _ = call(middleware(), environ(stream, CONTENT_LENGTH="50"))
    assert status == "408 REQUEST TIMEOUT"
