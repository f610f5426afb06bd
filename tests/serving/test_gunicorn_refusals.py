"""What gunicorn itself answers to a request it cannot parse carries the security headers.

gunicorn refuses a malformed request line, a URI or header past its limits, a bad header
name or an unknown ``Expect`` before the application sees it, and wrote an HTML page without
Content-Security-Policy or X-Content-Type-Options (found probing a writable ``kg serve`` from
outside, h11o). graph.serving.gunicorn_worker.write_error answers them in plain text with the
headers of every other answer.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.build.embedded import build
from graph.core.namespaces import CANONICAL_BASE
from graph.http.secureheaders import HEADERS
from tests.reliability.conftest import make_project
from tests.reliability.serving import TOKEN, KgServer, running_server

pytestmark = [pytest.mark.server, pytest.mark.slow]

#: Requests gunicorn refuses itself, and the status it gives each.
REFUSED = {
    "garbage request line": (b"GARBAGE\r\n\r\n", 400),
    "unknown HTTP version": (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 400),
    "URI too long": (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    "header too large": (b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 9000 + b"\r\n\r\n", 431),
    "space in a header name": (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: x\r\n\r\n", 400),
    "unknown expectation": (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nExpect: 999-x\r\nContent-Length: 1\r\n\r\nx",
        417,
    ),
}


@pytest.fixture(scope="module")
def writable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KgServer]:
    root: Path = tmp_path_factory.mktemp("refusals")
    project = make_project(root / "project")
    build(project, root / "store", CANONICAL_BASE)
    with running_server(root / "store", project, root / "serve.log", token=TOKEN) as server:
        assert server.process.poll() is None
        yield server


def answer_to(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(("request_bytes", "status"), REFUSED.values(), ids=REFUSED.keys())
def test_gunicorns_own_refusals_carry_the_security_headers(
    writable: KgServer, request_bytes: bytes, status: int
) -> None:
    got, headers, body = answer_to(writable.port, request_bytes)
    assert got == status, body
    for name, value in HEADERS:
        assert headers.get(name.lower()) == value, (name, headers)
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert body.startswith(f"{status} ".encode()) and int(headers["content-length"]) == len(body)
