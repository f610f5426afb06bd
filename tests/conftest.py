"""Shared fixtures: the content files loaded the way the build loads them.

Each Turtle file goes into its own named graph:
  ontology/alliance.ttl        -> graph/ontology
  data/sources/{stem}.ttl      -> graph/{stem}
  data/reference/{stem}.ttl    -> graph/reference-{stem}
Replace ``content_store`` with the real build once it exists.
"""

from pathlib import Path

import pyoxigraph
import pytest
import rdflib

ROOT = Path(__file__).resolve().parent.parent
GRAPH_BASE = "https://w3id.org/alliance-graph/graph/"
ONTOLOGY = ROOT / "ontology" / "alliance.ttl"
SHAPES = ROOT / "shapes" / "alliance-shapes.ttl"
SOURCE_FILES = sorted((ROOT / "data" / "sources").glob("*.ttl"))
REFERENCE_FILES = sorted((ROOT / "data" / "reference").glob("*.ttl"))


def graph_name(path: Path) -> str:
    if path == ONTOLOGY:
        return GRAPH_BASE + "ontology"
    if path.parent.name == "reference":
        return GRAPH_BASE + "reference-" + path.stem
    return GRAPH_BASE + path.stem


def content_files() -> list[Path]:
    return [ONTOLOGY, *REFERENCE_FILES, *SOURCE_FILES]


@pytest.fixture(scope="session")
def content_store() -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    for path in content_files():
        store.load(
            path=str(path),
            format=pyoxigraph.RdfFormat.TURTLE,
            to_graph=pyoxigraph.NamedNode(graph_name(path)),
        )
    return store


@pytest.fixture(scope="session")
def ontology_graph() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGY)


@pytest.fixture(scope="session")
def shapes_graph() -> rdflib.Graph:
    return rdflib.Graph().parse(SHAPES)


@pytest.fixture(scope="session")
def data_graph() -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in [*REFERENCE_FILES, *SOURCE_FILES]:
        graph.parse(path)
    return graph
