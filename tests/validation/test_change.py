"""The per-change check of writes (graph.validation.change) agrees with full pySHACL validation.

A property test runs random writes (SPARQL DATA updates and Graph Store replacements and
merges, valid and invalid) on the mini project's store, with shapes that use sh:class through
a subclass, sh:or, sh:uniqueLang, sh:datatype, sh:pattern and counts, and compares each
verdict with pySHACL on the whole resulting data; another runs updates of several operations
(WHERE, WITH, USING, graph operations), each reading what the earlier ones wrote. A third runs
random writes on the project's own built store with its own shapes (sh:alternativePath, sh:not
over a value node's dcterms:language and type), which must stay in the per-change subset.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from graph.answering.store_version import StoreVersion
from graph.answering.writes import (
    Shapes,
    Writable,
    add_to_graph,
    checked_update,
    load_shapes,
    replace_graph,
    validate_result,
)
from graph.core.errors import ShapeViolation
from graph.core.namespaces import CANONICAL_BASE
from graph.store import (
    BlankNode,
    Change,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    Store,
    copy_to_memory,
    dump_nquads,
    run_update,
    sparql_data_block,
)
from graph.validation.change import focus_nodes, local_shapes, validate_change
from graph.validation.reach import reach
from tests.answering.update_reference import engine_per_operation
from tests.paths import ROOT

AG = "https://w3id.org/alliance-graph/ontology#"
ID = CANONICAL_BASE + "id/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
GRAPHS = [CANONICAL_BASE + "graph/reference-countries", CANONICAL_BASE + "graph/new"]

SUBJECTS = [
    NamedNode(ID + n)
    for n in ("country/honduras", "country/x", "organization/weprotect", "organization/o")
]
CLASSES = [NamedNode(AG + n) for n in ("Country", "Alliance", "Organization")]
OBJECTS = {
    RDF_TYPE: CLASSES,
    LABEL: [Literal(v, language=t) for v, t in zip("ABCD", ("en", "en", "fr", None), strict=True)],
    AG + "member": [*SUBJECTS, Literal("x")],
    AG + "iso3166Alpha2": [Literal("HN"), Literal("XX"), Literal("abc")],
}


def quads() -> st.SearchStrategy[Quad]:
    def quad(predicate: str) -> st.SearchStrategy[Quad]:
        return st.builds(
            Quad,
            st.sampled_from(SUBJECTS),
            st.just(NamedNode(predicate)),
            st.sampled_from(OBJECTS[predicate]),
            st.sampled_from([NamedNode(g) for g in GRAPHS]),
        )

    return st.sampled_from(sorted(OBJECTS)).flatmap(quad)


WRITES = st.tuples(
    st.sampled_from(["update", "replace", "add"]),
    st.lists(quads(), max_size=4),
    st.lists(st.integers(0, 50), max_size=3),
)


def expected_state(store: Store, kind: str, added: list[Quad], removed: list[Quad]) -> Store:
    """The store as the engine itself makes it after the write (the reference)."""
    after = copy_to_memory(store)
    graph = GRAPHS[1]
    if kind == "update":
        steps = []
        if removed:
            steps.append(f"DELETE DATA {{ {sparql_data_block(removed)} }}")
        if added:
            steps.append(f"INSERT DATA {{ {sparql_data_block(added)} }}")
        if steps:
            run_update(after, " ;\n".join(steps))
    else:
        if kind == "replace":
            run_update(after, f"CLEAR SILENT GRAPH <{graph}>")
        run_update(after, f"CREATE SILENT GRAPH <{graph}>")
        after.extend(Quad(q.subject, q.predicate, q.object, NamedNode(graph)) for q in added)
    return with_default_set(store, after, added, removed)


def with_default_set(before: Store, after: Store, added: list[Quad], removed: list[Quad]) -> Store:
    """``after`` with the default graph the set it must be (issue 17), defined on whole sets:
    the triples of every named graph, plus the triples of the default graph no named graph
    stated before, less those the write removed from it, plus those it added to it."""

    def triple(q: Quad) -> tuple[object, object, object]:
        return (q.subject, q.predicate, q.object)

    def named(store: Store) -> set[tuple[object, object, object]]:
        return {triple(q) for q in store if not isinstance(q.graph_name, DefaultGraph)}

    def default(quads: Iterable[Quad]) -> set[tuple[object, object, object]]:
        return {triple(q) for q in quads if isinstance(q.graph_name, DefaultGraph)}

    own = default(before) - named(before)
    wanted = named(after) | (own - default(removed)) | default(added)
    for quad in [q for q in after if isinstance(q.graph_name, DefaultGraph)]:
        after.remove(quad)
    after.extend(Quad(s, p, o, DefaultGraph()) for s, p, o in wanted)  # type: ignore[arg-type]
    return after


def write_agrees_with_full_validation(
    target: Writable, kind: str, added: list[Quad], removed: list[Quad]
) -> None:
    """Make one write of ``kind`` on ``target`` (an update removing ``removed`` and adding
    ``added``, or a Graph Store replacement or merge of ``added`` into the new graph): it is
    accepted exactly when full pySHACL accepts the result, and what is committed is the
    engine's own result (:func:`expected_state`); a refused write changes nothing."""
    store = target.store
    after = expected_state(store, kind, added, removed)
    expected = validate_result(after, target.shapes).conforms
    before = dump_nquads(store)
    try:
        if kind == "update":
            steps = [f"DELETE DATA {{ {sparql_data_block(removed)} }}"] if removed else []
            steps += [f"INSERT DATA {{ {sparql_data_block(added)} }}"] if added else []
            checked_update(target, " ;\n".join(steps) or "CLEAR SILENT GRAPH <urn:none>")
        else:
            write = replace_graph if kind == "replace" else add_to_graph
            new = NamedNode(GRAPHS[1])
            write(target, GRAPHS[1], [Quad(q.subject, q.predicate, q.object, new) for q in added])
        accepted = True
    except ShapeViolation:
        accepted = False
    event(f"{kind} {'accepted' if accepted else 'refused'}")
    assert accepted is expected, (kind, added, removed)
    assert dump_nquads(store) == (dump_nquads(after) if accepted else before)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(writes=st.lists(WRITES, min_size=1, max_size=4))
