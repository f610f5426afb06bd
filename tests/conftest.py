"""Shared fixtures: a small fixture project, its built store, the app, a client and a runner."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import rdflib
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings
from xdist.scheduler import LoadScopeScheduling

from graph.build.embedded import build
from graph.core.namespaces import CANONICAL_BASE
from graph.http.app import create_app
from graph.store import Store, open_store
from tests.paths import MINI, ROOT, WEB
from tests.remote_servers import oxigraph_binary, oxigraph_server, virtuoso_server

HONDURAS = CANONICAL_BASE + "id/country/honduras"

# No time limit per Hypothesis example (its default is 200 ms): on a loaded machine, or with
# pytest-xdist running two tests per core, a slow example is no failure. What an example
# asserts and how many run are untouched.
settings.register_profile("no-deadline", deadline=None)
settings.load_profile("no-deadline")


class ReliabilityOnOneWorker(LoadScopeScheduling):
    """pytest-xdist's ``load`` (``-n N``), except that tests/reliability is one unit of work.

    Those tests record figures (sums and maxima) merged into one file at the end of a session
    (tests/reliability/conftest.py): split over two workers, each would write its part over the
    other's. xdist's ``--dist loadgroup`` would keep marked tests together, but on pytest 9.2 it
    silently stops grouping (pytest-dev/pytest-xdist#1386).
    """

    def _split_scope(self, nodeid: str) -> str:
        return "tests/reliability" if nodeid.startswith("tests/reliability/") else nodeid


@pytest.hookimpl(optionalhook=True)  # a hook of xdist's, unknown under `-p no:xdist`
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``-n`` and the default distribution, keep the reliability tests on one worker."""
    if config.getvalue("dist") != "load":
        return None
    return ReliabilityOnOneWorker(config, log)


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


WRITE_TOKEN = "t0ken"


@pytest.fixture
def writable(tmp_path: Path) -> Store:
    """The small fixture project's graph, built into ``tmp_path`` and opened read-write."""
    path = tmp_path / "store"
    build(MINI, path, CANONICAL_BASE)
    return open_store(path)


@pytest.fixture
def write_app(writable: Store) -> Callable[..., Flask]:
    """Make an app over ``writable``; writes are on with token ``t0ken`` unless told otherwise."""

    def make(token: str = WRITE_TOKEN, **config: Any) -> Flask:
        settings: dict[str, Any] = {
            "TESTING": True,
            "STORE_HANDLE": writable,
            "WRITE_TOKEN": token,
            "PROJECT_DIR": str(MINI),
            "BASE_IRI": CANONICAL_BASE,
        }
        settings.update(config)
        return create_app(settings)

    return make


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


@pytest.fixture(scope="session")
def web_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The web fixture project's graph, built once."""
    path = tmp_path_factory.mktemp("web") / "store"
    build(WEB, path, CANONICAL_BASE)
    return path


@pytest.fixture
def web_app(web_store: Path) -> Flask:
    """The application over the web fixture graph, read-only, with its example queries."""
    return create_app(
        {
            "TESTING": True,
            "STORE": str(web_store),
            "WRITE_TOKEN": "",
            "PROJECT_DIR": str(WEB),
        }
    )


@pytest.fixture
def web_client(web_app: Flask) -> FlaskClient:
    """A test client for ``web_app``."""
    return web_app.test_client()


# --- External SPARQL stores, started once per session on 127.0.0.1 ------------------------


@pytest.fixture(scope="session")
def oxigraph_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A native ``oxigraph serve`` (PyPI package oxigraph)."""
    binary = oxigraph_binary()
    if binary is None:
        skip_or_fail("the oxigraph server (pip install oxigraph)")
        return
    with oxigraph_server(binary, tmp_path_factory.mktemp("oxigraph")) as url:
        yield url


@pytest.fixture(scope="session")
def virtuoso_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Virtuoso Open Source (Debian package virtuoso-opensource)."""
    binary = shutil.which("virtuoso-t")
    if binary is None:
        skip_or_fail("virtuoso-t (apt-get install virtuoso-opensource)")
        return
    with virtuoso_server(binary, tmp_path_factory.mktemp("virtuoso")) as url:
        yield url
