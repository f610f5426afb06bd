"""An external store's answer that cannot be read is the store's fault (503), never the client's
SPARQL syntax error (graph.store.external.remote_store), against a fake store on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from graph.core.errors import StoreUnavailable
from graph.store import QuerySyntaxError, run_query
from graph.store.external.remote_store import RemoteStore

#: What the fake store answers every query with: (Content-Type, body).
ANSWERS = {
    "results-json": ("application/sparql-results+json", b"{not json"),
    "results-xml": ("application/sparql-results+xml", b"<sparql><head>"),
    "turtle": ("text/turtle", b"<urn:x:a> <urn:x:b> ."),
    "html": ("text/html", b"<html>a proxy's login page</html>"),
    "no-type": ("", b"?"),
}


class _Store(BaseHTTPRequestHandler):
    answer: tuple[str, bytes] = ("", b"")

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        media_type, body = self.answer
        self.send_response(200)
        if media_type:
            self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

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