def test_verdicts_agree_with_full_validation(
    writable: Store, rich_shapes: Shapes, writes: list[tuple[str, list[Quad], list[int]]]
) -> None:
    store = copy_to_memory(writable)
    assert validate_result(store, rich_shapes).conforms
    target = Writable(store, rich_shapes, StoreVersion())
    for kind, added, picks in writes:
        present = sorted(store, key=str)
        removed = [present[i % len(present)] for i in picks] if kind == "update" else []
        write_agrees_with_full_validation(target, kind, added, removed)


def test_the_shapes_of_the_project_are_checked_per_change(mini_shapes: Shapes) -> None:
    """The project's own shapes stay in the subset validated per change (else every write
    would validate a copy of the whole store)."""
    assert local_shapes(load_shapes(str(ROOT), CANONICAL_BASE).shapes)
    assert local_shapes(mini_shapes.shapes)


def test_changing_a_type_rechecks_the_nodes_pointing_to_it(
    writable: Store, mini_shapes: Shapes
) -> None:
    """Removing honduras's type breaks the alliance that has it as a member (sh:class)."""
    honduras = NamedNode(ID + "country/honduras")
    # From the named graph that states it (the default graph's copy follows: issue 17).
    stated = writable.quads_for_pattern(honduras, NamedNode(RDF_TYPE), None, None)
    typed = next(q for q in stated if isinstance(q.graph_name, NamedNode))
    change = Change(removed={typed})
    read = reach(mini_shapes.shapes)
    assert read is not None
    focus = focus_nodes(writable, change, read)
    assert NamedNode(ID + "organization/weprotect") in focus
    report, checked = validate_change(writable, change, mini_shapes.shapes, mini_shapes.ontology)
    assert not report.conforms
    assert {v.focus for v in report.violations} >= {ID + "organization/weprotect"}
    assert checked == 2


def test_blank_nodes_are_validated_and_committed_as_they_are(
    writable: Store, mini_shapes: Shapes
) -> None:
    target = Writable(writable, mini_shapes, StoreVersion())
    node = BlankNode()
    country = [
        Quad(node, NamedNode(RDF_TYPE), NamedNode(AG + "Country"), DefaultGraph()),
        Quad(node, NamedNode(AG + "iso3166Alpha2"), Literal("QQQ"), DefaultGraph()),
    ]
    with pytest.raises(ShapeViolation):
        add_to_graph(target, None, country)
    add_to_graph(target, None, [*country[:1], Quad(node, country[1].predicate, Literal("QQ"))])
    assert validate_result(writable, mini_shapes).conforms
    assert target.version.value == 1


