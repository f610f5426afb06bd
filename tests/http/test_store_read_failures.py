"""A store the engine cannot read answers 503 on every page, never an unhandled error, and the
engine's text stays in the log (brief h13r, item 2: graph.http.app runs every view inside
graph.store.evaluating with no client's text)."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass

import pytest
from flask import Flask

from graph.http.app import create_app
from graph.store import Store, memory_store


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class _UnreadableStore:
    """A store every query of which fails in the engine while it is evaluated: the answer is
    the engine's own, lazy where the engine's is, raising its own OSError (a call refused by
    a closed port stands for the store's "IO error", which the engine raises the same way)."""

    store: Store
    port: int

    def query(self, text: str, **options: object) -> object:
        where = f"SERVICE <http://127.0.0.1:{self.port}/> {{ ?s ?p ?o }}"
        form = text.lstrip().split(None, 1)[0].upper() if text.strip() else "SELECT"
        if "ASK" in form or ("ASK {" in text.upper() and "SELECT" not in text.upper()):
            return Store().query(f"ASK {{ {where} }}")
        if "CONSTRUCT" in text.upper() or "DESCRIBE" in text.upper():
            return Store().query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {where} }}")
        return Store().query(f"SELECT * {{ {where} }}")

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


@pytest.fixture
def app() -> Flask:
    store = _UnreadableStore(memory_store(), _closed_port())
    return create_app({"TESTING": True, "STORE_HANDLE": store, "WRITE_TOKEN": ""})


RECONCILE = "/reconcile?queries=" + json.dumps({"q0": {"query": "Honduras"}})


@pytest.mark.parametrize(
    "path", ["/ontology", "/search?q=Honduras", RECONCILE, "/dataset", "/explore", "/health"]
)
def test_a_page_over_a_store_the_engine_cannot_read_is_a_503(app: Flask, path: str) -> None:
    response = app.test_client().get(path)
    assert response.status_code == 503, response.data[:300]
    assert b"the store could not be read" in response.data
    assert b"refused" not in response.data.lower()
