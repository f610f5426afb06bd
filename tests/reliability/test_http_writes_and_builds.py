"""An acknowledged HTTP write survives `kg build` and `kg restore` (issue 12, item 1).

Before: with a writable ``kg serve`` running, ``kg build`` published a new generation while the
server kept writing to the old one; every later write answered 204 and vanished at the next
restart. Now build and restore refuse while a process writes the store, a build refuses to
drop graphs no file provides, and ``kg save-graphs`` turns them into files the build loads.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
from tests.reliability.conftest import make_project, run_kg
from tests.reliability.serving import AUTH, KgServer, running_server

from graph.build.embedded import build
from graph.core.namespaces import CANONICAL_BASE

pytestmark = pytest.mark.slow

NOTES = CANONICAL_BASE + "graph/notes"
WRITE = (
    f"INSERT DATA {{ GRAPH <{NOTES}> {{ <urn:note:1> "
    '<http://www.w3.org/2000/01/rdf-schema#comment> "written over HTTP" } }'
)
ASK = f'ASK {{ GRAPH <{NOTES}> {{ <urn:note:1> ?p "written over HTTP" }} }}'


def has_the_write(server: KgServer) -> bool:
    answer = requests.post(
        server.url + "/sparql",
        data={"query": ASK},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    answer.raise_for_status()
    return bool(answer.json()["boolean"])


def write(server: KgServer) -> None:
    answer = requests.post(
        server.url + "/sparql",
        data=WRITE.encode(),
        headers={**AUTH, "Content-Type": "application/sparql-update"},
        timeout=30,
    )
    assert answer.status_code == 204, answer.text


def group_members(server: KgServer) -> set[int]:
    members = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == server.process.pid:
            members.add(int(stat.parent.name))
    return members


def test_a_write_survives_build_and_restart(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    store = tmp_path / "store"
    build(project, store, CANONICAL_BASE)
    before = store.resolve()
    log = tmp_path / "serve.log"
    with running_server(store, project, log) as server:
        write(server)
        refused = run_kg("build", "--project-dir", str(project), "--store", str(store))
        assert refused.returncode == 1
        message = " ".join(refused.stderr.split())
        assert "open for writing by process" in message and "kill" in message
        pid = int(message.split("by process ", 1)[1].split()[0])
        assert pid in group_members(server)
        assert store.resolve() == before  # nothing published
        write(server)  # the server still writes where the store is
    # Stopped: the build still refuses to drop the graph no file provides.
    refused = run_kg("build", "--project-dir", str(project), "--store", str(store))
    assert refused.returncode == 1 and NOTES in refused.stderr
    assert store.resolve() == before
    saved = run_kg("save-graphs", "--project-dir", str(project), "--store", str(store))
    assert saved.returncode == 0, saved.stderr
    assert (project / "data" / "sources" / "notes.ttl").is_file()
    built = run_kg("build", "--project-dir", str(project), "--store", str(store))
    assert built.returncode == 0, built.stderr
    assert store.resolve() != before
    with running_server(store, project, log) as server:
        assert has_the_write(server)


def test_restore_is_refused_while_a_server_writes(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    store = tmp_path / "store"
    build(project, store, CANONICAL_BASE)
    backup = tmp_path / "backup.nq"
    assert run_kg("backup", str(backup), "--store", str(store)).returncode == 0
    before = store.resolve()
    with running_server(store, project, tmp_path / "serve.log") as server:
        write(server)
        refused = run_kg("restore", str(backup), "--store", str(store))
        assert refused.returncode == 1
        assert "open for writing by process" in refused.stderr
        assert store.resolve() == before
        assert has_the_write(server)
    assert sorted(os.listdir(before)) and store.resolve() == before
