"""graph.serving.asgi_front (a prototype, not wired into ``kg serve``): request bodies read
on granian's event loop under a time limit (issue 11, item 3), against a real granian."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from graph.serving.asgi_front import environ_for, read_body
from tests.processes import free_port
from tests.serving.asgi_front_app import CHUNKS, LIMIT, SECONDS

ROOT = Path(__file__).resolve().parents[2]


def test_the_environ_carries_what_the_scope_says() -> None:
    scope = {
        "type": "http", "method": "POST", "path": "/caf\u00e9", "raw_path": b"/caf%C3%A9",
        "query_string": b"a=1&b=%20", "root_path": "", "http_version": "1.1",
        "scheme": "http", "server": ("127.0.0.1", 8000), "client": ("10.0.0.9", 5555),
        "headers": [(b"content-type", b"text/plain"), (b"content-length", b"3"),
                    (b"accept", b"a/b"), (b"accept", b"c/d"),
                    (b"cookie", b"x=1"), (b"cookie", b"y=2")],
    }  # fmt: skip
    environ = environ_for(scope)
    # PEP 3333: the path's bytes, each as one latin-1 character.
    assert environ["PATH_INFO"] == "/caf\u00c3\u00a9"
    assert environ["QUERY_STRING"] == "a=1&b=%20"
    assert (environ["CONTENT_TYPE"], environ["CONTENT_LENGTH"]) == ("text/plain", "3")
    assert "HTTP_CONTENT_TYPE" not in environ
    assert environ["HTTP_ACCEPT"] == "a/b,c/d"
    assert environ["HTTP_COOKIE"] == "x=1;y=2"
    assert (environ["REMOTE_ADDR"], environ["SERVER_PORT"]) == ("10.0.0.9", "8000")
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"


def test_a_body_is_read_up_to_the_bytes_asked_for_and_no_further() -> None:
    messages = [{"type": "http.request", "body": b"x" * 400, "more_body": True}] * 10
    taken: list[int] = []

    async def receive() -> dict[str, object]:
        taken.append(1)
        return messages[len(taken) - 1]

    assert len(asyncio.run(read_body(receive, 1001))) == 1200
    assert len(taken) == 3  # the rest of the body is never asked for

    async def gone() -> dict[str, object]:
        return {"type": "http.disconnect"}

    assert asyncio.run(read_body(gone, 10)) == b""


@pytest.fixture(scope="module")
def granian(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A granian worker serving tests/serving/asgi_front_app.py on its ASGI interface."""
    port, log = free_port(), tmp_path_factory.mktemp("asgi") / "granian.log"
    factory = "tests.serving.asgi_front_app:make"
    command = [sys.executable, "-m", "granian", "--interface", "asginl", "--workers", "1",
               "--no-ws", "--port", str(port), "--factory", factory]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(requests.ConnectionError):
                requests.get(url + "/up", timeout=2)
                break
            time.sleep(0.1)
        else:
            pytest.fail("granian did not come up:\n" + log.read_text(errors="replace")[-2000:])
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.mark.slow
def test_answers_whole_and_streamed_and_bodies_arrive(granian: str) -> None:
    answer = requests.post(granian + "/echo", data=b"abc", timeout=5)
    assert (answer.status_code, answer.text) == (200, "POST /echo 3")
    assert answer.headers["X-Echo"] == "abc"
    assert requests.get(granian + "/stream", timeout=5).content == b"".join(CHUNKS)
    chunked = requests.post(granian + "/echo", data=iter([b"ab", b"cd"]), timeout=5)
    assert chunked.text == "POST /echo 4"


@pytest.mark.slow
def test_bodies_over_the_limit_get_413(granian: str) -> None:
    declared = requests.post(granian + "/echo", data=b"x" * (LIMIT + 1), timeout=5)
    assert declared.status_code == 413
    chunked = requests.post(granian + "/echo", data=iter([b"x" * LIMIT, b"y"]), timeout=5)
    assert chunked.status_code == 413


def _drip(port: int, results: list[tuple[bytes, float, bool]]) -> None:
    """A POST whose body comes one byte a second: what came back, when, and whether the
    server then closed the connection."""
    started, answer = time.monotonic(), b""
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n")
        while not answer and time.monotonic() - started < SECONDS + 8:
            with contextlib.suppress(OSError):
                sock.sendall(b" ")
            try:
                answer = sock.recv(4096)
            except TimeoutError:
                continue
        answered = time.monotonic() - started
        sock.settimeout(5)
        closed = False
        with contextlib.suppress(OSError):
            while chunk := sock.recv(4096):
                answer += chunk
            closed = True
    results.append((answer, answered, closed))


@pytest.mark.slow
def test_slow_bodies_get_408_and_free_the_worker(granian: str) -> None:
    """Four clients sending a byte a second (twice the request threads): each gets 408 at
    the time limit and its connection closes, and every other request is answered meanwhile."""
    port = int(granian.rsplit(":", 1)[1])
    results: list[tuple[bytes, float, bool]] = []
    threads = [threading.Thread(target=_drip, args=(port, results)) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    answered = 0
    while any(thread.is_alive() for thread in threads):
        assert requests.post(granian + "/echo", data=b"ok", timeout=5).text == "POST /echo 2"
        answered += 1
        time.sleep(0.1)
    assert answered > 5
    assert len(results) == 4
    for answer, after, closed in results:
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"body_timeout" in answer
        assert closed, "the connection of a refused body stayed open"
        assert after < SECONDS + 3
