"""bench/runaway_bench.py --trace: each slow lookup is put down to one likely cause, in order
(a fresh connection, a worker's replacement, a runaway's first CPU, none of these)."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from tests.paths import ROOT


def load_bench() -> ModuleType:
    sys.path.insert(0, str(ROOT / "bench"))  # runaway_bench imports serve_bench beside it
    try:
        spec = importlib.util.spec_from_file_location(
            "runaway_bench", ROOT / "bench" / "runaway_bench.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules.setdefault("runaway_bench", module)  # its dataclasses look it up there
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(ROOT / "bench"))


def test_slow_lookups_are_sorted_by_their_first_matching_cause() -> None:
    bench = load_bench()
    phase = bench.Phase()
    slow, fast = 0.05, 0.001
    phase.lookups = [
        (100.0, slow, True),  # fresh connection, even though a worker started just before
        (100.5, fast, True),
        (101.0, slow, False),  # 1 s after a worker started: its start-up
        (110.0, slow, False),  # 0.1 s after an old worker ended
        (120.0, slow, False),  # 50 ms after a runaway was sent
        (120.02, fast, False),
        (130.0, slow, False),  # nothing near
        (140.0, fast, False),
    ]
    phase.runaway_starts = [119.95]
    events = [(99.9, "spawn", 7), (109.9, "exit", 6)]
    line = bench.causes(phase, events, slow=0.01)
    assert "reconnect 1/2" in line
    assert "replacement 2/2" in line
    assert "runaway-start 1/2" in line
    assert "other 1/2" in line
    assert "workers started 1" in line
