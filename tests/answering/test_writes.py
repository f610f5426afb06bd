"""SHACL-checked writes (graph.answering.writes) and the protocol's update dataset
(graph.answering.update_dataset).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask

from graph.answering import writes
from graph.answering.store_version import StoreVersion
from graph.answering.update_dataset import has_dataset_clause, protocol_dataset
from graph.answering.writes import (
    Shapes,
    Writable,
    add_to_graph,
    checked_update,
    delete_graph,
    load_shapes,
    validate_result,
)
from graph.core.errors import BadRequest, NotFound, ShapeViolation
from graph.core.namespaces import CANONICAL_BASE
from graph.store import Quad, Store, dump_nquads, select_rows
from tests.answering.dataset_reference import with_protocol_dataset
from tests.paths import MINI

COUNTRIES = CANONICAL_BASE + "graph/reference-countries"
NEWS = CANONICAL_BASE + "graph/alliance-news"
NEW = CANONICAL_BASE + "graph/new"
PREFIXES = """PREFIX ag: <https://w3id.org/alliance-graph/ontology#>
PREFIX country: <https://w3id.org/alliance-graph/id/country/>
PREFIX organization: <https://w3id.org/alliance-graph/id/organization/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


@pytest.fixture
def shapes() -> Shapes:
    return load_shapes(str(MINI), CANONICAL_BASE)


def target(store: Store, shapes: Shapes) -> Writable:
    return Writable(store, shapes, StoreVersion())


def insert_country(slug: str, code: str, graph: str = NEW) -> str:
    return PREFIXES + (
        f"INSERT DATA {{ GRAPH <{graph}> {{ country:{slug} a ag:Country ; "
        f'ag:iso3166Alpha2 "{code}" }} }}'
    )


def codes(store: Store) -> set[str]:
    rows = select_rows(store, PREFIXES + "SELECT ?code WHERE { ?c ag:iso3166Alpha2 ?code }")
    return {row["code"] for row in rows}


def test_valid_insert_is_committed(writable: Store, shapes: Shapes) -> None:
    checked_update(target(writable, shapes), insert_country("france", "FR"))
    assert codes(writable) == {"HN", "FR"}


@pytest.mark.parametrize(
    "update",
    [
        insert_country("france", "FRA"),
        insert_country("france", "fr"),
        # A second code breaks sh:maxCount 1.
        PREFIXES + "INSERT DATA { GRAPH <" + NEW + '> { country:honduras ag:iso3166Alpha2 "HO" } }',
        # A member that is not a described country breaks sh:class.
        PREFIXES
        + "INSERT DATA { GRAPH <"
        + NEW
        + "> { organization:weprotect ag:member country:atlantis } }",
    ],
)
def test_insert_breaking_a_shape_is_refused_and_changes_nothing(
    writable: Store, shapes: Shapes, update: str
) -> None:
    before = dump_nquads(writable)
    with pytest.raises(ShapeViolation) as refused:
        checked_update(target(writable, shapes), update)
    assert type(refused.value) is ShapeViolation
    assert refused.value.report is not None
    assert "sh:ValidationReport" in refused.value.report.to_turtle()
    assert dump_nquads(writable) == before


def test_delete_of_a_required_property_is_refused(writable: Store, shapes: Shapes) -> None:
    before = dump_nquads(writable)
    update = PREFIXES + "DELETE WHERE { GRAPH ?g { organization:weprotect rdfs:label ?label } }"
    with pytest.raises(ShapeViolation) as refused:
        checked_update(target(writable, shapes), update)
    assert "An alliance needs a label." in refused.value.detail
    assert "organization/weprotect" in refused.value.detail
    assert dump_nquads(writable) == before


def test_delete_that_keeps_the_shapes_is_committed(writable: Store, shapes: Shapes) -> None:
    checked_update(target(writable, shapes), insert_country("france", "FR"))
    checked_update(
        target(writable, shapes), PREFIXES + "DELETE WHERE { GRAPH ?g { country:france ?p ?o } }"
    )
    assert codes(writable) == {"HN"}


def test_update_syntax_error_names_line_and_column(writable: Store, shapes: Shapes) -> None:
    before = dump_nquads(writable)
    with pytest.raises(BadRequest, match=r"line 2, column \d+"):
        checked_update(target(writable, shapes), "INSERT DATA {\n  <http://a> <http://b> }")
    assert dump_nquads(writable) == before


