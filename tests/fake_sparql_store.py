"""A fake external SPARQL store on 127.0.0.1 whose answers each test sets, broken on purpose:
a row that does not parse after good ones, or a body that breaks off."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

#: (Content-Type, body, how the body breaks off: "" whole, one of :data:`CUTS`, or "hang-up":
#: the connection closed with no answer at all).
Answer = tuple[str, bytes, str]

#: How an answer's body may break off: ``length``, the connection closed half-way through a
#: body whose Content-Length promised all of it; ``chunked``, half of it sent as chunks and the
#: connection closed without the last chunk.
CUTS = ("length", "chunked")
#: A ``cut`` that never ends the body: its first half, then a space every :data:`TRICKLE` seconds
#: as chunks of their own (each read of the socket gets something; the answer never ends).
ENDLESS = "endless"
TRICKLE = 0.1


def rows(*values: str) -> bytes:
    """SPARQL JSON results binding ``?s ?p ?o`` to IRIs, one row per value of ``?o``."""
    found = ",".join(
        '{"s":{"type":"uri","value":"urn:x:s"},"p":{"type":"uri","value":"urn:x:p"},'
        f'"o":{{"type":"uri","value":"{value}"}}}}'
        for value in values
    )
    return b'{"head":{"vars":["s","p","o"]},"results":{"bindings":[%s]}}' % found.encode()


#: Good rows, then one that does not parse, in each format an external store may answer.
BROKEN_LATER: dict[str, tuple[str, bytes]] = {
    "json": (
        "application/sparql-results+json",
        rows("urn:x:a", "urn:x:b")[:-3] + b',{"s":{"type":"bogus"}}]}}',
    ),
    "xml": (
        "application/sparql-results+xml",
        b'<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">'
        b'<head><variable name="s"/></head><results>'
        b'<result><binding name="s"><uri>urn:x:a</uri></binding></result>'
        b'<result><binding name="s"><bogus/></binding></result></results></sparql>',
    ),
    "tsv": ("text/tab-separated-values", b"?s\n<urn:x:a>\n<urn:x:b>\n<not an iri\n"),
    "csv": ("text/csv", b's\r\nurn:x:a\r\n"unterminated\r\n'),
}


def graphs_then_broken(scope: str, cut: str) -> Callable[[str], Answer]:
    """Two named graphs: the first answered whole, the second broken off (``cut``) or, when
    ``cut`` is empty, with a row that does not parse."""
    first, second = scope + "a", scope + "b"
    graphs = b'{"head":{"vars":["g"]},"results":{"bindings":[%s]}}' % b",".join(
        b'{"g":{"type":"uri","value":"%s"}}' % g.encode() for g in (first, second)
    )

    def route(query: str) -> Answer:
        if "SELECT DISTINCT ?g" in query:
            return "application/sparql-results+json", graphs, ""
        if f"<{first}>" in query:
            return "application/sparql-results+json", rows("urn:x:first"), ""
        if cut:
            return "application/sparql-results+json", rows("urn:x:1", "urn:x:2"), cut
        return BROKEN_LATER["json"][0], BROKEN_LATER["json"][1], ""

    return route


class FakeStore(ThreadingHTTPServer):
    """Answers every POSTed query with ``route(query text)``; :attr:`url` is where."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.route: Callable[[str], Answer] = lambda _query: ("", b"", "")
        #: The status of every answer, and its extra headers (an error, a store's own marks).
        self.status = 200
        self.headers: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer_all(self, media_type: str, body: bytes, cut: str = "") -> None:
        """Answer every query with ``body``, broken off as ``cut`` says."""
        self.route = lambda _query: (media_type, body, cut)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeStore

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
        media_type, body, cut = self.server.route(form.get("query", [""])[0])
        if cut == "hang-up":  # no answer at all (a client that gave up is gone by now)
            self.close_connection = True
            return
        self.send_response(self.server.status)
        for name, value in self.server.headers.items():
            self.send_header(name, value)
        if media_type:
            self.send_header("Content-Type", media_type)
        if cut in ("chunked", ENDLESS):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = body[: len(body) // 2]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(half), half))
            if cut == ENDLESS:
                self._trickle()
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if cut else body)
        if cut:
            self.wfile.flush()
            self.close_connection = True

    def _trickle(self) -> None:
        """A space at a time until the client leaves."""
        try:
            while True:
                self.wfile.write(b"1\r\n \r\n")
                self.wfile.flush()
                time.sleep(TRICKLE)
        except OSError:
            return

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def running_fake_store() -> Iterator[FakeStore]:
    """A :class:`FakeStore` serving on a thread until the block ends."""
    server = FakeStore()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
