"""SIGKILL ``kg build`` at random points: the published store must never be damaged.

The store path is a link to a generation directory, swapped by one atomic rename; a killed
build leaves at most a half-written generation (or a stray link) that the next publish removes.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from tests.reliability.conftest import (
    Figures,
    add,
    kg_command,
    make_project,
    run_kg,
    store_digest,
    write_bulk,
)

#: Kill points tried per run (KG_CRASH_POINTS raises it for a longer campaign), split between
#: the two build engines: pyshacl validates before loading, sparql loads then validates.
CRASH_POINTS = int(os.environ.get("KG_CRASH_POINTS", "24"))
ENGINES = ("pyshacl", "sparql")
ENTITIES = 8000
SEED = 20240601


def _generations(store: Path) -> set[str]:
    folder = store.parent / (store.name + ".gen")
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def _stray_links(store: Path) -> list[Path]:
    return list(store.parent.glob(f".{store.name}.link-*"))


def _timed_build(project: Path, store: Path, *engine: str) -> tuple[float, float]:
    """Run a whole build; return (seconds until it published, seconds spent writing its
    generation: from the directory appearing to the link pointing at it)."""
    before = _generations(store)
    old_target = store.resolve() if store.is_symlink() else None
    start = time.monotonic()
    process = subprocess.Popen(
        kg_command("build", "--project-dir", str(project), "--store", str(store), *engine),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    appeared = published = None
    while process.poll() is None and published is None:
        if appeared is None and _generations(store) - before:
            appeared = time.monotonic()
        if store.is_symlink() and store.resolve() != old_target:
            published = time.monotonic()
        time.sleep(0.002)
    process.wait()
    assert process.returncode == 0
    published = published or time.monotonic()
    return published - start, published - (appeared or start)


def _kill_build(
    project: Path, store: Path, rng: random.Random, run: float, load: float, *engine: str
) -> str:
    """Start a build and SIGKILL it: anywhere in the run, or while it writes its generation."""
    before = _generations(store)
    process = subprocess.Popen(
        kg_command("build", "--project-dir", str(project), "--store", str(store), *engine),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if rng.random() < 0.5:
        phase, deadline = "anywhere", time.monotonic() + rng.uniform(0.05, run)
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.002)
    else:
        phase = "load"
        while process.poll() is None and not _generations(store) - before:
            time.sleep(0.002)
        time.sleep(rng.uniform(0, load))
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    else:
        phase = "finished"
    process.wait()
    return phase


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_sigkill_during_build_never_damages_the_published_store(
    tmp_path: Path, figures: Figures, engine: str
) -> None:
    points = CRASH_POINTS // len(ENGINES)
    option = ("--engine", engine)
    project = make_project(tmp_path / "project", ENTITIES, "A")
    store = tmp_path / "var" / "store"
    digests: dict[str, str] = {}
    timings = []
    for variant in ("B", "A"):  # ends with A published, its digest and B's known
        write_bulk(project, ENTITIES, variant)
        timings.append(_timed_build(project, store, *option))
        digests[variant] = store_digest(store)
    assert digests["A"] != digests["B"]
    run = min(t[0] for t in timings)
    load = min(t[1] for t in timings)

    rng = random.Random(f"{SEED}-{engine}")
    current, phases, lost, leftovers = "A", {"anywhere": 0, "load": 0, "finished": 0}, 0, 0
    published_by_killed = 0
    for _ in range(points):
        target = "B" if current == "A" else "A"
        write_bulk(project, ENTITIES, target)
        phases[_kill_build(project, store, rng, run, load, *option)] += 1
        try:
            digest = store_digest(store)
        except OSError:
            digest = "unreadable"
        if digest == digests[target]:
            current, published_by_killed = target, published_by_killed + 1
        elif digest != digests[current]:
            lost += 1
        leftovers = max(leftovers, len(_generations(store)) - 2 + len(_stray_links(store)))

    for key, value in {
        "build_crash_points": points,
        "build_crash_killed_while_loading": phases["load"],
        "build_crash_killed_anywhere": phases["anywhere"],
        "build_crash_finished_before_kill": phases["finished"],
        "build_crash_published_before_kill": published_by_killed,
        "build_crash_data_lost": lost,
    }.items():
        add(figures, key, value)
    figures["build_crash_max_leftovers"] = max(
        figures.get("build_crash_max_leftovers", 0), leftovers
    )
    figures[f"build_seconds_{engine}"] = round(run, 2)
    figures[f"build_load_seconds_{engine}"] = round(load, 2)
    assert lost == 0, f"{lost} of {points} kills left a store that is not a whole build"

    # The next build cleans up whatever the killed ones left behind.
    target = "B" if current == "A" else "A"
    write_bulk(project, ENTITIES, target)
    result = run_kg("build", "--project-dir", str(project), "--store", str(store), *option)
    assert result.returncode == 0, result.stderr
    assert store_digest(store) == digests[target]
    assert len(_generations(store)) <= 2, _generations(store)
    assert _stray_links(store) == []
