"""The prefixes given to the engine with a query: only those it may use (graph.store.sparql)."""

from __future__ import annotations

import pytest

from graph.store.sparql import QuerySyntaxError, memory_store, run_query, used_prefixes

PREFIXES = {"ag": "http://a/", "dct": "http://purl.org/dc/terms/", "rdfs": "http://r/"}


def test_only_the_prefixes_named_in_the_text_are_given() -> None:
    assert used_prefixes("SELECT ?l { ag:x rdfs:label ?l }", PREFIXES) == {
        "ag": "http://a/",
        "rdfs": "http://r/",
    }
    assert used_prefixes("SELECT * { ?s ?p ?o }", PREFIXES) == {}


def test_a_text_with_codepoint_escapes_gets_them_all() -> None:
    assert used_prefixes("ASK { ag\\u003Ax ?p ?o }", PREFIXES) == PREFIXES


def test_queries_still_see_the_declared_prefixes() -> None:
    store = memory_store()
    assert bool(run_query(store, "ASK { FILTER(ag:x = <http://a/x>) }", prefixes=PREFIXES))
    assert bool(run_query(store, "ASK { FILTER(true) }", prefixes=PREFIXES))
    with pytest.raises(QuerySyntaxError, match="prefix zz: is not declared"):
        run_query(store, "ASK { FILTER(zz:x = <http://a/x>) }", prefixes=PREFIXES)
