"""The engine's errors become the domain's in graph.store, one kind at a time, through the
public functions (graph.store.evaluation; issue 13: "pyoxigraph's OSError turned into
BadRequest in four places")."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from graph.answering import writes
from graph.build.embedded import build
from graph.cli import cli
from graph.core.errors import BadRequest, EvaluationFailed, GraphError, StoreUnavailable
from graph.core.namespaces import CANONICAL_BASE
from graph.http.errors import status_of
from graph.store import (
    QuerySyntaxError,
    evaluating,
    memory_store,
    open_store,
    run_query,
    run_update,
    select_rows,
    serialize_limited,
    serialize_results,
)
from graph.store import evaluation as engine_errors
from graph.store.evaluation import reading_the_store
from tests.conftest import MINI
from tests.http.test_endpoint import TOKEN, make_app
from tests.listener import Listener


@pytest.fixture
def closed_url() -> str:
    """The URL of a port nothing listens on any more: the engine's call to it is refused."""
    closed = Listener()
    closed.sock.close()
    return closed.url


@pytest.fixture
def built_store(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "store"
    build(MINI, path, CANONICAL_BASE)
    yield path


def test_a_failing_service_is_an_evaluation_failure_without_the_engines_text(
    closed_url: str,
) -> None:
    """The engine's OSError comes while the answer is read (it is lazy): serializing it in
    graph.store translates it; the engine's text is the reason, never the detail."""
    result = run_query(
        memory_store(), f"SELECT * {{ SERVICE <{closed_url}sparql> {{ ?s ?p ?o }} }}"
    )
    with pytest.raises(EvaluationFailed) as caught:
        serialize_limited(result, "text/csv", 10)
    assert isinstance(caught.value, BadRequest)  # a 400, as before
    assert caught.value.detail == (
        "the query failed during evaluation (a SERVICE or LOAD target did not answer usably,"
        " or the store could not be read)"
    )
    assert caught.value.reason and caught.value.reason not in caught.value.detail
    assert closed_url.split("//")[1].rstrip("/") not in caught.value.detail


def test_an_unbound_service_variable_is_an_evaluation_failure() -> None:
    """The engine's RuntimeError, while serialize_results writes the answer."""
    result = run_query(memory_store(), "SELECT * { SERVICE ?where { ?s ?p ?o } }")
    with pytest.raises(EvaluationFailed, match="failed during evaluation") as caught:
        serialize_results(result, "application/sparql-results+json")
    assert "unbound" in caught.value.reason


def test_the_engine_failing_one_of_the_projects_own_queries_is_the_stores_fault() -> None:
    """select_rows runs the project's queries (no SERVICE, no client's text): whatever made
    the engine fail, it is the server's fault, a 503 with nothing of the engine's text. An
    unbound SERVICE is only the way to make the engine fail here."""
    with pytest.raises(StoreUnavailable) as caught:
        select_rows(memory_store(), "SELECT * { SERVICE ?where { ?s ?p ?o } }")
    assert status_of(caught.value)[0] == 503
    assert caught.value.detail == "the store could not be read"


def test_an_answer_read_above_the_store_is_translated_by_evaluating(closed_url: str) -> None:
    """A page or ``kg query`` reading solutions itself reads them inside ``evaluating``."""
    result = run_query(memory_store(), f"SELECT * {{ SERVICE <{closed_url}s> {{ ?s ?p ?o }} }}")
    with pytest.raises(EvaluationFailed), evaluating():
        list(result)


def test_a_failing_load_is_an_evaluation_failure_of_the_update(closed_url: str) -> None:
    store = memory_store()
    with pytest.raises(EvaluationFailed, match=r"^the update failed during evaluation"):
        run_update(store, f"LOAD <{closed_url}data.ttl>")
    assert len(store) == 0


def test_syntax_errors_keep_their_place() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        run_query(memory_store(), "SELECT * WHERE {\n  ?s ?p }")
    assert (caught.value.line, caught.value.column) == (2, 9)


def test_without_network_the_failure_says_so(
    closed_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a sandboxed worker (graph.answering.sandbox calls network_denied) the fixed text
    names the sandbox, as docs/security.md says."""
    monkeypatch.setattr(engine_errors, "_network", False)
    with pytest.raises(EvaluationFailed) as caught:
        run_query(memory_store(), f"ASK {{ SERVICE <{closed_url}s> {{ ?s ?p ?o }} }}")
    assert caught.value.detail == (
        "the query failed during evaluation (SERVICE and LOAD cannot reach the network on"
        " this server)"
    )


def test_a_store_the_engine_cannot_open_is_unavailable(built_store: Path) -> None:
    """RocksDB takes one read-write opener: the second gets the domain's 503, not an OSError."""
    first = open_store(built_store)
    with pytest.raises(StoreUnavailable, match="the store cannot be opened"):
        open_store(built_store)
    del first


def test_a_store_that_cannot_be_opened_is_a_503_for_the_app(built_store: Path) -> None:
    held = open_store(built_store)
    app = make_app(STORE_HANDLE=None, STORE=str(built_store), WRITE_TOKEN=TOKEN)
    response = app.test_client().get("/sparql", query_string={"query": "ASK {}"})
    assert response.status_code == 503, response.data
    assert b"the store cannot be opened" in response.data
    del held


def test_kg_query_prints_the_engines_own_text(
    closed_url: str, built_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line is the operator's: it gets the reason the HTTP client does not."""
    monkeypatch.setenv("KG_SERVICE_ALLOWLIST", closed_url)
    query = f"SELECT * {{ SERVICE <{closed_url}sparql> {{ ?s ?p ?o }} }}"
    result = CliRunner().invoke(cli, ["query", query, "--store", str(built_store)])
    assert result.exit_code != 0
    assert "the query failed: " in result.output
    assert "failed during evaluation" not in result.output  # the reason, not the fixed text


def test_a_disk_failure_while_committing_is_not_a_client_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An OSError that is not the engine's evaluation error (here the disk, at commit) is not
    turned into a 400: it reaches the server's own error handling (a 500 under a server)."""

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writes, "apply_change", full_disk)
    client = make_app(WRITE_TOKEN=TOKEN).test_client()
    update = "INSERT DATA { <http://e.org/a> <http://e.org/p> 1 }"
    with pytest.raises(OSError, match="No space left"):
        client.post(
            "/sparql", data={"update": update}, headers={"Authorization": f"Bearer {TOKEN}"}
        )


@dataclass(frozen=True)
class Frozen(ValueError):
    where: int


def test_other_errors_pass_through_unchanged() -> None:
    """Only the engine's errors are translated; any other comes out as it went in, a frozen
    dataclass exception too (contextlib's @contextmanager sets its __traceback__ and fails)."""
    with pytest.raises(Frozen), evaluating():
        raise Frozen(3)
    with pytest.raises(QuerySyntaxError), reading_the_store():
        run_query(memory_store(), "ASK {")


#: The engine's own errors for a store it cannot read: RocksDB's words as pyoxigraph raises
#: them, an I/O error as ``OSError``, a corrupt file as ``RuntimeError`` (the second seen on a
#: store whose table file was truncated under a read-only handle; such a store can also hang
#: or abort the process, so the tests below fail the engine call instead).
STORE_ERRORS = [
    OSError("IO error: No such file or directory: While open a file for random read: 000015.sst"),
    RuntimeError("Corruption: truncated block read from 000015.sst offset 410292, expected 2708"),
]
#: What a query the failing store cannot answer mentions.
UNREADABLE = "urn:x:unreadable"


@dataclass
class _FailingAnswer:
    """A lazy SELECT answer whose rows the engine fails to read, as on a store whose files
    fail under it: the failure comes as the answer is read or written."""

    error: Exception

    def __iter__(self) -> Iterator[object]:
        raise self.error

    def serialize(self, *args: object, **kwargs: object) -> bytes:
        raise self.error


@dataclass
class _FailingStore:
    """A real store, except that the engine fails every query mentioning :data:`UNREADABLE`
    (lazily, or when it is prepared: an ASK is evaluated then) and every update."""

    store: object
    error: Exception
    lazily: bool = True

    def query(self, text: str, **options: object) -> object:
        if UNREADABLE not in text:
            return self.store.query(text, **options)  # type: ignore[attr-defined]
        if self.lazily:
            return _FailingAnswer(self.error)
        raise self.error

    def update(self, text: str, **options: object) -> None:
        raise self.error

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


#: A pattern the failing store cannot read, alone and behind SERVICE: what the client gets.
WHOSE_FAULT: dict[str, tuple[str, type[Exception], int]] = {
    "store": (f"<{UNREADABLE}> ?p ?o", StoreUnavailable, 503),
    "service": (f"SERVICE <http://127.0.0.1:1/> {{ <{UNREADABLE}> ?p ?o }}", EvaluationFailed, 400),
}


@pytest.mark.parametrize("error", STORE_ERRORS, ids=["io", "corruption"])
@pytest.mark.parametrize("whose", WHOSE_FAULT)
def test_whose_fault_a_failed_evaluation_is_follows_the_text(error: Exception, whose: str) -> None:
    """No SERVICE in the text: nothing but the store can have failed, a 503 (brief h13r, item
    2). With SERVICE in it, the engine's error may be the target's: the fixed 400
    (EvaluationFailed). Neither detail has anything of the engine's text."""
    pattern, expected, status = WHOSE_FAULT[whose]
    text = f"SELECT * {{ {pattern} }}"
    result = run_query(_FailingStore(memory_store(), error), text)  # type: ignore[arg-type]
    with pytest.raises(expected) as caught, evaluating(text=text):
        serialize_limited(result, "text/csv", 10)
    assert isinstance(caught.value, GraphError) and status_of(caught.value)[0] == status
    assert "127.0.0.1" not in caught.value.detail and "000015" not in caught.value.detail
    eager = _FailingStore(memory_store(), error, lazily=False)  # an ASK is evaluated at once
    with pytest.raises(expected):
        run_query(eager, f"ASK {{ {pattern} }}")  # type: ignore[arg-type]


def test_a_query_the_engine_cannot_prepare_stays_the_clients_fault() -> None:
    """The engine's RuntimeError for a function it does not know comes when the query is
    prepared, whatever the store holds: the client's 400, not the store's 503."""
    with pytest.raises(EvaluationFailed) as caught:
        run_query(memory_store(), "ASK { BIND(<urn:x:no-such-function>(1) AS ?x) }")
    assert status_of(caught.value)[0] == 400
    assert "not supported" in caught.value.reason


def test_the_store_failing_an_update_without_load_or_service_is_unavailable() -> None:
    failing = _FailingStore(memory_store(), STORE_ERRORS[0])
    with pytest.raises(StoreUnavailable):
        run_update(failing, "INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }")  # type: ignore[arg-type]
    with pytest.raises(EvaluationFailed):
        run_update(failing, "LOAD <http://127.0.0.1:1/data.ttl>")  # type: ignore[arg-type]


@pytest.mark.parametrize("error", STORE_ERRORS, ids=["io", "corruption"])
def test_the_endpoint_answers_503_for_a_store_read_failure_and_400_for_service(
    error: Exception,
) -> None:
    """Through /sparql: the answer is serialized under the client's text, which decides (the
    SERVICE target on the allow-list, so that the query is evaluated)."""
    failing = _FailingStore(memory_store(), error)
    app = make_app(STORE_HANDLE=failing, SERVICE_ALLOWLIST=("http://127.0.0.1:1/",))
    client = app.test_client()
    plain = client.get("/sparql", query_string={"query": f"SELECT * {{ <{UNREADABLE}> ?p ?o }}"})
    assert plain.status_code == 503, plain.data
    assert b"the store could not be read" in plain.data
    service = f"SELECT * {{ SERVICE <http://127.0.0.1:1/> {{ <{UNREADABLE}> ?p ?o }} }}"
    remote = client.get("/sparql", query_string={"query": service})
    assert remote.status_code == 400, remote.data
    assert b"failed during evaluation" in remote.data
