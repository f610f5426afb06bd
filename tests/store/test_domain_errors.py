"""Every error graph.store raises for the engine is a domain error (graph.core.errors), with
its place in the client's text kept, and has its status in graph.http.errors: no caller
translates them again (issue 13). Evaluation failures: tests/store/test_evaluation.py."""

from __future__ import annotations

import pytest

from graph.core.errors import BadRequest, ResultTooLarge
from graph.http.errors import status_of
from graph.store import (
    QuerySyntaxError,
    RdfFormat,
    RdfSyntaxError,
    TooManyResults,
    UpdateFailed,
    check_iri,
    memory_store,
    parse_bytes,
    run_query,
    run_update,
    serialize_limited,
)

BASE = "https://w3id.org/alliance-graph/"


def test_a_query_that_does_not_parse_is_a_400_at_its_line_and_column() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        run_query(memory_store(), "SELECT * WHERE {\n  ?s ?p }")
    error = caught.value
    assert isinstance(error, BadRequest) and status_of(error)[0] == 400
    assert error.position == (error.line, error.column) == (2, 9)
    assert error.detail == str(error)
    assert error.detail.startswith("SPARQL syntax error at line 2, column 9: ")


def test_a_text_that_is_not_utf8_is_a_400_at_its_place() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        run_query(memory_store(), "ASK {\n ?s ?p '\udcff' }")
    assert caught.value.position == (2, 9)
    assert status_of(caught.value)[0] == 400


def test_rdf_that_does_not_parse_is_a_400_naming_the_source_and_line() -> None:
    bad = b"<http://e.org/a> <http://e.org/p> 1 .\n<http://e.org/a> <http://e.org/p> .\n"
    with pytest.raises(RdfSyntaxError) as caught:
        parse_bytes(bad, RdfFormat.TURTLE, BASE + "graph/x", BASE, source="upload.ttl")
    error = caught.value
    assert isinstance(error, BadRequest) and status_of(error)[0] == 400
    assert (error.file, error.line) == ("upload.ttl", 2)
    assert error.detail == str(error) and error.detail.startswith("upload.ttl:2:")


def test_an_update_that_cannot_run_is_a_400_saying_why() -> None:
    store = memory_store()
    with pytest.raises(UpdateFailed) as caught:
        run_update(
            store,
            "INSERT DATA { <http://e.org/a> <http://e.org/p> 1 } ; DROP GRAPH <http://e.org/none>",
        )
    assert status_of(caught.value)[0] == 400
    assert caught.value.detail.startswith("the update cannot be applied: ")
    assert "http://e.org/none" in caught.value.detail
    assert len(store) == 0  # nothing of it was applied


def test_a_result_over_the_limit_is_a_413() -> None:
    result = run_query(memory_store(), "SELECT ?x { VALUES ?x { 1 2 3 } }")
    with pytest.raises(TooManyResults) as caught:
        serialize_limited(result, "text/csv", 2)
    assert isinstance(caught.value, ResultTooLarge)
    assert status_of(caught.value) == (413, "Result Too Large")



@pytest.mark.parametrize("value", ["relative/path", "http://x> y", ""])
def test_a_value_that_is_not_an_absolute_iri_is_a_400(value: str) -> None:
    """check_iri lets no engine ValueError out: the caller words the domain's error for the
    parameter the value came in."""
    with pytest.raises(BadRequest) as caught:
        check_iri(value)
    assert status_of(caught.value)[0] == 400 and caught.value.detail
