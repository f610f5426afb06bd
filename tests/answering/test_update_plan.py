"""Updates of several operations, and WITH/USING, evaluated operation by operation
(graph.answering.update_plan) give the change the engine makes, without copying the store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from graph.answering import update_plan
from graph.answering.update_plan import split
from graph.answering.write_change import update_change
from graph.core.errors import BadRequest
from graph.store import (
    Change,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QuerySyntaxError,
    Store,
    UpdateFailed,
    copy_to_memory,
    run_update,
    scratch,
)
from tests.answering.dataset_reference import with_protocol_dataset
from tests.answering.update_reference import (
    commit,
    engine_per_operation,
    engine_whole,
    state,
)

G = ["urn:g1", "urn:g2", "urn:g3"]  # urn:g3 does not exist at first
S = ["urn:s1", "urn:s2"]
P = ["urn:p1", "urn:p2"]


def small_store(*, own: bool = True) -> Store:
    """Two named graphs, a triple stated twice, one the default graph's own (unless ``own`` is
    False); materialized."""
    store = Store()
    stated = [
        ("urn:s1", "urn:p1", 1, "urn:g1"),
        ("urn:s2", "urn:p1", 2, "urn:g1"),
        ("urn:s1", "urn:p1", 1, "urn:g2"),
        ("urn:s1", "urn:p2", 2, "urn:g2"),
    ]
    for s, p, o, g in stated:
        for graph in (NamedNode(g), DefaultGraph()):
            store.add(Quad(NamedNode(s), NamedNode(p), Literal(o), graph))
    if own:
        store.add(Quad(NamedNode("urn:s2"), NamedNode("urn:p2"), Literal(3), DefaultGraph()))
    return store


def refuse(*_: object) -> Store:
    raise AssertionError("read the whole store")


@pytest.fixture
def no_whole_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the store is copied or an operation run on all of it."""
    monkeypatch.setattr(update_plan, "run_on_whole", refuse)
    monkeypatch.setattr(update_plan, "copy_to_memory", refuse)
    monkeypatch.setattr(scratch, "copy_to_memory", refuse)


# --- the operations hypothesis combines ------------------------------------------------------

iri = st.sampled_from(G).map(lambda g: f"<{g}>")
subject = st.sampled_from(S).map(lambda s: f"<{s}>")
predicate = st.sampled_from(P).map(lambda p: f"<{p}>")
value = st.integers(1, 3).map(str)
triple = st.builds(lambda s, p, o: f"{s} {p} {o}", subject, predicate, value)
silent = st.sampled_from(["", "SILENT "])


def in_graph(named_only: bool) -> st.SearchStrategy[str]:
    """A triple in a named graph, or (unless ``named_only``) in the default graph."""
    named = st.builds(lambda g, t: f"GRAPH {g} {{ {t} }}", iri, triple)
    return named if named_only else st.one_of(named, triple)


def where(named_only: bool) -> st.SearchStrategy[str]:
    patterns = [
        st.builds(lambda p: f"GRAPH ?g {{ ?s {p} ?o }}", predicate),
        st.builds(lambda g, p: f"GRAPH {g} {{ ?s {p} ?o }}", iri, predicate),
        st.just("GRAPH ?g { ?s ?p ?o } FILTER(?o > 1)"),
    ]
    if not named_only:
        patterns.append(st.builds(lambda p: f"?s {p} ?o", predicate))
    return st.one_of(*patterns)


def modify(named_only: bool) -> st.SearchStrategy[str]:
    target = st.builds(lambda g, p: f"GRAPH {g} {{ ?s {p} ?o }}", iri, predicate)
    if not named_only:
        target = st.one_of(target, st.builds(lambda p: f"?s {p} ?o", predicate))
    dataset = st.sampled_from(
        ["", "USING <urn:g1> ", "USING NAMED <urn:g2> ", "USING <urn:g2> USING NAMED <urn:g1> "]
    )
    with_graph = st.sampled_from(["", "WITH <urn:g1> ", "WITH <urn:g3> "])
    return st.one_of(
        st.builds(lambda t, w: f"INSERT {{ {t} }} WHERE {{ {w} }}", target, where(named_only)),
        st.builds(
            lambda w: f"DELETE {{ GRAPH ?g {{ ?s ?p ?o }} }} WHERE {{ {w} }}",
            st.just("GRAPH ?g { ?s ?p ?o } FILTER(?o = 2)"),
        ),
        st.builds(lambda g: f"DELETE WHERE {{ GRAPH {g} {{ ?s <urn:p2> ?o }} }}", iri),
        st.builds(
            lambda d, t, w: (
                f"DELETE {{ {t} }} INSERT {{ GRAPH <urn:g3> {{ ?s <urn:p1> 9 }} }}"
                f" {d}WHERE {{ {w} }}"
            ),
            dataset,
            target,
            where(named_only),
        ),
        *(
            []
            if named_only
            else [
                st.builds(
                    lambda w, d: (
                        f"{w}DELETE {{ ?s ?p ?o }} INSERT {{ ?o ?p ?s }} "
                        f"{d}WHERE {{ ?s ?p ?o FILTER(isIRI(?o)) }}"
                    ),
                    with_graph,
                    dataset,
                ),
                st.builds(
                    lambda w: f"{w}INSERT {{ ?s <urn:p2> 7 }} WHERE {{ ?s ?p 1 }}", with_graph
                ),
            ]
        ),
    )


