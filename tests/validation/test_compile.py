"""The SPARQL engine finds the same (focus node, path, constraint component) set as pyshacl."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Graph

from graph.build.embedded import (
    ValidationFailed,
    build,
    build_in_store,
    choose_engine,
    validate_project,
)
from graph.core.namespaces import CANONICAL_BASE
from graph.sources.files import SourceFile, discover, parse_sources
from graph.store import DefaultGraph, Store
from graph.validation import in_store
from graph.validation.added import validate_added
from graph.validation.compile import UnsupportedShape, compile_shapes
from graph.validation.in_store import shapes_graph
from tests.paths import FIXTURES, ROOT
from tests.validation.violation_keys import both_engines, keys, load_generator, pyshacl_keys

#: How a batch meets its focus nodes: looked up one by one (few nodes), joined by hashing
#: (many) or streamed with every count an EXISTS lookup (very many), as (MANY, STREAM)_TARGETS.
STRATEGIES = {"lookup": (10**9, 10**9), "hashed": (1, 10**9), "streamed": (1, 1)}


def use_strategy(monkeypatch: pytest.MonkeyPatch, strategy: str) -> None:
    """Plan every batch with ``strategy`` (see :data:`STRATEGIES`), whatever its size."""
    many, stream = STRATEGIES[strategy]
    monkeypatch.setattr(in_store, "MANY_TARGETS", many)
    monkeypatch.setattr(in_store, "STREAM_TARGETS", stream)


@pytest.mark.parametrize("on_set", [False, True], ids=["union", "set"])
@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_every_supported_component_matches_pyshacl(
    strategy: str, on_set: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each way of meeting the focus nodes finds the same as pyshacl, reading Oxigraph's union
    (``kg validate``) or the default graph's set (``kg build``, issue 12)."""
    use_strategy(monkeypatch, strategy)
    by_pyshacl, by_sparql = both_engines(FIXTURES / "components", on_set=on_set)
    assert by_sparql == by_pyshacl
    components = {k[2] for k in by_sparql}
    for name in (
        "Class",
        "Datatype",
        "NodeKind",
        "MinExclusive",
        "MaxInclusive",
        "MaxExclusive",
        "MinLength",
        "MaxLength",
        "Pattern",
        "LanguageIn",
        "UniqueLang",
        "In",
        "HasValue",
        "MinCount",
        "MaxCount",
        "Node",
        "Not",
        "And",
        "Or",
        "Xone",
    ):
        assert f"{name}ConstraintComponent" in components


def generated_project(
    tmp_path: Path, seed: int, shapes: Path, ontology: Path, triples: int = 3000
) -> tuple[Path, dict[str, str]]:
    """A project of generated data (5% of fact nodes invalid) and its planted invalid nodes."""
    project = tmp_path / f"project-{seed}"
    shutil.copytree(shapes, project / "shapes")
    shutil.copytree(ontology, project / "ontology")
    out = project / "data" / "synthetic.ttl"
    out.parent.mkdir(parents=True)
    generator = load_generator()
    with out.open("w", encoding="utf-8") as handle:
        writer = generator.generate(handle, triples, seed, 0.05, quads=False)
    return project, dict(writer.invalid_nodes)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_generated_graphs_give_the_same_violations_as_pyshacl(tmp_path: Path, seed: int) -> None:
    project, _ = generated_project(
        tmp_path, seed, FIXTURES / "scale" / "shapes", FIXTURES / "scale" / "ontology"
    )
    by_pyshacl, by_sparql = both_engines(project)
    assert by_sparql == by_pyshacl
    assert by_sparql, "the generator plants invalid nodes, so there must be violations"


