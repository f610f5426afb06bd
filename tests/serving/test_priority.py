"""Successor workers start at low CPU priority and serve at normal (graph.serving.priority)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from graph.answering.admission import may_restore_priority

#: In a fresh process: the forking thread lowered as granian's on_reload hook lowers it, then a
#: fork (a successor) whose threads start low and all come back with restore().
FORK_AND_RESTORE = """
import os, threading
from graph.serving import priority

def nice(task=0):
    return os.getpriority(os.PRIO_PROCESS, task)

before = nice()
priority.lower_for_start()
print("parent", before, nice(), flush=True)
pid = os.fork()
if pid == 0:
    started = threading.Event()
    wait = lambda: (started.set(), threading.Event().wait(5))
    threading.Thread(target=wait, daemon=True).start()
    started.wait()
    lowered = sorted({nice(int(t)) for t in os.listdir("/proc/self/task")})
    changed = priority.restore()
    restored = sorted({nice(int(t)) for t in os.listdir("/proc/self/task")})
    later = []
    threading.Thread(target=lambda: later.append(nice())).start()
    print("child", lowered, changed, restored, later, flush=True)
    os._exit(0)
os.waitpid(pid, 0)
"""


def test_a_successor_starts_at_the_lowest_priority_and_serves_at_its_parents_own() -> None:
    if not may_restore_priority():
        pytest.skip("this process may not raise a thread's priority again: nothing is lowered")
    out = subprocess.run(
        [sys.executable, "-c", FORK_AND_RESTORE], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    parent, child = out[0].split(), out[1]
    normal = int(parent[1])
    assert parent == ["parent", str(normal), "19"]
    # Both of the child's threads (the forked one and a helper it started) started at 19 and
    # went back to the parent's nice value; a thread started afterwards inherits that.
    assert child == f"child [19] 2 [{normal}] [{normal}]"


def test_a_first_start_changes_nothing() -> None:
    """Without a reload (nothing lowered), a worker's threads keep their priority."""
    script = (
        "import os\nfrom graph.serving import priority\n"
        "before = os.getpriority(os.PRIO_PROCESS, 0)\n"
        "print(priority.restore(), os.getpriority(os.PRIO_PROCESS, 0) - before)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "0"]
