"""`kg validate FILE --against STORE` agrees with full validation (issue 12, item 5).

Full validation is pySHACL on every file of the project, with the added file in place of the
one it replaces; the incremental check must find the same (focus, path, component) set.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from graph.build.embedded import validate_project
from graph.cli import cli
from graph.core.namespaces import CANONICAL_BASE
from graph.sources.files import SourceFile, data_graph_name, discover, parse_sources
from graph.store import Store, bulk_load_file, open_store
from graph.validation.added import validate_added
from graph.validation.in_store import shapes_graph
from tests.paths import FIXTURES, ROOT
from tests.validation.violation_keys import Key, keys, pyshacl_keys

SHIPPED = sorted((ROOT / "data").rglob("*.ttl"))
CORPUS = [
    (project, path)
    for project in ("mini", "web", "components")
    for path in sorted((FIXTURES / project / "data").rglob("*.ttl"))
]

PREFIXES = """\
@prefix ag: <https://w3id.org/alliance-graph/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix id: <https://w3id.org/alliance-graph/id/> .
"""
LINE_3 = "id:passage\\/gov-uk-2017-honduras-weprotect-line-3"
#: New documents, valid and not, each naming nodes the built store describes in other graphs.
ADDITIONS = {
    "valid commitment linking to an existing passage": f"""
        id:commitment\\/honduras-again a ag:Commitment ;
            rdfs:label "Honduras commits again"@en ;
            ag:committedParty id:country\\/honduras ;
            ag:committedTo id:organization\\/weprotect-global-alliance ;
            prov:wasDerivedFrom {LINE_3} .""",
    "commitment without a source": """
        id:commitment\\/unsourced a ag:Commitment ;
            rdfs:label "Unsourced"@en ; ag:committedParty id:country\\/honduras .""",
    "commitment derived from a country, committed to a passage": f"""
        id:commitment\\/wrong a ag:Commitment ;
            rdfs:label "Wrong classes"@en ;
            ag:committedTo {LINE_3} ;
            prov:wasDerivedFrom id:country\\/honduras .""",
    "second ISO code for an existing country": """
        id:country\\/honduras ag:iso3166Alpha2 "ZZ" .""",
}


def added_source(path: Path) -> SourceFile:
    return SourceFile(path, "data", data_graph_name(path))


def incremental(published: Store, project: Path, added: Path) -> set[Key]:
    shapes = shapes_graph(f for f in discover(project) if f.role == "shapes")
    report = validate_added(published, [added_source(added)], shapes, CANONICAL_BASE)
    return keys(report)


def full(project: Path, added: Path) -> set[Key]:
    """pySHACL on the whole project, ``added`` replacing the file of the same graph."""
    source = added_source(added)
    files = [f for f in discover(project) if f.graph_name != source.graph_name]
    return pyshacl_keys(validate_project(parse_sources([*files, source], CANONICAL_BASE)))


def loaded(project: Path) -> Store:
    """The project's files in a store, as a build loads them (but with no validation)."""
    store = Store()
    for source in discover(project):
        if source.role != "shapes":
            bulk_load_file(store, source.path, source.graph(CANONICAL_BASE), CANONICAL_BASE)
    return store


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_file_conforms_against_the_built_store(
    path: Path, project_store: Path
) -> None:
    published = open_store(project_store, read_only=True)
    assert isinstance(published, Store)
    assert incremental(published, ROOT, path) == set()


@pytest.mark.parametrize("project,path", CORPUS, ids=lambda v: getattr(v, "name", v))
def test_the_test_corpus_agrees_with_full_validation(project: str, path: Path) -> None:
    folder = FIXTURES / project
    assert incremental(loaded(folder), folder, path) == full(folder, path)


@pytest.mark.parametrize("name", sorted(ADDITIONS))
def test_additions_get_the_verdict_of_full_validation(
    name: str, project_store: Path, tmp_path: Path
) -> None:
    added = tmp_path / "added-document.ttl"
    added.write_text(PREFIXES + ADDITIONS[name], encoding="utf-8")
    published = open_store(project_store, read_only=True)
    assert isinstance(published, Store)
    expected = full(ROOT, added)
    assert incremental(published, ROOT, added) == expected
    assert bool(expected) == (not name.startswith("valid"))


def test_a_replaced_graph_loses_what_it_described(project_store: Path, tmp_path: Path) -> None:
    """A new countries file without Honduras's block: what other graphs say of it breaks."""
    original = (ROOT / "data" / "reference" / "countries.ttl").read_text(encoding="utf-8")
    kept = [block for block in original.split("\n\n") if "country:honduras " not in block]
    added = tmp_path / "reference" / "countries.ttl"
    added.parent.mkdir()
    added.write_text("\n\n".join(kept), encoding="utf-8")
    published = open_store(project_store, read_only=True)
    assert isinstance(published, Store)
    expected = full(ROOT, added)
    assert CANONICAL_BASE + "id/country/honduras" in {focus for focus, _, _ in expected}
    assert incremental(published, ROOT, added) == expected


def test_cli_validate_against_a_built_store(
    runner: CliRunner, project_store: Path, tmp_path: Path
) -> None:
    added = tmp_path / "added-document.ttl"
    added.write_text(PREFIXES + ADDITIONS["valid commitment linking to an existing passage"])
    result = runner.invoke(
        cli, ["validate", str(added), "--against", str(project_store), "--project-dir", str(ROOT)]
    )
    assert result.exit_code == 0, result.output
    assert "Conforms" in result.output
