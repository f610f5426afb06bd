"""graph.core.machine: the cores a process may use, as `kg serve --workers 0` counts them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from graph.core.machine import usable_cores


def test_usable_cores_are_the_affinity_mask() -> None:
    assert usable_cores() == len(os.sched_getaffinity(0))


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two usable cores to narrow")
def test_a_process_narrowed_to_one_core_runs_one_worker() -> None:
    """`taskset -c N kg serve` (or a container's cpuset) gets one worker per core it may use,
    not one per core of the machine."""
    core = min(os.sched_getaffinity(0))
    code = (
        f"import os; os.sched_setaffinity(0, {{{core}}});"
        "from graph.serving.server import worker_count;"
        "print(worker_count(0, writable=False), os.cpu_count())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    assert out[0] == "1"
    assert int(out[1]) >= 2  # the machine has more: the mask, not the machine, counted