#: Operations a several-operation update combines (graph.answering.update_plan); each one may
#: make the store valid or invalid, and the later ones read what the earlier ones wrote.
OPERATIONS = [
    f"PREFIX ag: <{AG}> DELETE {{ GRAPH ?g {{ ?s ag:iso3166Alpha2 ?c }} }} "
    f'INSERT {{ GRAPH ?g {{ ?s ag:iso3166Alpha2 "XX" }} }} '
    "WHERE { GRAPH ?g { ?s ag:iso3166Alpha2 ?c } }",
    f"PREFIX ag: <{AG}> INSERT {{ GRAPH <{GRAPHS[1]}> {{ ?m a ag:Country }} }} "
    "WHERE { ?s ag:member ?m }",
    f"WITH <{GRAPHS[1]}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o FILTER(?p = <{LABEL}>) }}",
    f"DELETE WHERE {{ GRAPH ?g {{ ?s <{LABEL}> ?l }} }}",
    f"PREFIX ag: <{AG}> INSERT {{ ?s ag:iso3166Alpha2 ?l }} USING <{GRAPHS[0]}> "
    f"WHERE {{ ?s <{LABEL}> ?l }}",
    f"CLEAR SILENT GRAPH <{GRAPHS[1]}>",
    f"COPY SILENT <{GRAPHS[0]}> TO <{GRAPHS[1]}>",
    f"MOVE SILENT <{GRAPHS[1]}> TO <{GRAPHS[0]}>",
    f"DROP SILENT GRAPH <{GRAPHS[0]}>",
]  # fmt: skip


def operation() -> st.SearchStrategy[str]:
    data = st.builds(
        lambda kind, added: f"{kind} DATA {{ {sparql_data_block(added)} }}",
        st.sampled_from(["INSERT", "DELETE"]),
        st.lists(quads(), min_size=1, max_size=3),
    )
    return st.one_of(data, st.sampled_from(OPERATIONS))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation(), min_size=2, max_size=4))
