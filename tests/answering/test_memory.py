"""The per-query memory budget (graph.answering.memory) below the HTTP layer.

Each bomb runs in a subprocess: the budget freezes the thread that ran it, and a frozen thread
may hold a lock of the allocator (glibc's malloc) that the test process would then wait on.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from graph.answering import deadline
from graph.answering.stack import stack_for
from graph.store import memory_store, run_query

PRELUDE = """
import os
import sys
import threading
from graph.answering import deadline
from graph.answering import memory
from graph.core.errors import ResultTooLarge
from graph.store import memory_store, run_query

# Doubles a 64-character string 22 times: 256 MiB for the last value alone.
BOMB = ('SELECT (STRLEN(?x22) AS ?n) WHERE { BIND("' + "x" * 64 + '" AS ?x0) '
        + " ".join(f"BIND(CONCAT(?x{i}, ?x{i}) AS ?x{i + 1})" for i in range(22)) + " }")
BUDGET = 32 << 20
retired = threading.Event()
deadline.runaway_hook = retired.set

def bomb():
    return [row["n"] for row in run_query(memory_store(), BOMB)]
"""


#: The frozen thread may hold a lock the interpreter's own exit waits on: leave at once.
EXIT = "\nsys.stdout.flush()\nos._exit(0)\n"


def run(script: str) -> str:
    """Run ``script`` after :data:`PRELUDE` in a fresh interpreter; its output."""
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(script) + EXIT],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_a_helper_over_budget_is_frozen_and_its_client_told() -> None:
    out = run(
        """
        start = memory.resident_bytes()
        try:
            deadline.with_deadline(bomb, 60, stack=64 << 20, budget=BUDGET)
        except ResultTooLarge as error:
            print("error:", error)
        print("retired:", retired.is_set())
        # Frozen: it grows no more (a doubling still being made would add 64 MiB or more).
        grown = (memory.resident_bytes() - start) >> 20
        print("grown within:", grown < (BUDGET >> 20) + 48, grown)
        # The frozen helper is not handed the next query of its stack size.
        print("next:", deadline.with_deadline(lambda: "ok", 5, stack=64 << 20))
        """
    )
    assert "error: the query was stopped when it had used more than 32 MiB" in out
    assert "(setting query_memory_mb)" in out
    assert "retired: True" in out and "grown within: True" in out and "next: ok" in out


def test_a_query_within_budget_is_untouched() -> None:
    def work() -> list[str]:
        rows = run_query(memory_store(), "SELECT ?x { VALUES ?x {1} }")
        return [row["x"].value for row in rows]  # type: ignore[union-attr]

    assert deadline.with_deadline(work, 5, stack=stack_for(100), budget=32 << 20) == ["1"]
