"""An external store's answer that cannot be read is the store's fault (503), never the client's
SPARQL syntax error, nor a parser's error half-way through reading it
(graph.store.external.answers, .transport), against a fake store on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from graph.core.errors import QueryTimeout, StoreUnavailable
from graph.store import QuerySyntaxError, run_query, stream_dump
from graph.store.external import transport
from graph.store.external.remote_store import RemoteStore
from tests.fake_sparql_store import (
    BROKEN_LATER,
    CUTS,
    FakeStore,
    graphs_then_broken,
    rows,
    running_fake_store,
)

#: What the fake store answers every query with: (Content-Type, body).
ANSWERS = {
    "results-json": ("application/sparql-results+json", b"{not json"),
    "results-xml": ("application/sparql-results+xml", b"<sparql><head>"),
    "turtle": ("text/turtle", b"<urn:x:a> <urn:x:b> ."),
    "html": ("text/html", b"<html>a proxy's login page</html>"),
    "no-type": ("", b"?"),
}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStore]:
    """One fake store for the module: every test sets its answers first."""
    with running_fake_store() as store:
        yield store


@pytest.fixture(autouse=True)
def answers_succeed(fake: FakeStore) -> Iterator[None]:
    """Every test starts and ends with a store answering 200 and no headers of its own."""
    fake.status, fake.headers = 200, {}
    yield
    fake.status, fake.headers = 200, {}


#: How a store says it stopped a query at its time limit: (status, headers, body).
TIME_LIMITS = {
    # Virtuoso's anytime query: 200, partial rows, and its SQL state in a header.
    "virtuoso-anytime": (200, {"X-SQL-State": "S1TAT"}, rows("urn:x:partial")),
    # Virtuoso cancelling the statement mid-way.
    "virtuoso-cancel": (
        500,
        {},
        b"Virtuoso HY008 Error SR203: Async statement killed by SQLCancel.",
    ),
    "gateway-timeout": (504, {}, b"upstream timed out"),
}


@pytest.mark.parametrize("name", TIME_LIMITS)
def test_a_store_stopping_at_its_time_limit_is_one_timeout_whichever_way_it_says_so(
    fake: FakeStore, name: str
) -> None:
    """Virtuoso takes either way at random (CI saw both): the client reads the same words."""
    fake.status, fake.headers, body = TIME_LIMITS[name]
    fake.answer_all("application/sparql-results+json", body)
    settings = {"store_kind": "virtuoso", "query_timeout": 0.5}
    store = RemoteStore.from_settings(fake.url, settings)
    with pytest.raises(QueryTimeout, match=r"the external store stopped the query after 0\.5 s"):
        run_query(store, "SELECT * { ?s ?p ?o }", default_graphs=["urn:x:g"])


def test_a_store_silent_past_its_time_limit_is_a_timeout_naming_the_limit(
    fake: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fourth way: the store says nothing within the client's grace past the limit (a
    busy Virtuoso answered up to 2.95 s after a 0.5 s limit, past the 2.5 s the client waits)."""
    monkeypatch.setattr(transport, "GRACE", 0.1)
    released = threading.Event()

    def silent(_query: str) -> tuple[str, bytes, str]:
        released.wait(30)
        return "", b"", "hang-up"

    fake.route = silent
    store = RemoteStore.from_settings(fake.url, {"store_kind": "virtuoso", "query_timeout": 0.5})
    try:
        with pytest.raises(QueryTimeout, match=r"the external store did not answer within 0\.5 s"):
            run_query(store, "SELECT * { ?s ?p ?o }", default_graphs=["urn:x:g"])
    finally:
        released.set()


@pytest.mark.parametrize("name", ANSWERS)
@pytest.mark.parametrize("query", ["SELECT * { ?s ?p ?o }", "ASK { }", "CONSTRUCT WHERE { }"])
def test_an_unreadable_answer_is_the_store_unavailable(
    fake: FakeStore, name: str, query: str
) -> None:
    fake.answer_all(*ANSWERS[name])
    store = RemoteStore.from_settings(fake.url, {"store_kind": "oxigraph"})
    with pytest.raises(StoreUnavailable, match=r"the external store answered .* cannot be read"):
        # default_graphs: no query for the scope's graphs before this one
        run_query(store, query, default_graphs=["urn:x:g"])


def test_a_readable_answer_is_read(fake: FakeStore) -> None:
    """The fake store is a store: a well-formed answer comes back as the engine's objects."""
    answer = (
        b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"uri","value":"urn:x:a"}}]}}'
    )
    fake.answer_all("application/sparql-results+json", answer)
    store = RemoteStore.from_settings(fake.url, {"store_kind": "oxigraph"})
    found = run_query(store, "SELECT ?x { ?x ?p ?o }", default_graphs=["urn:x:g"])
    assert [row["x"].value for row in found] == ["urn:x:a"]  # type: ignore[union-attr]


def test_an_unreadable_answer_is_not_a_syntax_error(fake: FakeStore) -> None:
    fake.answer_all(*ANSWERS["results-json"])
    store = RemoteStore.from_settings(fake.url, {"store_kind": "oxigraph"})
    with pytest.raises(StoreUnavailable) as raised:
        run_query(store, "ASK { }", default_graphs=["urn:x:g"])
    assert not isinstance(raised.value, QuerySyntaxError)


@pytest.mark.parametrize("name", BROKEN_LATER)
def test_a_row_that_does_not_parse_after_good_ones_is_the_store_unavailable(
    fake: FakeStore, name: str
) -> None:
    """pyoxigraph reads rows lazily: the bad row must not surface as a bare SyntaxError
    wherever the answer is read (a response being written, a page, a dump)."""
    fake.answer_all(*BROKEN_LATER[name])
    store = RemoteStore.from_settings(fake.url, {"store_kind": "oxigraph"})
    with pytest.raises(StoreUnavailable, match=r"the external store answered .* cannot be read"):
        list(run_query(store, "SELECT * { ?s ?p ?o }", default_graphs=["urn:x:g"]))  # type: ignore[arg-type]


@pytest.mark.parametrize("cut", CUTS)
def test_an_answer_whose_connection_drops_mid_body_is_the_store_unavailable(
    fake: FakeStore, cut: str
) -> None:
    fake.answer_all(
        "application/sparql-results+json", rows(*(f"urn:x:{n}" for n in range(50))), cut
    )
    store = RemoteStore.from_settings(fake.url, {"store_kind": "oxigraph"})
    with pytest.raises(StoreUnavailable, match="its answer cannot be read"):
        run_query(store, "SELECT * { ?s ?p ?o }", default_graphs=["urn:x:g"])


@pytest.mark.parametrize("cut", ["", *CUTS])
def test_a_dump_that_breaks_off_raises_after_what_it_wrote(fake: FakeStore, cut: str) -> None:
    """A dump streamed to a client never ends as if it were whole: the first graph is
    written, then the domain's error is raised (the WSGI server drops the connection)."""
    store = RemoteStore.from_settings(fake.url, {"store_kind": "oxigraph"})
    fake.route = graphs_then_broken(store.graph_scope, cut)
    chunks = stream_dump(store, "application/n-quads")
    written = b""
    with pytest.raises(StoreUnavailable):
        for chunk in chunks:
            written += chunk
    assert b"<urn:x:first>" in written
