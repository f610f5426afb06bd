"""Oxigraph's syntax errors said in plain words at the right place (graph.store.sparql_errors)."""

from __future__ import annotations

import pytest

from graph.core.links import prefixes
from graph.core.namespaces import CANONICAL_BASE
from graph.store import QuerySyntaxError, memory_store, run_query

#: A bad query, the message it must get, and the line and column (1-based) it must point at.
BAD_QUERIES = [
    ("SELECT ?x WHERE { ?x a ex:Alliance }", "prefix ex: is not declared", 1, 24),
    ("SELECT * WHERE {\n  ?s ?p ?o .\n  ?s ex:x ?y }", "prefix ex: is not declared", 3, 6),
    ("SELECT * WHERE { ?s ?p }", "a triple pattern needs an object after ?p", 1, 24),
    ("SELECT * WHERE {\n  ?s ?p\n}", "a triple pattern needs an object after ?p", 3, 1),
    ("SELECT * WHERE { ?s }", "a triple pattern needs a predicate and an object after ?s", 1, 21),
    ("ASK { ?c a ag:Country ; skos:prefLabel }", "needs an object after skos:prefLabel", 1, 40),
    ("ASK { ?s ?p ?o , }", "a triple pattern needs an object after ','", 1, 18),
    ("SELECT * WHERE { ?s ?p ?o ?x }", "has three terms: end it with '.' before ?x", 1, 27),
    ("SELECT * WHERE { VALUES ?x { 1 2 } ?s ?p }", "needs an object after ?p", 1, 42),
    ("SELEC * WHERE { }", "a query starts with SELECT, CONSTRUCT, ASK or DESCRIBE", 1, 1),
    ("SELECT * WHERE { ?s ?p ?o", "the query ends early: 1 '{' not closed", 1, 26),
    ("ASK { ?s ?p ?o } }", "this '}' closes nothing (1 '}' too many)", 1, 18),
    ('SELECT * WHERE { ?s ?p "x }', "a string is not closed", 1, 24),
    ("SELECT ?x WHERE { ?x <a b> ?y }", "<a b> is not a valid absolute IRI", 1, 22),
    ("SELECT ?x ?x WHERE { }", "a variable is selected twice", 1, None),
    ("SELECT ?x { ?s ?p ?o } GROUP BY ?s", "GROUP BY does not group", 1, None),
    ("SELECT * WHERE { ?s ?p ?o } LIMIT x", "unexpected 'x'; expected one of", 1, 35),
    ("SELECT * WHERE { ?s ?p ?o } garbage", "unexpected 'garbage'", 1, 29),
    ("SELECT * WHERE { ?s ?p ?o . OPTIONAL ?s }", "unexpected '?s'; expected \"{\"", 1, 38),
]


@pytest.mark.parametrize(("text", "message", "line", "column"), BAD_QUERIES)
def test_a_bad_query_gets_its_cause_and_place(
    text: str, message: str, line: int, column: int | None
) -> None:
    declared = prefixes(CANONICAL_BASE)
    with pytest.raises(QuerySyntaxError) as caught:
        run_query(memory_store(), text, prefixes=declared)
    error = caught.value
    assert message in error.message
    assert (error.line, error.column if column else None) == (line, column)
    assert str(error).startswith(f"SPARQL syntax error at line {line}, column ")
    assert "\n" not in str(error) and len(str(error)) < 200


def test_the_project_prefixes_are_declared_and_the_query_s_own_win() -> None:
    store = memory_store()
    declared = prefixes(CANONICAL_BASE)
    rows = run_query(store, "SELECT ?x { BIND(ag:Alliance AS ?x) }", prefixes=declared)
    assert [row["x"].value for row in rows] == [declared["ag"] + "Alliance"]
    own = "PREFIX ag: <http://example.org/> SELECT ?x { BIND(ag:Alliance AS ?x) }"
    rows = run_query(store, own, prefixes=declared)
    assert [row["x"].value for row in rows] == ["http://example.org/Alliance"]


def test_positions_count_characters_not_bytes() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        run_query(memory_store(), 'SELECT * WHERE { "São" ?p ex:x }')
    assert (caught.value.line, caught.value.column) == (1, 27)
