"""No request lost while granian replaces its workers (issue 11: every request answered).

A real read-only ``kg serve`` (granian, 2 workers) gets SIGHUP, granian's graceful reload (the
same one a worker asks for when runaways crowd it), again and again, while clients send point
lookups: some on a new connection per request, some on one kept-alive connection, some on a
connection opened ahead (a browser's preconnect). Every request must be answered 200: no
reset, no connection closed without an answer.

It needs ``net.ipv4.tcp_migrate_req`` = 1 (graph.serving.listener): the test sets it for its
duration when it runs as root, and skips otherwise (a failure under KG_REQUIRE_ALL=1; CI sets
it in .ci/run). With the setting at 0, connections queued on a replaced worker's socket are
reset and the test fails (docs/reliability.md, section 9).
"""

from __future__ import annotations

import http.client
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import skip_or_fail
from tests.processes import child_pids
from tests.reliability.conftest import Figures, built_project
from tests.reliability.serving import KgServer, query_outcome, running_server

from graph.serving.listener import MIGRATE_SYSCTL

pytestmark = pytest.mark.slow

ENTITIES = 500
LOOKUP = (
    "SELECT ?label WHERE { <https://w3id.org/alliance-graph/id/organization/bulk-%d>"
    " <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
)
#: Clients opening a new connection for every request, and clients keeping theirs alive.
FRESH_CLIENTS, KEPT_CLIENTS = 4, 2
#: Clients that open a connection ahead and send on it ``PRECONNECT_WAIT`` seconds later, as a
#: browser's preconnect does: the connection waits on one worker's socket meanwhile.
PRECONNECT_CLIENTS, PRECONNECT_WAIT = 2, 0.3
#: Graceful reloads asked for; each replaces both workers, one after the other.
RELOADS = 12
WORKERS = 2


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return built_project(tmp_path_factory.mktemp("reloads"), ENTITIES)


@pytest.fixture
def migrating() -> Iterator[None]:
    """``net.ipv4.tcp_migrate_req`` = 1 for the test (restored after), as a deployment sets it."""
    try:
        before = MIGRATE_SYSCTL.read_text().strip()
    except OSError:
        skip_or_fail("this kernel has no net.ipv4.tcp_migrate_req (Linux >= 5.14)")
    if before != "0":
        yield
        return
    try:
        MIGRATE_SYSCTL.write_text("1")
    except OSError:
        skip_or_fail("net.ipv4.tcp_migrate_req is 0 and only root can set it to 1")
    try:
        yield
    finally:
        MIGRATE_SYSCTL.write_text(before)


class Clients:
    """Threads sending point lookups until stopped; what each kind of request got."""

    def __init__(self, port: int) -> None:
        self.port, self.stop = port, threading.Event()
        self.seen: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._fresh) for _ in range(FRESH_CLIENTS)]
        self.threads += [threading.Thread(target=self._kept) for _ in range(KEPT_CLIENTS)]
        self.threads += [
            threading.Thread(target=self._preconnected) for _ in range(PRECONNECT_CLIENTS)
        ]

    def __enter__(self) -> Clients:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _count(self, kind: str, outcome: str) -> None:
        with self.lock:
            self.seen[kind, outcome] += 1

    def _get(self, connection: http.client.HTTPConnection, n: int) -> str:
        """One lookup on ``connection``: the status, or the name of the error."""
        return query_outcome(connection, LOOKUP % (n % ENTITIES))

    def _fresh(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self._count("fresh connection", self._get(connection, n))
            connection.close()

    def _preconnected(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                connection.connect()
            except OSError as error:
                self._count("preconnected", type(error).__name__)
                continue
            time.sleep(PRECONNECT_WAIT)
            self._count("preconnected", self._get(connection, n))
            connection.close()

    def _kept(self) -> None:
        connection, n = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30), 0
        while not self.stop.is_set():
            n += 1
            reused = connection.sock is not None
            kind = "kept-alive connection" if reused else "fresh connection"
            self._count(kind, self._get(connection, n))
            time.sleep(0.01)
        connection.close()


def workers_of(server: KgServer) -> set[int]:
    """The pids of the server's worker processes (children of granian's main process)."""
    return child_pids(server.process.pid)


def reload_and_wait(server: KgServer) -> None:
    """SIGHUP granian's main process; return once every worker has been replaced."""
    before = workers_of(server)
    os.kill(server.process.pid, signal.SIGHUP)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = workers_of(server)
        if len(now) == WORKERS and not now & before:
            return
        time.sleep(0.05)
    pytest.fail(f"the workers were not replaced within 60 s: {before} -> {workers_of(server)}")


def test_every_request_is_answered_while_granian_replaces_its_workers(
    store: tuple[Path, Path], tmp_path: Path, figures: Figures, migrating: None
) -> None:
    log = tmp_path / "serve.log"
    with running_server(*store, log, token="", workers=str(WORKERS)) as server:
        with Clients(server.port) as clients:
            time.sleep(1)
            for _ in range(RELOADS):
                reload_and_wait(server)
                time.sleep(0.5)
        seen = clients.seen
    unanswered = {key: n for key, n in seen.items() if not key[1].isdigit()}
    figures.update(
        {
            "reloads_asked": RELOADS,
            "reloads_requests": sum(seen.values()),
            "reloads_fresh_connection_requests": sum(
                n for (kind, _), n in seen.items() if kind == "fresh connection"
            ),
            "reloads_unanswered": sum(unanswered.values()),
        }
    )
    # Enough traffic for the test to mean something: requests on both kinds of connection.
    assert seen["fresh connection", "200"] > 100 * RELOADS, seen
    assert seen["kept-alive connection", "200"] > 10 * RELOADS, seen
    assert seen["preconnected", "200"] > RELOADS, seen
    assert not unanswered, f"requests without an answer: {unanswered} (all: {dict(seen)})"
    assert {outcome for _, outcome in seen} == {"200"}, seen
