"""SIGKILL a writable ``kg serve`` while clients write to it over HTTP.

Two client threads send writes of 5 triples sharing one id (``<urn:write:ID>``): SPARQL
updates (form and direct), Graph Store PUT and POST to a new graph, and PUT over one shared
graph (a CLEAR and an INSERT in one update). Each write whose 2xx reached the client is
*acknowledged*. At a seeded random moment the test SIGKILLs the server's whole process group,
then checks the store on disk: it opens, conforms to the shapes, holds every acknowledged
write whole, no write in part, and the shared graph holds exactly one write, no older than the
last acknowledged one. Then the server restarts on it for the next round.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from tests.reliability.conftest import Figures, make_project
from tests.reliability.serving import AUTH, start_server

from graph.answering.writes import load_shapes, validate_result
from graph.build.embedded import build
from graph.core.namespaces import CANONICAL_BASE
from graph.store import open_store, select_rows

#: Kill points per run.
KILL_POINTS = 10
#: The longest wait, in seconds, between the first acknowledged write of a round and the kill.
KILL_WINDOW = 1.5
TRIPLES_PER_WRITE = 5
CLIENTS = 2
SEED = 4242
SHARED_GRAPH = "urn:graph:replaced"
KINDS = ("update-form", "update-direct", "put-new", "post-new", "put-shared")

COUNT_PER_WRITE = """
SELECT ?s (COUNT(*) AS ?n) WHERE {
  GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?s), "urn:write:"))
} GROUP BY ?s
"""
SHARED_SUBJECTS = f"SELECT DISTINCT ?s WHERE {{ GRAPH <{SHARED_GRAPH}> {{ ?s ?p ?o }} }}"


def triples(write_id: int) -> str:
    return " ".join(
        f'<urn:write:{write_id}> <urn:part:{k}> "{write_id}/{k}" .'
        for k in range(TRIPLES_PER_WRITE)
    )


def send_write(session: requests.Session, url: str, write_id: int) -> requests.Response:
    """One write of kind ``KINDS[write_id % len(KINDS)]``."""
    kind = KINDS[write_id % len(KINDS)]
    data = triples(write_id)
    update = f"INSERT DATA {{ GRAPH <urn:graph:writes> {{ {data} }} }}"
    nt = {**AUTH, "Content-Type": "application/n-triples"}
    body = data.replace(" . ", " .\n").encode()
    if kind == "update-form":
        return session.post(url + "/sparql", data={"update": update}, headers=AUTH, timeout=30)
    if kind == "update-direct":
        headers = {**AUTH, "Content-Type": "application/sparql-update"}
        return session.post(url + "/sparql", data=update.encode(), headers=headers, timeout=30)
    if kind == "put-new":
        params = {"graph": f"urn:graph:put-{write_id}"}
        return session.put(url + "/store", params=params, data=body, headers=nt, timeout=30)
    if kind == "post-new":
        params = {"graph": f"urn:graph:post-{write_id}"}
        return session.post(url + "/store", params=params, data=body, headers=nt, timeout=30)
    params = {"graph": SHARED_GRAPH}
    return session.put(url + "/store", params=params, data=body, headers=nt, timeout=30)


@dataclass
class Ledger:
    """What the clients saw: acknowledged ids, ids in flight at the kill, unexpected answers."""

    acknowledged: set[int] = field(default_factory=set)
    in_flight: set[int] = field(default_factory=set)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    first_ack: threading.Event = field(default_factory=threading.Event)


def client(url: str, ids: range, ledger: Ledger) -> None:
    """Write ``ids`` in order until the server goes away."""
    with requests.Session() as session:
        for write_id in ids:
            try:
                response = send_write(session, url, write_id)
            except requests.RequestException:
                with ledger.lock:
                    ledger.in_flight.add(write_id)
                return
            with ledger.lock:
                if response.ok:
                    ledger.acknowledged.add(write_id)
                    ledger.first_ack.set()
                else:
                    ledger.unexpected.append(f"{write_id}: {response.status_code}")


@dataclass
class Check:
    lost: list[int]
    partial: list[int]
    committed_in_flight: int
    conforms: bool
    shared_ok: bool


def check_store(store: Path, project: Path, ledger: Ledger) -> Check:
    """Open the store left by the kill (read-only) and compare it with the ledger."""
    handle = open_store(store, read_only=True)
    try:
        counts = {
            int(row["s"].rsplit(":", 1)[1]): int(row["n"])
            for row in select_rows(handle, COUNT_PER_WRITE)
        }
        shared = [int(r["s"].rsplit(":", 1)[1]) for r in select_rows(handle, SHARED_SUBJECTS)]
        conforms = validate_result(handle, load_shapes(str(project), CANONICAL_BASE)).conforms
    finally:
        del handle
    put_shared = len(KINDS) - 1
    # Writes over the shared graph replace each other: only the other kinds must all stay.
    kept = {i for i in ledger.acknowledged if i % len(KINDS) != put_shared}
    shared_acked = [i for i in ledger.acknowledged if i % len(KINDS) == put_shared]
    shared_ok = not shared_acked or (
        len(shared) == 1
        and shared[0] in ledger.acknowledged | ledger.in_flight
        and counts.get(shared[0]) == TRIPLES_PER_WRITE
    )
    return Check(
        lost=sorted(kept - counts.keys()),
        partial=sorted(i for i, n in counts.items() if n != TRIPLES_PER_WRITE),
        committed_in_flight=len(ledger.in_flight & counts.keys()),
        conforms=conforms,
        shared_ok=shared_ok,
    )


def kill_round(
    store: Path, project: Path, log: Path, first_id: int, rng: random.Random, ledger: Ledger
) -> float:
    """Serve, write from the clients, SIGKILL the server group; return the delay used."""
    server = start_server(store, project, log)
    ledger.first_ack.clear()
    per_client = range(first_id, first_id + 100_000)
    threads = [
        threading.Thread(target=client, args=(server.url, per_client[t::CLIENTS], ledger))
        for t in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    try:
        assert ledger.first_ack.wait(30), "no write was acknowledged"
        delay = rng.uniform(0, KILL_WINDOW)
        time.sleep(delay)
    finally:
        server.kill()
    for thread in threads:
        thread.join(timeout=60)
    return delay


@pytest.mark.slow
def test_sigkill_of_the_server_keeps_every_acknowledged_write_whole(
    tmp_path: Path, figures: Figures
) -> None:
    project = make_project(tmp_path / "project")
    store = tmp_path / "store"
    build(project, store, CANONICAL_BASE)
    rng, ledger = random.Random(SEED), Ledger()
    first_id, failures = 0, []
    for point in range(KILL_POINTS):
        kill_round(store, project, tmp_path / "serve.log", first_id, rng, ledger)
        result = check_store(store, project, ledger)
        if result.lost or result.partial or not result.conforms or not result.shared_ok:
            failures.append((point, result))
        first_id = max(ledger.acknowledged | ledger.in_flight) + 1
    # The store must also serve again after the last kill.
    server = start_server(store, project, tmp_path / "serve.log")
    try:
        assert requests.get(server.url + "/sparql", params={"query": "ASK {}"}, timeout=30).ok
    finally:
        server.stop()
    last = check_store(store, project, ledger)
    figures.update(
        server_crash_points=KILL_POINTS,
        server_crash_acknowledged_writes=len(ledger.acknowledged),
        server_crash_lost_writes=len(last.lost),
        server_crash_partial_writes=len(last.partial),
        server_crash_in_flight_committed=last.committed_in_flight,
        server_crash_in_flight_writes=len(ledger.in_flight),
        server_crash_unexpected_answers=len(ledger.unexpected),
        server_crash_store_invalid=sum(1 for _, r in failures if not r.conforms),
    )
    assert failures == [], failures
    assert ledger.unexpected == [], ledger.unexpected[:10]
    assert last.lost == [] and last.partial == [] and last.conforms
