"""The application test_asgi_front.py serves with granian: graph.http.bodylimit's middleware
(as under ``kg serve``) behind graph.serving.asgi_front, over a small WSGI application."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from graph.http.bodylimit import RequestBodies
from graph.serving.asgi_front import AsgiFront

LIMIT = 1000
SECONDS = 2.0
#: The chunks of the streamed answer at /stream.
CHUNKS = [b"first ", b"second ", b"third"]


def _inner(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    if environ["PATH_INFO"] == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return _stream()
    body = environ["wsgi.input"].read()
    answer = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} {len(body)}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Echo", body[:20].decode())])
    return [answer]


def _stream() -> Iterator[bytes]:
    yield from CHUNKS


def make() -> AsgiFront:
    """granian's factory (``--factory``), called in the worker."""
    bodies = RequestBodies(_inner, lambda: LIMIT, lambda: SECONDS, abortable=False)
    return AsgiFront(bodies, threads=2, stack=1 << 23, limit=lambda: LIMIT, seconds=lambda: SECONDS)