def test_verdicts_on_several_operation_updates_agree_with_full_validation(
    writable: Store, rich_shapes: Shapes, ops: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Each operation sees the earlier ones (the engine running them one after the other is
    the reference); the net change is accepted exactly when full pySHACL accepts the result,
    and what is committed is that result."""
    folder = tmp_path_factory.mktemp("several")
    store = Store(str(folder / "store"))  # on disk: the update runs on a checkpoint of it
    store.extend(writable)
    after = engine_per_operation(store, ops)
    expected = validate_result(after, rich_shapes).conforms
    before = dump_nquads(store)
    target = Writable(store, rich_shapes, StoreVersion(), scratch=folder)
    try:
        checked_update(target, " ;\n".join(ops))
        accepted = True
    except ShapeViolation:
        accepted = False
    event(f"{'accepted' if accepted else 'refused'}")
    assert accepted is expected, ops
    assert dump_nquads(store) == (dump_nquads(after) if accepted else before)


# --- The project's own shapes, on the project's built store ------------------------------------

PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
LANGUAGE = "http://purl.org/dc/terms/language"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ORG = "http://www.w3.org/ns/org#"
#: Names in Spanish derived from passages in Spanish, and from a reference source
#: (ags:NameLanguageShape), a passage in Spanish, one in English, the reference source.
PROJECT_SUBJECTS = [
    NamedNode(ID + n)
    for n in (
        "organization/policia-nacional-de-honduras",
        "organization/dnep",
        "country/honduras",
        "passage/ibcr-honduras-accbp-project-line-22",
        "passage/end-violence-tri-national-agreement-line-13",
        "source/wikidata",
    )
]
PROJECT_OBJECTS = {
    RDF_TYPE: [
        NamedNode(n)
        for n in (AG + "Passage", AG + "ReferenceSource", AG + "Initiative", ORG + "Organization")
    ],
    LANGUAGE: [Literal("es"), Literal("en"), Literal("fr")],
    SKOS + "altLabel": [Literal("X", language=t) for t in ("es", "en", "fr")],
    SKOS + "prefLabel": [Literal("Y", language="es"), Literal("Y")],
    PROV_DERIVED: PROJECT_SUBJECTS[3:],
}
PROJECT_GRAPHS = [CANONICAL_BASE + "graph/ibcr-honduras-accbp-project", GRAPHS[1]]


@pytest.fixture(scope="module")
def project_shapes() -> Shapes:
    """The project's shapes, with no graph protected from removal (the verdicts are the point)."""
    return replace(load_shapes(str(ROOT), CANONICAL_BASE), curated=frozenset())


def project_quads() -> st.SearchStrategy[Quad]:
    def quad(predicate: str) -> st.SearchStrategy[Quad]:
        return st.builds(
            Quad,
            st.sampled_from(PROJECT_SUBJECTS),
            st.just(NamedNode(predicate)),
            st.sampled_from(PROJECT_OBJECTS[predicate]),
            st.sampled_from([NamedNode(g) for g in PROJECT_GRAPHS]),
        )

    return st.sampled_from(sorted(PROJECT_OBJECTS)).flatmap(quad)


def test_the_project_store_holds_the_nodes_the_writes_pick(content_store: Store) -> None:
    """The property test below reads real facts: a Spanish name derived from a Spanish passage."""
    policia, _, _, spanish, _, wikidata = PROJECT_SUBJECTS
    facts = {(q.subject, q.predicate.value, q.object) for q in content_store}
    assert (spanish, LANGUAGE, Literal("es")) in facts
    assert (wikidata, RDF_TYPE, NamedNode(AG + "ReferenceSource")) in facts
    assert (policia, PROV_DERIVED, spanish) in facts
    assert any(
        s == policia and p == SKOS + "prefLabel" and getattr(o, "language", None) == "es"
        for s, p, o in facts
    )


def read_by_others(store: Store) -> list[Quad]:
    """The statements of the passages and the reference source that the shapes read when they
    check the nodes derived from them (their types and language), in their named graphs."""
    return sorted(
        (
            q
            for q in store
            if q.subject in PROJECT_SUBJECTS[3:]
            and q.predicate.value in (RDF_TYPE, LANGUAGE)
            and isinstance(q.graph_name, NamedNode)
        ),
        key=str,
    )


def test_a_passage_losing_its_language_rechecks_the_names_derived_from_it(
    content_store: Store, project_shapes: Shapes
) -> None:
    """The Spanish names of the nodes derived from a Spanish passage need that passage's
    dcterms:language (ags:NameLanguageShape, a sh:not over a value's statements): removing it
    breaks those nodes, found per change, not by validating the whole store."""
    policia, dnep, _, spanish, _, _ = PROJECT_SUBJECTS
    stated = content_store.quads_for_pattern(spanish, NamedNode(LANGUAGE), None, None)
    language = next(q for q in stated if isinstance(q.graph_name, NamedNode))
    change = Change(removed={language})
    report, checked = validate_change(
        content_store, change, project_shapes.shapes, project_shapes.ontology
    )
    assert 0 <= checked < 50
    assert {v.focus for v in report.violations} >= {policia.value, dnep.value}
    after = copy_to_memory(content_store)
    after.remove(language)
    after = with_default_set(content_store, after, [], [language])
    full = validate_result(after, project_shapes)
    assert {v.focus for v in full.violations} == {v.focus for v in report.violations}


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    writes=st.lists(
        st.tuples(
            st.sampled_from(["update", "add"]),
            st.lists(project_quads(), max_size=3),
            st.lists(st.one_of(st.integers(0, 3), st.integers(0, 500)), max_size=2),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_project_verdicts_agree_with_full_validation(
    content_store: Store, project_shapes: Shapes, writes: list[tuple[str, list[Quad], list[int]]]
) -> None:
    """Writes that change a passage's language or a value's type (read through sh:not and
    sh:class), and names on the alternative path, checked per change (never on the whole store)
    with the verdict of full pySHACL on the resulting data."""
    store = copy_to_memory(content_store)
    target = Writable(store, project_shapes, StoreVersion())
    for kind, added, picks in writes:
        present = read_by_others(store) + sorted(
            (q for q in store if q.subject in PROJECT_SUBJECTS), key=str
        )
        removed = [present[i % len(present)] for i in picks] if kind == "update" else []
        change = Change(removed=set(removed), added=set(added))
        _, checked = validate_change(store, change, project_shapes.shapes, project_shapes.ontology)
        assert checked >= 0, "the project's shapes fell back to validating the whole store"
        write_agrees_with_full_validation(target, kind, added, removed)