def test_failing_operation_changes_nothing(writable: Store, shapes: Shapes) -> None:
    """A request whose second operation fails leaves the first one unapplied too."""
    before = dump_nquads(writable)
    update = insert_country("france", "FR") + f" ;\nDROP GRAPH <{NEW}-missing>"
    with pytest.raises(BadRequest, match="does not exist"):
        checked_update(target(writable, shapes), update)
    assert dump_nquads(writable) == before


def test_using_graph_uri_sets_the_pattern_dataset(writable: Store, shapes: Shapes) -> None:
    update = PREFIXES + (
        f'INSERT {{ GRAPH <{NEW}> {{ ?c rdfs:comment "seen" }} }} WHERE {{ ?c a ag:Country }}'
    )
    checked_update(target(writable, shapes), update, using=[NEWS])
    seen = PREFIXES + 'SELECT ?c WHERE { ?c rdfs:comment "seen" }'
    assert select_rows(writable, seen) == []
    checked_update(target(writable, shapes), update, using=[COUNTRIES])
    assert select_rows(writable, seen) == [{"c": CANONICAL_BASE + "id/country/honduras"}]


def test_using_named_graph_uri_limits_the_named_graphs(writable: Store, shapes: Shapes) -> None:
    update = PREFIXES + (
        f'INSERT {{ GRAPH <{NEW}> {{ ?c rdfs:comment "seen" }} }} '
        "WHERE { GRAPH ?g { ?c a ag:Country } }"
    )
    checked_update(target(writable, shapes), update, using_named=[NEWS])
    seen = PREFIXES + 'SELECT ?c WHERE { ?c rdfs:comment "seen" }'
    assert select_rows(writable, seen) == []
    checked_update(target(writable, shapes), update, using_named=[COUNTRIES])
    assert len(select_rows(writable, seen)) == 1


def test_using_parameters_with_using_in_the_text_is_400(writable: Store, shapes: Shapes) -> None:
    update = f"DELETE {{ ?s ?p ?o }} USING <{NEWS}> WHERE {{ ?s ?p ?o }}"
    with pytest.raises(BadRequest, match="USING or WITH"):
        checked_update(target(writable, shapes), update, using=[COUNTRIES])
    with_clause = f"WITH <{NEWS}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}"
    with pytest.raises(BadRequest):
        checked_update(target(writable, shapes), with_clause, using_named=[COUNTRIES])


def test_delete_graph_of_missing_graph_is_not_found(writable: Store, shapes: Shapes) -> None:
    with pytest.raises(NotFound):
        delete_graph(target(writable, shapes), NEW)


def test_concurrent_updates_keep_the_store_valid(writable: Store, shapes: Shapes) -> None:
    refused: list[int] = []

    def writer(number: int) -> None:
        code = f"{chr(65 + number)}{chr(65 + number)}" + ("X" if number % 2 else "")
        try:
            checked_update(target(writable, shapes), insert_country(f"c{number}", code))
        except ShapeViolation:
            refused.append(number)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(refused) == [1, 3, 5, 7]
    assert codes(writable) == {"HN", "AA", "CC", "EE", "GG"}
    assert validate_result(writable, shapes).conforms


def test_add_reports_whether_the_graph_was_created(writable: Store, shapes: Shapes) -> None:
    assert add_to_graph(target(writable, shapes), NEW, []) is True
    assert add_to_graph(target(writable, shapes), NEW, []) is False


# --- rewriting the protocol's dataset into the update text -----------------------------------


def test_using_clauses_go_before_each_modify_where() -> None:
    update = (
        "PREFIX ex: <http://ex/> # a comment with WHERE { in it\n"
        'DELETE { ?s ex:p "WHERE }" } INSERT { ?s ex:q 1 } '
        "WHERE { ?s ex:p ?o { SELECT ?s WHERE { ?s ?p ?o } } } ;\n"
        "INSERT DATA { ex:a ex:b ex:c } ; delete where { ?a ?b ?c }"
    )
    rewritten = with_protocol_dataset(update, ["http://g1"], ["http://n"])
    clauses = "USING <http://g1> USING NAMED <http://n>"
    assert f"INSERT {{ ?s ex:q 1 }} {clauses} WHERE {{ ?s ex:p ?o {{ SELECT ?s WHERE" in rewritten
    assert "INSERT DATA { ex:a ex:b ex:c } ;" in rewritten
    assert rewritten.endswith(f"delete {{ ?a ?b ?c }} {clauses} WHERE {{ ?a ?b ?c }}")
    assert rewritten.count("USING <http://g1>") == 2


