"""Updates evaluated once into a delta (graph.answering.update_delta, graph.answering.write_change)
agree with the
engine running the same update on a copy of the store."""

from __future__ import annotations

import pytest

from graph.answering import update_plan
from graph.answering.update_delta import parse_modify
from graph.answering.write_change import update_change
from graph.core.namespaces import CANONICAL_BASE
from graph.store import BlankNode, Change, Store, copy_to_memory, run_update

NEW = CANONICAL_BASE + "graph/new"
COUNTRIES = CANONICAL_BASE + "graph/reference-countries"
PREFIXES = """PREFIX ag: <https://w3id.org/alliance-graph/ontology#>
PREFIX country: <https://w3id.org/alliance-graph/id/country/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""

UPDATES = {
    "insert-where": f"INSERT {{ GRAPH <{NEW}> {{ ?c rdfs:comment ?l }} }} "
    "WHERE { GRAPH ?g { ?c rdfs:label ?l } }",
    "delete-insert": "DELETE { GRAPH ?g { ?c ag:iso3166Alpha2 ?x } } "
    'INSERT { GRAPH ?g { ?c ag:iso3166Alpha2 "HX" } } '
    "WHERE { GRAPH ?g { ?c ag:iso3166Alpha2 ?x } }",
    "delete-where": "DELETE WHERE { GRAPH ?g { ?c rdfs:label ?l } }",
    "optional-unbound": f"INSERT {{ GRAPH <{NEW}> {{ ?c rdfs:comment ?missing }} }} "
    "WHERE { GRAPH ?g { ?c a ag:Country } OPTIONAL { ?c <urn:nothing> ?missing } }",
    "no-solution": f"INSERT {{ GRAPH <{NEW}> {{ ?c rdfs:comment 1 }} }} WHERE {{ ?c <urn:no> 1 }}",
    "empty-pattern": f"INSERT {{ GRAPH <{NEW}> {{ country:x rdfs:comment 'one' }} }} WHERE {{}}",
    "default-graph-only": "INSERT { <urn:a> <urn:b> ?c } WHERE { ?c a ag:Country }",
    "delete-insert-same": "DELETE { GRAPH ?g { ?c ?p ?o } } INSERT { GRAPH ?g { ?c ?p ?o } } "
    "WHERE { GRAPH ?g { ?c ?p ?o } }",
}


def engine_change(store: Store, text: str) -> Change:
    copy = copy_to_memory(store)
    run_update(copy, text)
    return Change(
        removed={q for q in store if q not in copy}, added={q for q in copy if q not in store}
    )


@pytest.mark.parametrize("name", sorted(UPDATES))
def test_single_operations_are_read_without_copying_the_store(
    writable: Store, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = PREFIXES + UPDATES[name]
    assert parse_modify(text) is not None
    expected = engine_change(writable, text)

    def refuse(*_: object) -> Store:
        raise AssertionError("copied the store")

    monkeypatch.setattr(update_plan, "copy_to_memory", refuse)
    monkeypatch.setattr(update_plan, "run_on_whole", refuse)
    change = update_change(writable, text)
    assert (change.removed, change.added) == (expected.removed, expected.added)


@pytest.mark.parametrize(
    "text",
    [
        "INSERT DATA { <urn:a> <urn:b> 1 } ; INSERT { <urn:a> <urn:b> ?x } WHERE { ?x ?y ?z }",
        f"WITH <{NEW}> INSERT {{ <urn:a> <urn:b> 1 }} WHERE {{}}",
        f"INSERT {{ <urn:a> <urn:b> 1 }} USING <{NEW}> WHERE {{}}",
        f"CLEAR GRAPH <{COUNTRIES}>",
        "DELETE { ?s ?p ?o } WHERE { ?s ?p ?o } # trailing comment",
    ],
)
def test_other_updates_still_give_the_engines_change(writable: Store, text: str) -> None:
    expected = engine_change(writable, text)
    change = update_change(writable, text)
    assert (change.removed, change.added) == (expected.removed, expected.added)


def test_blank_nodes_of_the_store_keep_their_identity(writable: Store) -> None:
    run_update(writable, f"INSERT DATA {{ GRAPH <{NEW}> {{ _:b <urn:p> 1 }} }}")
    text = (
        f"INSERT {{ GRAPH <{NEW}> {{ ?b <urn:q> 2 . _:fresh <urn:r> ?b }} }} "
        "WHERE { GRAPH ?g { ?b <urn:p> 1 } }"
    )
    change = update_change(writable, text)
    (stored,) = [q.subject for q in writable if q.predicate.value == "urn:p"]
    by_predicate = {q.predicate.value: q for q in change.added}
    assert by_predicate["urn:q"].subject == stored
    assert by_predicate["urn:r"].object == stored
    assert isinstance(by_predicate["urn:r"].subject, BlankNode)
    assert by_predicate["urn:r"].subject != stored


def test_rand_is_evaluated_once_per_solution(writable: Store) -> None:
    text = f"INSERT {{ GRAPH <{NEW}> {{ <urn:a> <urn:r> ?r }} }} WHERE {{ BIND(RAND() AS ?r) }}"
    for _ in range(20):
        assert len(update_change(writable, text).added) == 1


def test_a_pattern_with_too_many_solutions_is_refused(
    writable: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graph.answering import update_delta
    from graph.core.errors import PayloadTooLarge

    monkeypatch.setattr(update_delta, "MAX_SOLUTIONS", 5)
    text = f"INSERT {{ GRAPH <{NEW}> {{ <urn:a> <urn:n> ?n }} }} "
    text += "WHERE { VALUES ?n { 1 2 3 4 5 6 } }"
    with pytest.raises(PayloadTooLarge, match="over 5 solutions"):
        update_change(writable, text)
