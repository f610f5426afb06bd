"""Fixtures for the web pages: a fixture project with provenance, awkward labels and IRIs."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from graph.app import create_app
from graph.build import build
from graph.namespaces import CANONICAL_BASE

WEB = Path(__file__).resolve().parents[1] / "fixtures" / "web"
HONDURAS = CANONICAL_BASE + "id/country/honduras"


@pytest.fixture(scope="session")
def web_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The web fixture project's graph, built once."""
    path = tmp_path_factory.mktemp("web") / "store"
    build(WEB, path, CANONICAL_BASE)
    return path


@pytest.fixture
def web_app(web_store: Path) -> Flask:
    """The application over the web fixture graph, read-only, with its example queries."""
    return create_app({
        "TESTING": True, "STORE": str(web_store), "WRITE_TOKEN": "", "PROJECT_DIR": str(WEB),
    })


@pytest.fixture
def web_client(web_app: Flask) -> FlaskClient:
    """A test client for ``web_app``."""
    return web_app.test_client()