def test_no_parameters_leave_the_update_alone() -> None:
    update = "WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"
    assert with_protocol_dataset(update) == update


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        ("WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", True),
        ("DELETE { ?s ?p ?o } using <http://g> WHERE { ?s ?p ?o }", True),
        ('INSERT DATA { <http://a> <http://using> "WITH USING" }', False),
        ("INSERT DATA { <http://a> <http://b> <http://c> } # USING", False),
    ],
)
def test_dataset_clause_detection(update: str, expected: bool) -> None:
    assert has_dataset_clause(update) is expected


def test_invalid_using_iri_is_400() -> None:
    with pytest.raises(BadRequest, match="not valid"):
        protocol_dataset("DELETE WHERE { ?s ?p ?o }", ["not an iri"])


def test_writes_queued_behind_others_are_not_stopped_as_runaways(
    write_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (tests/reliability/test_load.py): the time limit of an HTTP write counted
    its wait behind other writes, so under a steady write load queued writes were answered
    503 "stopped at the time limit" (and the writable worker retired) though each write took
    a fraction of the limit. The limit now starts when the write's turn comes."""
    import time

    real_check = writes.check

    def slow_check(store: Store, change: object, shapes: Shapes, *known: object) -> object:
        time.sleep(0.4)
        return real_check(store, change, shapes, *known)  # type: ignore[arg-type]

    monkeypatch.setattr(writes, "check", slow_check)
    app = write_app(QUERY_TIMEOUT=1.0)
    statuses: list[int] = []

    def write(number: int, kind: str) -> None:
        client = app.test_client()
        auth = {"Authorization": "Bearer t0ken"}
        triple = f"<urn:queued:{number}> <urn:p> <urn:o> ."
        if kind == "update":
            update = f"INSERT DATA {{ GRAPH <urn:g> {{ {triple} }} }}"
            response = client.post("/sparql", data={"update": update}, headers=auth)
        else:
            headers = {**auth, "Content-Type": "application/n-triples"}
            graph = {"graph": f"urn:g{number}"}
            response = client.put("/store", query_string=graph, data=triple, headers=headers)
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=write, args=(n, "update" if n % 2 else "put")) for n in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 201, 201, 204, 204, 204]


def test_an_http_update_is_checked_against_the_apps_own_shapes(
    write_app: Callable[..., Flask],
) -> None:
    """Regression: /sparql updates ran on a helper thread, outside the app context, so they
    were checked against the shapes of the KG_PROJECT_DIR setting instead of the app's
    PROJECT_DIR (here the mini project, whose data the real project's shapes refuse)."""
    update = "INSERT DATA { GRAPH <urn:g> { <urn:own:1> <urn:p> <urn:o> . } }"
    response = (
        write_app()
        .test_client()
        .post("/sparql", data={"update": update}, headers={"Authorization": "Bearer t0ken"})
    )
    assert response.status_code == 204, response.get_data(as_text=True)[:300]


def test_the_class_tree_is_read_once_for_writes_that_leave_it_alone(
    writable: Store, shapes: Shapes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reading it held the GIL for a third of a write (issue 12, reads while writes run).
    reads: list[int] = []
    real = writes.subclass_statements

    def counted(store: Store) -> tuple[Quad, ...]:
        reads.append(1)
        return real(store)

    monkeypatch.setattr(writes, "subclass_statements", counted)
    to = target(writable, shapes)
    checked_update(to, insert_country("france", "FR"))
    checked_update(to, insert_country("spain", "ES"))
    with pytest.raises(ShapeViolation):
        checked_update(to, insert_country("italy", "ITA"))
    assert len(reads) == 1
    # A version moved by anything but a write of this process: read again.
    to.version.bump()
    checked_update(to, insert_country("portugal", "PT"))
    assert len(reads) == 2


def test_writes_follow_the_class_tree_other_writes_change(writable: Store, shapes: Shapes) -> None:
    # A node of a new subclass of ag:Country gets the Country shape (a 3-letter code breaks it)
    # once the subclass is written, and no longer once it is deleted again.
    to = target(writable, shapes)
    tree = f"<{NEW}> {{ ag:StateUnderTest rdfs:subClassOf ag:Country }}"
    checked_update(to, insert_country("france", "FR"))  # the tree as it was, known
    checked_update(to, PREFIXES + f"INSERT DATA {{ GRAPH {tree} }}")
    state = PREFIXES + (
        f"INSERT DATA {{ GRAPH <{NEW}> {{ country:%s a ag:StateUnderTest ;"
        ' ag:iso3166Alpha2 "QQQ" } }'
    )
    with pytest.raises(ShapeViolation):
        checked_update(to, state % "first")
    checked_update(to, PREFIXES + f"DELETE DATA {{ GRAPH {tree} }}")
    checked_update(to, state % "second")
    assert "QQQ" in codes(writable)
