"""Graphs no project file provides: a build refuses to drop them unless told (issue 12, item 1)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from graph.build.embedded import build
from graph.build.unfiled import DEFAULT, UnfiledGraphs, save_graphs, unfiled_graphs
from graph.cli import cli
from graph.core.namespaces import CANONICAL_BASE
from graph.sources.files import provided_graphs
from graph.store import DefaultGraph, Literal, NamedNode, Quad, Store, open_store
from tests.paths import MINI

NOTES = CANONICAL_BASE + "graph/notes"
COMMENT = NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")


def written(store: Path, graph: NamedNode | DefaultGraph) -> None:
    """What an HTTP write leaves: one triple in ``graph`` of the published store."""
    handle = open_store(store)
    assert isinstance(handle, Store)
    handle.add(Quad(NamedNode("urn:note:1"), COMMENT, Literal("kept"), graph))
    handle.flush()
    del handle


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    shutil.copytree(MINI, folder)
    return folder


@pytest.mark.parametrize("engine", ["pyshacl", "sparql"])
def test_build_refuses_to_drop_a_graph_written_over_http(
    project: Path, tmp_path: Path, engine: str
) -> None:
    store = tmp_path / "store"
    build(project, store, CANONICAL_BASE)
    written(store, NamedNode(NOTES))
    before = store.resolve()
    with pytest.raises(UnfiledGraphs, match="kg save-graphs") as refused:
        build(project, store, CANONICAL_BASE, engine=engine)
    assert refused.value.graphs == [NOTES]
    assert store.resolve() == before
    assert len(list(before.parent.iterdir())) == 1  # the refused generation is gone
    build(project, store, CANONICAL_BASE, engine=engine, drop_unfiled=True)
    assert unfiled_graphs(store, provided_graphs(project, CANONICAL_BASE)) == []


def test_the_default_graph_counts(project: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    build(project, store, CANONICAL_BASE)
    written(store, DefaultGraph())
    assert unfiled_graphs(store, provided_graphs(project, CANONICAL_BASE)) == [DEFAULT]
    with pytest.raises(ValueError, match="cannot be saved as a file"):
        save_graphs(store, project, CANONICAL_BASE, provided_graphs(project, CANONICAL_BASE))


def test_saved_graphs_are_loaded_back_by_the_next_build(
    project: Path, tmp_path: Path, runner: CliRunner
) -> None:
    store = tmp_path / "store"
    build(project, store, CANONICAL_BASE)
    written(store, NamedNode(NOTES))
    args = ["--project-dir", str(project), "--store", str(store)]
    saved = runner.invoke(cli, ["save-graphs", *args])
    assert saved.exit_code == 0, saved.output
    assert (project / "data" / "sources" / "notes.ttl").is_file()
    again = runner.invoke(cli, ["save-graphs", *args])  # the graph is filed now
    assert again.exit_code == 0 and "nothing to save" in again.output
    assert runner.invoke(cli, ["build", *args]).exit_code == 0
    rebuilt = open_store(store, read_only=True)
    assert isinstance(rebuilt, Store)
    quads = list(rebuilt.quads_for_pattern(None, COMMENT, None, NamedNode(NOTES)))
    assert [q.object for q in quads] == [Literal("kept")]


def test_save_graphs_never_overwrites_a_file(project: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    build(project, store, CANONICAL_BASE)
    written(store, NamedNode(NOTES))
    existing = project / "data" / "sources" / "notes.ttl"
    existing.write_text("# hand-written\n")
    # The file now provides graph/notes, so the graph is no longer unfiled: nothing to save.
    provided = provided_graphs(project, CANONICAL_BASE)
    assert NOTES in provided
    assert save_graphs(store, project, CANONICAL_BASE, provided) == []
    with pytest.raises(ValueError, match=r"notes\.ttl exists already"):
        save_graphs(store, project, CANONICAL_BASE, provided - {NOTES})
    assert existing.read_text().startswith("# hand-written")


def test_a_graph_outside_the_base_cannot_become_a_file(project: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    build(project, store, CANONICAL_BASE)
    written(store, NamedNode("urn:graph:elsewhere"))
    with pytest.raises(ValueError, match="urn:graph:elsewhere"):
        save_graphs(store, project, CANONICAL_BASE, provided_graphs(project, CANONICAL_BASE))
    assert not list((project / "data" / "sources").glob("*elsewhere*"))


@pytest.mark.parametrize("engine", ["pyshacl", "sparql"])
def test_a_default_graph_a_file_provides_is_rebuilt(tmp_path: Path, engine: str) -> None:
    """An N-Quads line without a graph is the file's: building the project again is no
    loss to refuse (it refused with "the default graph" before)."""
    project = tmp_path / "own"
    (project / "data").mkdir(parents=True)
    (project / "data" / "own.nq").write_text(
        '<urn:note:2> <http://www.w3.org/2000/01/rdf-schema#comment> "own" .\n'
    )
    store = tmp_path / "store"
    build(project, store, CANONICAL_BASE, engine=engine)
    rebuilt = build(project, store, CANONICAL_BASE, engine=engine)
    assert rebuilt.quads == 1