def graph_operation(named_only: bool) -> st.SearchStrategy[str]:
    either = iri if named_only else st.one_of(iri, st.just("DEFAULT"))
    return st.one_of(
        st.builds(lambda s, g: f"CLEAR {s}GRAPH {g}", silent, iri),
        st.builds(lambda s, g: f"DROP {s}GRAPH {g}", silent, iri),
        st.builds(lambda s, g: f"CREATE {s}GRAPH {g}", silent, iri),
        st.builds(
            lambda o, s, a, b: f"{o} {s}{a} TO {b}",
            st.sampled_from(["ADD", "MOVE", "COPY"]),
            silent,
            either,
            either,
        ),
        *([] if named_only else [st.just("CLEAR DEFAULT"), st.just("CLEAR SILENT ALL")]),
    )


def operation(named_only: bool) -> st.SearchStrategy[str]:
    data = st.builds(
        lambda k, t: f"{k} DATA {{ {t} }}",
        st.sampled_from(["INSERT", "DELETE"]),
        in_graph(named_only),
    )
    return st.one_of(data, modify(named_only), graph_operation(named_only))


def outcome(make: Callable[[], Store]) -> tuple[set[object], set[str]] | str:
    try:
        return state(make())
    except (UpdateFailed, BadRequest):
        return "refused"


def ours(store: Store, update: str, near: Path | None = None) -> Store:
    result = copy_to_memory(store)
    commit(result, update_change(result, update, near=near))
    return result


PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(ops=st.lists(operation(named_only=False), min_size=1, max_size=4))
def test_each_operation_sees_the_earlier_ones_as_the_engine_would(ops: list[str]) -> None:
    store = small_store()
    expected = outcome(lambda: engine_per_operation(store, ops))
    got = outcome(lambda: ours(store, " ;\n".join(ops)))
    event("refused" if expected == "refused" else "applied")
    assert got == expected, ops


@PROPERTY
@given(ops=st.lists(operation(named_only=True), min_size=1, max_size=4))
def test_updates_on_named_graphs_commit_what_the_engine_makes_of_the_whole_text(
    ops: list[str],
) -> None:
    """No operation here reads or writes the default graph, so the engine running the whole
    text on a copy (keeping no default graph set meanwhile) is the reference.

    Not with a triple of the default graph's own: one operation stating it in a named graph and
    a later one removing it from there removes it from the default graph too (as two requests
    would: the set cannot tell it was the default graph's own once a named graph states it),
    while the whole text's net change leaves it. The operation-by-operation property above
    covers own triples.
    """
    store = small_store(own=False)
    text = " ;\n".join(ops)
    expected = outcome(lambda: engine_whole(store, text))
    event("refused" if expected == "refused" else "applied")
    assert outcome(lambda: ours(store, text)) == expected, ops


@PROPERTY
@given(
    ops=st.lists(modify(named_only=False), min_size=1, max_size=3),
    using=st.lists(st.sampled_from(G), max_size=2),
    named=st.lists(st.sampled_from(G), max_size=2),
)
def test_the_protocol_dataset_acts_as_using_clauses(
    ops: list[str], using: list[str], named: list[str]
) -> None:
    ops = [op for op in ops if "USING" not in op and "WITH" not in op] or ["INSERT DATA {}"]
    store = small_store()
    text = " ;\n".join(ops)
    written = with_protocol_dataset(text, using, named)  # the clauses in the text: reference
    expected = outcome(lambda: engine_per_operation(store, [op for op in split_text(written)]))
    protocol = (tuple(using), tuple(named)) if using or named else None

    def evaluated() -> Store:
        result = copy_to_memory(store)
        commit(result, update_change(result, text, protocol=protocol))
        return result

    assert outcome(evaluated) == expected, (ops, using, named)


def split_text(update: str) -> list[str]:
    return [op.text for op in split(update)]


