"""An external store that answers without end, too much, or with a redirect: the client stops
with the domain's error, within the time limit and the size limit, and never follows the
redirect (brief h12o, item 7; the fake store is tests/fake_sparql_store.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from graph.core.errors import GraphError, QueryTimeout, ResultTooLarge, StoreUnavailable
from graph.store import run_query
from graph.store.external.remote_store import RemoteStore
from graph.store.external.transport import MAX_ERROR_TEXT
from tests.fake_sparql_store import ENDLESS, FakeStore, rows, running_fake_store

#: Seconds after which a query still running is taken to run without end (the time limit
#: below is 0.5 s; the connect and grace allowances add 7 s).
HANG = 60.0


@pytest.fixture
def fake() -> Iterator[FakeStore]:
    with running_fake_store() as store:
        yield store


def _outcome(work: Callable[[], object]) -> BaseException | None:
    """The error ``work`` raised, None if it returned; fails the test if it runs past HANG."""
    raised: list[BaseException | None] = []

    def run() -> None:
        try:
            work()
            raised.append(None)
        except (GraphError, ValueError) as error:
            raised.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG)
    assert raised, f"the query was still reading the store's answer after {HANG:g} s"
    return raised[0]


def test_an_answer_that_never_ends_stops_at_the_time_limit(fake: FakeStore) -> None:
    """Each read gets a byte, so requests' read timeout never fires: the whole answer is timed."""
    fake.answer_all("application/sparql-results+json", rows("urn:x:a"), ENDLESS)
    store = RemoteStore.from_settings(fake.url, {"store_kind": "oxigraph", "query_timeout": 0.5})
    error = _outcome(lambda: run_query(store, "SELECT * { ?s ?p ?o }", default_graphs=["urn:x:g"]))
    assert isinstance(error, QueryTimeout)
    assert "did not arrive whole within 0.5 s" in str(error)


def test_an_answer_over_the_size_limit_is_refused(fake: FakeStore) -> None:
    """Read up to KG_QUERY_MEMORY_MB, not whole into memory first."""
    fake.answer_all("application/sparql-results+json", rows(*[f"urn:x:{i}" for i in range(30000)]))
    store = RemoteStore.from_settings(fake.url, {"store_kind": "oxigraph", "query_memory_mb": 1})
    with pytest.raises(ResultTooLarge, match=r"the external store's answer is over 1 MiB"):
        run_query(store, "SELECT * { ?s ?p ?o }", default_graphs=["urn:x:g"])
    # Under the limit, the same store answers.
    fake.answer_all("application/sparql-results+json", rows("urn:x:a"))
    assert len(list(run_query(store, "SELECT * { ?s ?p ?o }", default_graphs=["urn:x:g"]))) == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_refused_not_followed(fake: FakeStore, status: int) -> None:
    asked: list[str] = []

    def answer_elsewhere(query: str) -> tuple[str, bytes, str]:
        asked.append(query)
        return "application/sparql-results+json", rows("urn:x:elsewhere"), ""

    with running_fake_store() as elsewhere:
        elsewhere.route = answer_elsewhere
        fake.status, fake.headers = status, {"Location": elsewhere.url + "/query"}
        fake.answer_all("", b"")
        store = RemoteStore.from_settings(fake.url, {"store_kind": "oxigraph"})
        with pytest.raises(StoreUnavailable) as raised:
            run_query(store, "SELECT * { ?s ?p ?o }", default_graphs=["urn:x:g"])
    assert f"answered {status}, a redirect to '{elsewhere.url}/query'" in str(raised.value)
    assert "redirects are not followed" in str(raised.value)
    assert asked == []


@pytest.mark.parametrize("charset", ["", "; charset=bogus", "; charset=utf-8"])
def test_a_long_error_text_is_quoted_from_its_start(fake: FakeStore, charset: str) -> None:
    """Only its start is read as text (requests guessed the charset of all of it)."""
    fake.status = 500
    fake.answer_all("text/plain" + charset, b"engine failure: " + b"x\xe9" * 3_000_000)
    store = RemoteStore.from_settings(fake.url, {"store_kind": "oxigraph"})
    with pytest.raises(StoreUnavailable, match=r"answered 500: engine failure: x") as raised:
        run_query(store, "SELECT * { ?s ?p ?o }", default_graphs=["urn:x:g"])
    assert len(str(raised.value)) < 2 * MAX_ERROR_TEXT
