"""SIGKILL a process writing to an open store: acknowledged writes stay, none is half there.

The writer runs many small SPARQL ``INSERT DATA`` updates of 5 triples sharing one id and prints
each id once ``update`` has returned. After every kill the store must hold all 5 triples of
every printed id, and for the id in flight either all 5 or none.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.reliability.conftest import MINI, Figures

from graph.build.embedded import build
from graph.core.namespaces import CANONICAL_BASE
from graph.store import open_store, select_rows

ROUNDS = 15
TRIPLES_PER_WRITE = 5
SEED = 7

WRITER = """
import sys
from pathlib import Path
from graph.store import open_store

store = open_store(Path(sys.argv[1]))
i = int(sys.argv[2])
while True:
    triples = " ".join(
        f'<urn:write:{i}> <urn:part:{k}> "{i}/{k}" .' for k in range(int(sys.argv[3]))
    )
    store.update("INSERT DATA { GRAPH <urn:graph:writes> { " + triples + " } }")
    print(i, flush=True)
    i += 1
"""

COUNT_PER_WRITE = """
SELECT ?s (COUNT(*) AS ?n) WHERE { GRAPH <urn:graph:writes> { ?s ?p ?o } } GROUP BY ?s
"""


def _kill_writer(store: Path, first_id: int, rng: random.Random) -> list[int]:
    """Run a writer from ``first_id``, SIGKILL it at a random moment; return acknowledged ids."""
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store), str(first_id), str(TRIPLES_PER_WRITE)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    acknowledged = [int(writer.stdout.readline())]  # the store is open and writing
    for _ in range(rng.randint(0, 120)):
        acknowledged.append(int(writer.stdout.readline()))
    time.sleep(rng.uniform(0, 0.01))
    writer.send_signal(signal.SIGKILL)
    rest, _ = writer.communicate()
    acknowledged += [int(line) for line in rest.split()]
    return acknowledged


@pytest.mark.slow
def test_sigkill_while_writing_keeps_every_acknowledged_write_whole(
    tmp_path: Path, figures: Figures
) -> None:
    store = tmp_path / "store"
    build(MINI, store, CANONICAL_BASE)
    rng = random.Random(SEED)
    acknowledged: set[int] = set()
    next_id = 0
    for _ in range(ROUNDS):
        ids = _kill_writer(store, next_id, rng)
        acknowledged.update(ids)
        next_id = max(ids) + 2  # max + 1 was in flight: it may or may not be there

    handle = open_store(store, read_only=True)
    counts = {
        int(row["s"].rsplit(":", 1)[1]): int(row["n"])
        for row in select_rows(handle, COUNT_PER_WRITE)
    }
    lost = sorted(acknowledged - counts.keys())
    partial = sorted(i for i, n in counts.items() if n != TRIPLES_PER_WRITE)
    in_flight_kept = len(counts.keys() - acknowledged)
    figures.update(
        write_crash_points=ROUNDS,
        write_crash_acknowledged_writes=len(acknowledged),
        write_crash_lost_writes=len(lost),
        write_crash_partial_writes=len(partial),
        write_crash_unacknowledged_but_committed=in_flight_kept,
    )
    assert lost == [], f"acknowledged writes lost: {lost[:10]}"
    assert partial == [], f"writes present in part: {partial[:10]}"
    assert in_flight_kept <= ROUNDS