# --- what it costs: no copy of the store -------------------------------------------------------


ONE_OPERATION = [
    "WITH <urn:g1> DELETE { ?s <urn:p1> ?o } INSERT { ?s <urn:p2> ?o } WHERE { ?s <urn:p1> ?o }",
    "INSERT { GRAPH <urn:g3> { ?s ?p ?o } } USING <urn:g2> WHERE { ?s ?p ?o }",
    "INSERT { GRAPH <urn:g3> { ?s ?p ?g } } USING NAMED <urn:g2> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "WITH <urn:g2> INSERT { ?s ?p 5 } USING <urn:g1> WHERE { ?s ?p ?o }",
    "PREFIX u: <urn:> WITH u:g1 DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "COPY <urn:g1> TO <urn:g3>",
    "MOVE SILENT <urn:g2> TO <urn:g1>",
    "DROP GRAPH <urn:g2>",
    "CREATE GRAPH <urn:g3>",
]


@pytest.mark.parametrize("text", ONE_OPERATION)
@pytest.mark.usefixtures("no_whole_copy")
def test_with_using_and_graph_operations_read_only_what_they_name(text: str) -> None:
    store = small_store()
    expected = state(engine_per_operation(store, [text]))
    assert state(ours(store, text)) == expected


TWO_OPERATIONS = (
    "DELETE DATA { GRAPH <urn:g1> { <urn:s1> <urn:p1> 1 } } ;\n"
    "INSERT { GRAPH <urn:g3> { ?s <urn:p1> ?o } } WHERE { ?s <urn:p1> ?o }"
)


@pytest.mark.usefixtures("no_whole_copy")
def test_several_operations_run_on_a_checkpoint_of_a_store_on_disk(tmp_path: Path) -> None:
    on_disk = Store(str(tmp_path / "store"))
    on_disk.extend(small_store())
    expected = state(engine_per_operation(small_store(), TWO_OPERATIONS.split(";\n")))
    change = update_change(on_disk, TWO_OPERATIONS, near=tmp_path)
    # The second operation saw the first: <urn:s1> <urn:p1> 1 is still stated by urn:g2.
    assert Quad(NamedNode("urn:s1"), NamedNode("urn:p1"), Literal(1), NamedNode("urn:g3")) in (
        change.added
    )
    commit(on_disk, change)
    assert state(on_disk) == expected
    assert [p.name for p in tmp_path.iterdir()] == ["store"]  # the checkpoint is gone


def test_a_failing_operation_changes_nothing_and_says_why(tmp_path: Path) -> None:
    on_disk = Store(str(tmp_path / "store"))
    on_disk.extend(small_store())
    before = state(on_disk)
    text = "INSERT DATA { GRAPH <urn:g3> { <urn:a> <urn:b> 1 } } ; CREATE GRAPH <urn:g3>"
    with pytest.raises(BadRequest, match="cannot be applied"):
        update_change(on_disk, text, near=tmp_path)
    assert state(on_disk) == before
    assert [p.name for p in tmp_path.iterdir()] == ["store"]


@pytest.mark.parametrize(
    "text",
    [
        "INSERT DATA { <urn:a> <urn:b> 1 } ;\nCLEAR GRAPH oops",
        "CLEAR GRAPH <urn:g1> ;\nINSERT { ?s ?p } WHERE { ?s ?p ?o }",
        "WITH <urn:g1> INSERT { ?s ?p 1 WHERE { ?s ?p ?o }",
        "DROP GRAPH <urn:g1> ; FOO",
    ],
)
@pytest.mark.usefixtures("no_whole_copy")
def test_a_syntax_error_names_its_line_and_column_in_the_whole_update(
    text: str, tmp_path: Path
) -> None:
    with pytest.raises(QuerySyntaxError) as engine:
        run_update(Store(), text)
    on_disk = Store(str(tmp_path / "store"))
    on_disk.extend(small_store())
    with pytest.raises(BadRequest) as raised:
        update_change(on_disk, text, near=tmp_path)
    assert raised.value.position == (engine.value.line, engine.value.column)
    assert raised.value.position is not None


def test_an_empty_update_changes_nothing() -> None:
    assert update_change(small_store(), "PREFIX u: <urn:>") == Change()


def test_operations_are_split_with_the_prologue_in_force() -> None:
    ops = split('PREFIX u: <urn:> INSERT DATA { u:a u:b "x;y" } ; BASE <urn:b/> CLEAR GRAPH <g>')
    assert [op.kind for op in ops] == ["data", "graph"]
    assert ops[1].text.startswith("PREFIX u: <urn:> BASE <urn:b/> CLEAR")
