"""Shared fixtures: a small fixture project, its built store, the app, a client and a runner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from graph.app import create_app
from graph.build import build
from graph.namespaces import CANONICAL_BASE
from graph.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
MINI = Path(__file__).parent / "fixtures" / "mini"


def require_all() -> bool:
    """In CI (KG_REQUIRE_ALL=1) a test that would skip for a missing tool fails instead."""
    return os.environ.get("KG_REQUIRE_ALL") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip on a laptop without the tool; fail in CI where it must be installed."""
    if require_all():
        pytest.fail(f"required in CI but missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def project_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real project's graph, built once per test session."""
    path = tmp_path_factory.mktemp("project") / "store"
    build(ROOT, path, CANONICAL_BASE)
    return path


@pytest.fixture
def mini_store(tmp_path: Path) -> Path:
    """The small fixture project's graph, built fresh for a test."""
    path = tmp_path / "store"
    build(MINI, path, CANONICAL_BASE)
    return path


@pytest.fixture
def app(project_store: Path) -> Iterator[Flask]:
    """The application over the project's graph, read-only."""
    yield create_app({"TESTING": True, "STORE": str(project_store), "WRITE_TOKEN": ""})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for ``app``."""
    return app.test_client()


@pytest.fixture
def runner() -> CliRunner:
    """A runner for the ``kg`` command line."""
    return CliRunner()


# --- The project's content files, for the shape and competency tests -------------------------

GRAPH_BASE = CANONICAL_BASE + "graph/"
ONTOLOGY = ROOT / "ontology" / "alliance.ttl"
SHAPES = ROOT / "shapes" / "alliance-shapes.ttl"
SOURCE_FILES = sorted((ROOT / "data" / "sources").glob("*.ttl"))
REFERENCE_FILES = sorted((ROOT / "data" / "reference").glob("*.ttl"))


@pytest.fixture(scope="session")
def content_store(project_store: Path) -> Store:
    """The built store, as `kg build` leaves it (competency questions run against it)."""
    return open_store(project_store, read_only=True)


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
