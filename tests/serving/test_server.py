"""graph.serving.server: what ``kg serve`` sets up before either HTTP server starts."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

from graph.answering import deadline
from graph.serving import granian_worker, server


@pytest.fixture
def switch_interval() -> Iterator[None]:
    """Give the test process its switch interval back (serve() sets the process's own)."""
    before = sys.getswitchinterval()
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("switch_interval")
@pytest.mark.parametrize("token", ["", "s3cret"], ids=["read-only granian", "writable gunicorn"])
def test_both_servers_start_with_the_short_switch_interval(
    token: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A request thread waits up to the switch interval each time it takes the GIL back from a
    # thread running Python (a write's validation): the workers inherit it from here.
    sys.setswitchinterval(0.005)
    seen: dict[str, float] = {}

    class FakeServer:
        def __init__(self, config: dict[str, Any], options: dict[str, Any]) -> None:
            pass

        def run(self) -> None:
            seen["gunicorn"] = sys.getswitchinterval()

    def fake_granian(config: dict[str, Any], workers: int, threads: int) -> None:
        seen["granian"] = sys.getswitchinterval()

    monkeypatch.setattr(server, "Server", FakeServer)
    monkeypatch.setattr(granian_worker, "serve", fake_granian)
    config = {
        "STORE": str(tmp_path), "PROJECT_DIR": str(tmp_path), "BASE_IRI": "https://example.org/",
        "WRITE_TOKEN": token, "HOST": "127.0.0.1", "PORT": 0, "HTTP_SERVER": "auto",
        "WORKERS": 1, "THREADS": 2, "SLOW_QUERY_THREADS": 0, "QUERY_TIMEOUT": 5,
    }  # fmt: skip
    server.serve(config, access_log=False)
    assert seen == {"gunicorn" if token else "granian": server.SWITCH_INTERVAL}
    assert server.SWITCH_INTERVAL < 0.005


def test_a_gunicorn_worker_freezes_what_it_holds_once_loaded(
    write_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full garbage collection walks the loaded application and libraries holding the GIL
    # while requests wait: the worker freezes them after the fork, as granian's do.
    app = write_app()
    monkeypatch.setattr(deadline, "runaway_hook", deadline.runaway_hook)
    monkeypatch.setattr(deadline, "forced_retire_hook", deadline.forced_retire_hook)
    monkeypatch.setattr(server, "worker_filter", lambda config: None)
    worker = SimpleNamespace(app=SimpleNamespace(app_config=app.config, wsgi=lambda: app))
    gc.unfreeze()
    try:
        server._post_fork(None, worker)
        assert gc.get_freeze_count() > 0
        assert deadline.forced_retire_hook is not None
    finally:
        gc.unfreeze()
