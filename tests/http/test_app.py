"""graph.http.app: the per-process store handle."""

from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask

from graph.build.embedded import build
from graph.core.namespaces import CANONICAL_BASE
from graph.http.app import create_app
from graph.http.context import get_store
from graph.store import Store
from tests.conftest import MINI

THREADS = 8


def test_threads_arriving_together_share_one_read_write_handle(tmp_path: Path) -> None:
    """Regression: the first requests of a fresh writable worker all opened the store; RocksDB
    refuses a second read-write open in one process ("lock hold by current process"), so all
    but one were answered 503 (found by tests/reliability/test_load.py after a runaway query
    had the worker replaced)."""
    build(MINI, tmp_path / "store", CANONICAL_BASE)
    app: Flask = create_app({"STORE": str(tmp_path / "store"), "WRITE_TOKEN": "t0ken"})
    start = threading.Barrier(THREADS)
    handles: list[Store] = []
    errors: list[Exception] = []

    def first_request() -> None:
        with app.app_context():
            start.wait()
            try:
                handles.append(get_store())
            except Exception as error:
                errors.append(error)

    threads = [threading.Thread(target=first_request) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(handles) == THREADS and len({id(h) for h in handles}) == 1