@pytest.mark.parametrize(
    ("seed", "strategy", "on_set"),
    [
        (1, "hashed", False),
        (2, "lookup", False),
        (3, "hashed", False),
        (4, "streamed", False),
        (5, "hashed", True),
        (6, "streamed", True),
    ],
)
def test_generated_data_breaks_the_project_shapes_exactly_where_planted(
    tmp_path: Path, seed: int, strategy: str, on_set: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also with every batch hashed or streamed, as large graphs are, and on the default
    graph's set as a build validates it."""
    use_strategy(monkeypatch, strategy)
    project, planted = generated_project(
        tmp_path, seed, ROOT / "shapes", ROOT / "ontology", triples=4000
    )
    by_pyshacl, by_sparql = both_engines(project, on_set=on_set)
    assert by_sparql == by_pyshacl
    assert planted, "5% of fact nodes are invalid, so some must be planted"
    assert {focus for focus, _, _ in by_pyshacl} == set(planted)


def test_generated_data_without_defects_conforms_to_the_project_shapes(tmp_path: Path) -> None:
    project = tmp_path / "valid"
    shutil.copytree(ROOT / "shapes", project / "shapes")
    shutil.copytree(ROOT / "ontology", project / "ontology")
    out = project / "data" / "synthetic.nq"
    out.parent.mkdir(parents=True)
    with out.open("w", encoding="utf-8") as handle:
        load_generator().generate(handle, 4000, 9, 0.0, quads=True)
    by_pyshacl, by_sparql = both_engines(project)
    assert by_pyshacl == set() and by_sparql == set()


PROJECT_SHAPES = sorted((ROOT / "shapes").glob("*.ttl"))


@pytest.mark.parametrize("on_set", [False, True], ids=["union", "set"])
def test_project_data_gives_the_same_violations_as_pyshacl(on_set: bool) -> None:
    assert PROJECT_SHAPES, "the project has no shapes/"
    try:
        by_pyshacl, by_sparql = both_engines(ROOT, on_set=on_set)
    except UnsupportedShape as error:
        pytest.fail(f"the project's shapes need a construct the SPARQL engine lacks: {error}")
    assert by_sparql == by_pyshacl


@pytest.mark.parametrize(
    "constraint",
    [
        "sh:closed true",
        "sh:equals ex:other",
        'sh:sparql [ sh:select "SELECT $this WHERE { }" ]',
        "sh:property [ sh:path ex:n ; sh:datatype xsd:positiveInteger ]",
        "sh:property [ sh:path ex:n ; sh:qualifiedValueShape [ sh:class ex:C ] ; "
        "sh:qualifiedMinCount 1 ]",
    ],
)
def test_unsupported_constraints_are_refused(constraint: str) -> None:
    shapes = Graph().parse(
        data="@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> ."
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> ."
        f"ex:S a sh:NodeShape ; sh:targetClass ex:C ; {constraint} .",
        format="turtle",
    )
    with pytest.raises(UnsupportedShape):
        compile_shapes(shapes)


def unsupported_project(tmp_path: Path) -> Path:
    project = tmp_path / "unsupported"
    shutil.copytree(FIXTURES / "mini", project)
    with (project / "shapes" / "mini-shapes.ttl").open("a", encoding="utf-8") as shapes:
        shapes.write(
            "\nag:ClosedShape a sh:NodeShape ; sh:targetClass ag:Country ; sh:closed false .\n"
        )
    return project


def test_engine_sparql_refuses_and_auto_falls_back(tmp_path: Path) -> None:
    project = unsupported_project(tmp_path)
    files = discover(project)
    with pytest.raises(UnsupportedShape, match="closed"):
        choose_engine("sparql", files)
    assert choose_engine("auto", files) == "pyshacl"
    with pytest.raises(UnsupportedShape):
        build(project, tmp_path / "store", CANONICAL_BASE, engine="sparql")
    assert not (tmp_path / "store").exists()


def test_build_in_store_publishes_only_a_conforming_graph(tmp_path: Path) -> None:
    store = tmp_path / "store"
    result = build(FIXTURES / "mini", store, CANONICAL_BASE, engine="sparql")
    built = Store.read_only(str(store.resolve()))
    # The quads of the named graphs; the default graph holds the set of their triples besides.
    named = [q for q in built if not isinstance(q.graph_name, DefaultGraph)]
    assert result.quads == len(named) < len(built)
    invalid, _ = generated_project(tmp_path, 5, ROOT / "shapes", ROOT / "ontology")
    with pytest.raises(ValidationFailed) as failure:
        build_in_store(discover(invalid), store, CANONICAL_BASE, drop_unfiled=True)
    located = failure.value.report.violations[0]
    assert located.file.endswith("synthetic.ttl") and located.line
    assert store.resolve() == result.generation.resolve()


def test_added_document_is_checked_against_the_built_store(tmp_path: Path) -> None:
    project = tmp_path / "clean"
    shutil.copytree(FIXTURES / "scale" / "shapes", project / "shapes")
    shutil.copytree(FIXTURES / "scale" / "ontology", project / "ontology")
    (project / "data").mkdir()
    generator = load_generator()
    with (project / "data" / "base.ttl").open("w", encoding="utf-8") as handle:
        generator.generate(handle, 3000, 11, 0.0, quads=False)
    store = tmp_path / "store"
    build_in_store(discover(project), store, CANONICAL_BASE)
    added = tmp_path / "added.ttl"
    with added.open("w", encoding="utf-8") as handle:  # same IRIs: links into the base graph
        generator.generate(handle, 60, 12, 0.5, quads=False)
    source = SourceFile(added, "data", "added")
    shapes = shapes_graph(f for f in discover(project) if f.role == "shapes")
    incremental = validate_added(
        Store.read_only(str(store.resolve())), [source], shapes, CANONICAL_BASE
    )
    (project / "data" / "added.ttl").write_bytes(added.read_bytes())
    whole = validate_project(parse_sources(discover(project), CANONICAL_BASE))
    assert keys(incremental) == pyshacl_keys(whole)
    assert incremental.violations
