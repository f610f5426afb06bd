"""How a granian worker asks to be replaced, with granian's public interface only (issue 13)."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.answering import deadline
from graph.http.app import create_app
from graph.serving import granian_worker

#: A process that counts the SIGHUPs it gets for two seconds, then prints the count.
COUNT_HUPS = (
    "import signal, sys, time\n"
    "seen = []\n"
    "signal.signal(signal.SIGHUP, lambda *_: seen.append(1))\n"
    "print('ready', flush=True)\n"
    "time.sleep(2)\n"
    "print(len(seen))\n"
)


def _app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def _headers(app: Any) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen.extend(headers)

    assert b"".join(app({}, start_response)) == b"ok"
    return seen


@pytest.fixture
def fresh() -> Iterator[None]:
    """No replacement asked for, this worker not retiring (and the same after the test)."""
    granian_worker._reloads.value = 0
    deadline.retiring = False
    yield
    granian_worker._reloads.value = 0
    deadline.retiring = False


def test_a_worker_closes_connections_once_any_worker_asked_for_a_replacement(fresh: None) -> None:
    """SIGHUP replaces every worker: each closes its connections after their next answer."""
    app = granian_worker._close_when_retiring(_app, granian_worker._reloads.value)
    assert ("Connection", "close") not in _headers(app)
    granian_worker._reloads.value += 1  # another worker asked (shared memory)
    assert ("Connection", "close") in _headers(app)
    # A worker started after the request is fresh: it keeps its connections.
    successor = granian_worker._close_when_retiring(_app, granian_worker._reloads.value)
    assert ("Connection", "close") not in _headers(successor)


def test_a_retiring_worker_closes_its_connections(fresh: None) -> None:
    app = granian_worker._close_when_retiring(_app, granian_worker._reloads.value)
    deadline.retiring = True
    assert ("Connection", "close") in _headers(app)


def test_a_worker_asks_granian_once_with_sighup(fresh: None) -> None:
    """However many runaways call the hook, granian's main process gets one SIGHUP from it."""
    parent = subprocess.Popen(
        [sys.executable, "-c", COUNT_HUPS], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    assert parent.stdout.readline().strip() == "ready"
    retire = granian_worker._retire_once(parent.pid)
    for _ in range(3):
        retire()
    out, _ = parent.communicate(timeout=30)
    assert out.strip() == "1"
    assert granian_worker._reloads.value == 1


def test_a_worker_answers_a_lookup_before_it_accepts_connections(
    mini_store: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The warm-up opens the store and goes the whole query path, out of the access log."""
    app = create_app({"STORE": str(mini_store), "WRITE_TOKEN": ""})
    assert "kg.store" not in app.extensions
    caplog.set_level(logging.INFO, logger="kg.access")
    granian_worker._warm_up(app)
    assert "kg.store" in app.extensions
    assert not [r for r in caplog.records if r.name == "kg.access"]
    assert not logging.getLogger("kg.access").disabled


def test_a_worker_of_an_external_store_does_not_warm_up() -> None:
    """An external store may be down at start: no request to it from the warm-up."""
    with socket.socket() as store:
        store.bind(("127.0.0.1", 0))
        store.listen()
        store.settimeout(0.5)
        url = f"http://127.0.0.1:{store.getsockname()[1]}/sparql"
        app = create_app({"STORE": url, "WRITE_TOKEN": ""})
        granian_worker._warm_up(app)
        with pytest.raises(TimeoutError):
            store.accept()
