"""An external store's answer that cannot be read is the store's fault (503), never the client's
SPARQL syntax error, nor a parser's error half-way through reading it
(graph.store.external.answers, .transport), against a fake store on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from graph.core.errors import StoreUnavailable
from graph.store import QuerySyntaxError, run_query, stream_dump
from graph.store.external.remote_store import RemoteStore

#: What the fake store answers every query with: (Content-Type, body).
ANSWERS = {
    "results-json": ("application/sparql-results+json", b"{not json"),
    "results-xml": ("application/sparql-results+xml", b"<sparql><head>"),
    "turtle": ("text/turtle", b"<urn:x:a> <urn:x:b> ."),
    "html": ("text/html", b"<html>a proxy's login page</html>"),
    "no-type": ("", b"?"),
}


#: How an answer's body may break off: ``length``, the connection closed half-way through a
#: body whose Content-Length promised all of it; ``chunked``, half of it sent as chunks and the
#: connection closed without the last chunk.
CUTS = ("length", "chunked")


def _rows(*values: str) -> bytes:
    """SPARQL JSON results binding ``?s ?p ?o`` to IRIs, one row per value of ``?o``."""
    rows = ",".join(
        '{"s":{"type":"uri","value":"urn:x:s"},"p":{"type":"uri","value":"urn:x:p"},'
        f'"o":{{"type":"uri","value":"{value}"}}}}'
        for value in values
    )
    return b'{"head":{"vars":["s","p","o"]},"results":{"bindings":[%s]}}' % rows.encode()


#: Good rows, then one that does not parse, in each format an external store may answer.
BROKEN_LATER = {
    "json": (
        "application/sparql-results+json",
        _rows("urn:x:a", "urn:x:b")[:-3] + b',{"s":{"type":"bogus"}}]}}',
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


class _Store(BaseHTTPRequestHandler):
    answer: tuple[str, bytes] = ("", b"")
    #: When set: the answer to each query text, and how its body breaks off (a CUTS, or "").
    route: Callable[[str], tuple[str, bytes, str]] | None = None
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
        media_type, body, cut = (
            (*self.answer, "") if self.route is None else self.route(form.get("query", [""])[0])
        )
        self.send_response(200)
        if media_type:
            self.send_header("Content-Type", media_type)
        if cut == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = body[: len(body) // 2]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(half), half))
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if cut else body)
        if cut:
            self.wfile.flush()
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def fake_store() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Store)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.parametrize("name", ANSWERS)
@pytest.mark.parametrize("query", ["SELECT * { ?s ?p ?o }", "ASK { }", "CONSTRUCT WHERE { }"])
def test_an_unreadable_answer_is_the_store_unavailable(
    fake_store: str, monkeypatch: pytest.MonkeyPatch, name: str, query: str
) -> None:
    monkeypatch.setattr(_Store, "answer", ANSWERS[name])
    store = RemoteStore.from_settings(fake_store, {"store_kind": "oxigraph"})
    with pytest.raises(StoreUnavailable, match=r"the external store answered .* cannot be read"):
        # default_graphs: no query for the scope's graphs before this one
        run_query(store, query, default_graphs=["urn:x:g"])


def test_a_readable_answer_is_read(fake_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake store is a store: a well-formed answer comes back as the engine's objects."""
    answer = (
        b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"uri","value":"urn:x:a"}}]}}'
    )
    monkeypatch.setattr(_Store, "answer", ("application/sparql-results+json", answer))
    store = RemoteStore.from_settings(fake_store, {"store_kind": "oxigraph"})
    rows = run_query(store, "SELECT ?x { ?x ?p ?o }", default_graphs=["urn:x:g"])
    assert [row["x"].value for row in rows] == ["urn:x:a"]  # type: ignore[union-attr]


def test_an_unreadable_answer_is_not_a_syntax_error(
    fake_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_Store, "answer", ANSWERS["results-json"])
    store = RemoteStore.from_settings(fake_store, {"store_kind": "oxigraph"})
    with pytest.raises(StoreUnavailable) as raised:
        run_query(store, "ASK { }", default_graphs=["urn:x:g"])
    assert not isinstance(raised.value, QuerySyntaxError)


def _answer_all(media_type: str, body: bytes, cut: str = "") -> None:
    _Store.route = staticmethod(lambda _query: (media_type, body, cut))  # type: ignore[assignment]


@pytest.fixture
def routed() -> Iterator[None]:
    """The fake store's answers set by the test (:attr:`_Store.route`), unset afterwards."""
    yield
    _Store.route = None


@pytest.mark.parametrize("name", BROKEN_LATER)
def test_a_row_that_does_not_parse_after_good_ones_is_the_store_unavailable(
    fake_store: str, routed: None, name: str
) -> None:
    """pyoxigraph reads rows lazily: the bad row must not surface as a bare SyntaxError
    wherever the answer is read (a response being written, a page, a dump)."""
    _answer_all(*BROKEN_LATER[name])
    store = RemoteStore.from_settings(fake_store, {"store_kind": "oxigraph"})
    with pytest.raises(StoreUnavailable, match=r"the external store answered .* cannot be read"):
        list(run_query(store, "SELECT * { ?s ?p ?o }", default_graphs=["urn:x:g"]))  # type: ignore[arg-type]


@pytest.mark.parametrize("cut", CUTS)
def test_an_answer_whose_connection_drops_mid_body_is_the_store_unavailable(
    fake_store: str, routed: None, cut: str
) -> None:
    _answer_all("application/sparql-results+json", _rows(*(f"urn:x:{n}" for n in range(50))), cut)
    store = RemoteStore.from_settings(fake_store, {"store_kind": "oxigraph"})
    with pytest.raises(StoreUnavailable, match="its answer cannot be read"):
        run_query(store, "SELECT * { ?s ?p ?o }", default_graphs=["urn:x:g"])


def _graphs_then_broken(store: RemoteStore, cut: str) -> Callable[[str], tuple[str, bytes, str]]:
    """Two named graphs: the first answered whole, the second broken off (``cut``) or, when
    ``cut`` is empty, with a row that does not parse."""
    first, second = store.graph_scope + "a", store.graph_scope + "b"
    graphs = b'{"head":{"vars":["g"]},"results":{"bindings":[%s]}}' % b",".join(
        b'{"g":{"type":"uri","value":"%s"}}' % g.encode() for g in (first, second)
    )

    def route(query: str) -> tuple[str, bytes, str]:
        if "SELECT DISTINCT ?g" in query:
            return "application/sparql-results+json", graphs, ""
        if f"<{first}>" in query:
            return "application/sparql-results+json", _rows("urn:x:first"), ""
        if cut:
            return "application/sparql-results+json", _rows("urn:x:1", "urn:x:2"), cut
        return BROKEN_LATER["json"][0], BROKEN_LATER["json"][1], ""

    return route


@pytest.mark.parametrize("cut", ["", *CUTS])
def test_a_dump_that_breaks_off_raises_after_what_it_wrote(
    fake_store: str, routed: None, cut: str
) -> None:
    """A dump streamed to a client never ends as if it were whole: the first graph is
    written, then the domain's error is raised (the WSGI server drops the connection)."""
    store = RemoteStore.from_settings(fake_store, {"store_kind": "oxigraph"})
    _Store.route = staticmethod(_graphs_then_broken(store, cut))  # type: ignore[assignment]
    chunks = stream_dump(store, "application/n-quads")  # type: ignore[arg-type]
    written = b""
    with pytest.raises(StoreUnavailable):
        for chunk in chunks:
            written += chunk
    assert b"<urn:x:first>" in written
