"""A memory bomb sent to a real ``kg serve`` (issue 11, item 4).

``BIND(CONCAT(?x, ?x) AS ?y)`` chained doubles a string at each step: unchecked, 24 steps of a
64-character string ask for gigabytes. With ``query_memory_mb`` the query gets a 413 naming the
setting, the worker's peak resident memory (VmHWM, exact, from /proc) stays within the budget
and a margin over where it started, and the server keeps answering point lookups.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from tests.reliability.conftest import Figures, add, make_project
from tests.reliability.serving import AUTH, KgServer, _live_members, running_server

from graph.build.embedded import build
from graph.core.namespaces import CANONICAL_BASE

BUDGET_MB = 128
#: Allowance over the budget: growth between two samples of the watcher (5 ms) and the
#: answer's own allocations.
MARGIN_MB = 96
STEPS = 24
BOMB = (
    'SELECT (STRLEN(?x24) AS ?n) WHERE { BIND("'
    + "x" * 64
    + '" AS ?x0) '
    + " ".join(f"BIND(CONCAT(?x{i}, ?x{i}) AS ?x{i + 1})" for i in range(STEPS))
    + " }"
)
#: One bomb per server mode.
BOMBS_SENT = 2
POINT_LOOKUP = "SELECT ?p ?o WHERE { ?s ?p ?o } LIMIT 3"


def memory_of(pid: int, field: str) -> int:
    """A ``Vm*`` line of /proc/PID/status, in bytes (0 once the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@pytest.fixture(scope="module", params=["read-only", "writable"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KgServer]:
    root = tmp_path_factory.mktemp("memory")
    project = make_project(root / "project")
    build(project, root / "store", CANONICAL_BASE)
    token = "" if request.param == "read-only" else AUTH["Authorization"].split()[1]
    settings = {"query_memory_mb": str(BUDGET_MB), "query_timeout": "30", "workers": "1"}
    with running_server(
        root / "store", project, root / "serve.log", token=token, **settings
    ) as running:
        yield running


@pytest.mark.slow
def test_a_memory_bomb_is_stopped_at_the_budget(server: KgServer, figures: Figures) -> None:
    assert len(BOMB.encode()) < 1200
    workers = set(_live_members(server.process.pid)) - {server.process.pid}
    start = {pid: memory_of(pid, "VmRSS") for pid in workers}
    response = requests.post(
        server.url + "/sparql",
        data=BOMB.encode(),
        headers={"Content-Type": "application/sparql-query"},
        timeout=60,
    )
    peaks = {pid: memory_of(pid, "VmHWM") for pid in workers}
    add(figures, "memory_bombs_sent", 1)
    assert response.status_code == 413, response.text[:300]
    assert "query_memory_mb" in response.text
    for pid, peak in peaks.items():
        grown = (peak - start[pid]) >> 20
        figures["memory_bomb_worst_growth_mb"] = max(
            figures.get("memory_bomb_worst_growth_mb", 0), grown
        )
        assert grown <= BUDGET_MB + MARGIN_MB, f"worker {pid} grew by {grown} MiB"
    deadline = time.monotonic() + 60
    while True:  # the replacement worker takes over
        try:
            lookup = requests.get(
                server.url + "/sparql", params={"query": POINT_LOOKUP}, timeout=30
            )
            if lookup.status_code == 200:
                break
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, "no point lookup answered after the bomb"
        time.sleep(0.2)
    assert server.process.poll() is None, "the server exited"
