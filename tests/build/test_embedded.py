"""kg build: parse, validate, load; a failing build leaves the previous store untouched."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graph.build.embedded import ValidationFailed, build
from graph.core.namespaces import CANONICAL_BASE
from graph.store import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    RdfSyntaxError,
    open_store,
    select_rows,
)
from tests.conftest import MINI


def copy_project(tmp_path: Path) -> Path:
    """A writable copy of the fixture project."""
    project = tmp_path / "project"
    shutil.copytree(MINI, project)
    return project


def count(store_path: Path) -> int:
    rows = select_rows(
        open_store(store_path, read_only=True), "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    )
    return int(rows[0]["n"])


def test_build_loads_each_file_into_its_named_graph(mini_store: Path) -> None:
    rows = select_rows(
        open_store(mini_store, read_only=True),
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g",
    )
    assert [r["g"] for r in rows] == [
        CANONICAL_BASE + "graph/alliance-news",
        CANONICAL_BASE + "graph/ontology",
        CANONICAL_BASE + "graph/reference-countries",
    ]


def test_shapes_are_not_loaded_into_the_store(mini_store: Path) -> None:
    rows = select_rows(
        open_store(mini_store, read_only=True),
        "SELECT (COUNT(*) AS ?n) WHERE { ?s a <http://www.w3.org/ns/shacl#NodeShape> }",
    )
    assert rows[0]["n"] == "0"


def test_invalid_data_leaves_previous_store_untouched(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    store = tmp_path / "store"
    build(project, store, CANONICAL_BASE)
    before = count(store)
    countries = project / "data" / "reference" / "countries.ttl"
    countries.write_text(countries.read_text().replace('"HN"', '"HND"'))
    with pytest.raises(ValidationFailed) as failure:
        build(project, store, CANONICAL_BASE)
    assert failure.value.report.violations[0].constraint == "PatternConstraintComponent"
    assert count(store) == before
    assert len(list((tmp_path / "store.gen").iterdir())) == 1


def test_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    broken = project / "data" / "sources" / "alliance-news.ttl"
    broken.write_text(broken.read_text().replace("ag:member country:honduras .", "ag:member ."))
    store = tmp_path / "store"
    with pytest.raises(RdfSyntaxError) as error:
        build(project, store, CANONICAL_BASE)
    assert error.value.file == str(broken)
    assert error.value.line == 8
    assert error.value.column is not None
    assert not store.exists()


def test_rebuild_replaces_the_graph_and_prunes_old_generations(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    store = tmp_path / "store"
    for _ in range(3):
        build(project, store, CANONICAL_BASE)
    generations = list((tmp_path / "store.gen").iterdir())
    assert len(generations) == 2  # the current one and one kept for readers still open on it
    assert store.resolve() in [g.resolve() for g in generations]


def test_base_iri_is_changed_in_one_place(tmp_path: Path) -> None:
    store = tmp_path / "store"
    build(MINI, store, "http://localhost:8000/")
    rows = select_rows(
        open_store(store, read_only=True),
        "SELECT ?s WHERE { ?s a <https://w3id.org/alliance-graph/ontology#Alliance> }",
    )
    # Vocabulary IRIs are rebased too: the ontology lives under the same base.
    assert rows == []
    rows = select_rows(
        open_store(store, read_only=True),
        "SELECT ?s WHERE { ?s a <http://localhost:8000/ontology#Alliance> }",
    )
    assert rows == [{"s": "http://localhost:8000/id/organization/weprotect"}]


SET_SHAPES = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:ThingShape a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:part ; sh:minCount 1 ;
                  sh:node [ sh:property [ sh:path ex:weight ; sh:minCount 1 ] ] ] .
"""


def set_project(tmp_path: Path, weight: str) -> Path:
    """Two documents stating one triple each, a blank node, and a default-graph triple."""
    project = tmp_path / f"set-{weight}"
    (project / "shapes").mkdir(parents=True)
    (project / "shapes" / "s.ttl").write_text(SET_SHAPES)
    (project / "data").mkdir()
    prefix = "@prefix ex: <http://example.org/> .\n"
    (project / "data" / "a.ttl").write_text(
        prefix + f'ex:x a ex:Thing ; ex:label "X" ; ex:part [ {weight} ] .\n'
    )
    (project / "data" / "b.ttl").write_text(prefix + 'ex:x ex:label "X" .\n')
    (project / "data" / "c.nq").write_text(
        '<http://example.org/y> <http://example.org/label> "own" .\n'
    )
    return project


def test_a_build_validates_and_keeps_the_default_graph_as_the_set(tmp_path: Path) -> None:
    """The default graph is every triple once, blank nodes the same nodes as in their named
    graph, made before validation, which reads it (issue 12); the count is the stated quads."""
    store = tmp_path / "store"
    result = build(set_project(tmp_path, "ex:weight 2"), store, CANONICAL_BASE, engine="sparql")
    built = open_store(store, read_only=True)
    named = [q for q in built if not isinstance(q.graph_name, DefaultGraph)]
    default = {(q.subject, q.predicate, q.object) for q in built if q not in named}
    assert default == {(q.subject, q.predicate, q.object) for q in named} | {
        (NamedNode("http://example.org/y"), NamedNode("http://example.org/label"), Literal("own"))
    }
    assert any(isinstance(s, BlankNode) for s, _, _ in default)
    assert result.quads == len(named) + 1  # the default graph's own triple is stated once
    with pytest.raises(ValidationFailed) as failure:
        build(
            set_project(tmp_path, "ex:colour 2"),
            store,
            CANONICAL_BASE,
            engine="sparql",
            drop_unfiled=True,
        )
    assert {v.constraint for v in failure.value.report.violations} == {"NodeConstraintComponent"}
    assert store.resolve() == result.generation.resolve()
