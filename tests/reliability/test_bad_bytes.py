"""Bad bytes on every route of a real ``kg serve``: never a 5xx, always an answer (issue 11).

The routes come from the application's own URL map, so a new route is swept without touching
this test. Each is sent, byte for byte over a socket (no client-side checks): invalid UTF-8 and
NUL in the path and the query string, bad percent-escapes, invalid UTF-8 in headers, a
non-IRI dataset parameter, bodies that are not UTF-8, and a huge header.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest
from tests.reliability.conftest import Figures, add, make_project
from tests.reliability.serving import TOKEN, KgServer, running_server

from graph.build.embedded import build
from graph.core.namespaces import CANONICAL_BASE
from graph.http.app import create_app
from graph.store import memory_store

pytestmark = pytest.mark.slow

#: A value for each route argument that reaches the view (not a 404 before it).
ARGUMENTS = {
    "/export/<name>": "gexf",
    "/graph/<path:name>": "alliance-news",
    "/static/<path:filename>": "site.css",
    "/dumps/alliance-graph.<suffix>": "nq",
    "/id/<path:rest>": "country/honduras",
    "/doc/<path:rest>": "country/honduras.html",
}
ARGUMENT = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")

#: (name, bytes after the route's path, extra header lines, body, content type)
VARIANTS: list[tuple[str, bytes, bytes, bytes | None, bytes]] = [
    ("utf-8 in query", b"?query=%FF%FE%80&x=\xff\xfe", b"", None, b""),
    ("raw utf-8 in path", b"\xff\xfe/\xc3(", b"", None, b""),
    ("nul in path", b"%00/x\x00", b"", None, b""),
    ("bad escapes", b"%zz%/%E2%82?q=%&query=%G0", b"", None, b""),
    ("empty dataset", b"?query=ASK%7B%7D&default-graph-uri=&named-graph-uri=%20", b"", None, b""),
    ("utf-8 in headers", b"", b"Accept: \xff\r\nOrigin: \xc3(\r\nIf-Match: \xff\r\n", None, b""),
    ("utf-8 in auth", b"", b"Authorization: Bearer \xff\xfe\r\n", None, b""),
    ("huge header", b"", b"X-Big: " + b"a" * 200_000 + b"\r\n", None, b""),
    ("form not utf-8", b"", b"", b"query=\xff&update=%FF", b"application/x-www-form-urlencoded"),
    ("query not utf-8", b"", b"", b"ASK { \xff\xfe }", b"application/sparql-query"),
    ("charset unknown", b"", b"", b"ASK {}", b"application/sparql-query; charset=nope"),
    ("turtle not utf-8", b"", b"", b"<urn:a> <urn:b> '\xff' .", b"text/turtle"),
    ("content type bytes", b"", b"", b"x", b"\xff/\xfe"),
]


def route_targets() -> list[tuple[str, str]]:
    """(method, path) for every route and method of the application."""
    app = create_app({"STORE_HANDLE": memory_store([]), "WRITE_TOKEN": TOKEN})
    targets = []
    for rule in app.url_map.iter_rules():
        sample = ARGUMENTS.get(rule.rule)
        path = ARGUMENT.sub(sample or "ttl", rule.rule) if "suffix" in rule.arguments else ""
        path = path or ARGUMENT.sub(sample or "x", rule.rule)
        targets += [(method, path) for method in sorted(rule.methods or ()) if method != "OPTIONS"]
    return targets


ROUTES = route_targets()


def sent(method: str) -> list[tuple[str, bytes, bytes, bytes | None, bytes]]:
    """The variants sent with ``method`` (bodies only where the method takes one)."""
    return [v for v in VARIANTS if v[3] is None or method not in ("GET", "HEAD", "DELETE")]


def planned_requests() -> int:
    """Requests one server receives from this test (docs/reliability.md states the figure)."""
    return sum(len(sent(method)) for method, _ in ROUTES)


def send(port: int, method: str, target: bytes, headers: bytes, body: bytes | None) -> bytes:
    """The raw answer to a request sent exactly as given ("" when the server said nothing)."""
    request = method.encode() + b" " + target + b" HTTP/1.1\r\nHost: localhost\r\n" + headers
    if body is not None:
        request += b"Content-Length: %d\r\n" % len(body)
    request += b"Connection: close\r\n\r\n" + (body or b"")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if len(answer) > 1_000_000:
                break
    return answer


@pytest.fixture(scope="module", params=["read-only", "writable"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KgServer]:
    root = tmp_path_factory.mktemp("bytes")
    project = make_project(root / "project")
    build(project, root / "store", CANONICAL_BASE)
    token = "" if request.param == "read-only" else TOKEN
    with running_server(root / "store", project, root / "serve.log", token=token) as running:
        yield running


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_bad_bytes_on_a_route_get_an_answer_that_is_not_5xx(
    server: KgServer, figures: Figures, method: str, path: str
) -> None:
    problems = []
    for name, tail, headers, body, media in sent(method):
        extra = headers + (b"Content-Type: " + media + b"\r\n" if media else b"")
        if method in ("PUT", "POST", "DELETE") and path != "/sparql":
            extra += f"Authorization: Bearer {TOKEN}\r\n".encode()
        answer = send(server.port, method, path.encode() + tail, extra, body)
        add(figures, "bad_byte_requests_tried", 1)
        status = answer.split(b" ", 2)[1] if answer.startswith(b"HTTP/1.") else b""
        if not status:
            problems.append(f"{name}: no answer")
        elif status.startswith(b"5"):
            add(figures, "bad_byte_5xx", 1)
            problems.append(f"{name}: {answer[:300]!r}")
    figures.setdefault("bad_byte_5xx", 0)
    assert not problems, problems
