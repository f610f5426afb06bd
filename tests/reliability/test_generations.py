"""What a publish leaves behind: the current and previous generations, and builds in progress."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.store import (
    NamedNode,
    Quad,
    Store,
    load_generation,
    new_generation,
    publish_generation,
)

QUAD = Quad(NamedNode("urn:a"), NamedNode("urn:b"), NamedNode("urn:c"))


@pytest.fixture
def dead_pid() -> int:
    """The id of a process that has exited."""
    process = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(process.stdout)


@pytest.fixture
def live_pid() -> Iterator[int]:
    """The id of a process that is running (another build, say)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process.pid
    process.kill()
    process.wait()


def _publish(store: Path) -> Path:
    directory = new_generation(store)
    load_generation(directory, [QUAD])
    publish_generation(store, directory)
    return directory


def _left_by(generations: Path, writer: object, number: int, *, half_written: bool) -> Path:
    """A generation named as ``writer``'s build names one, sorting after every real one."""
    directory = generations / f"20990101T000000-{writer}-{number}"
    directory.mkdir()
    if half_written:
        (directory / "000001.sst").write_bytes(b"half written")
    return directory


def _link_of(root: Path, writer: object, target: Path) -> Path:
    """The link ``writer``'s build makes to ``target`` before renaming it over the store."""
    link = root / f".store.link-{writer}"
    link.symlink_to(target)
    return link


def test_publish_removes_what_killed_builds_left_and_keeps_the_previous_generation(
    tmp_path: Path, dead_pid: int, live_pid: int
) -> None:
    store = tmp_path / "store"
    first = _publish(store)
    generations = first.parent
    killed = _left_by(generations, dead_pid, 1, half_written=True)
    building = _left_by(generations, live_pid, 2, half_written=False)
    stray = _link_of(tmp_path, dead_pid, killed)
    other_live_link = _link_of(tmp_path, live_pid, building)

    second = _publish(store)

    assert store.resolve() == second.resolve()
    assert {p.name for p in generations.iterdir()} == {first.name, second.name, building.name}
    assert not stray.is_symlink()
    assert other_live_link.is_symlink()  # its build may still rename it


def test_a_dead_builds_generation_is_removed_though_its_pid_is_taken_again(
    tmp_path: Path, live_pid: int
) -> None:
    """Pids are reused: a generation whose writer's pid another process has now (it started
    at another time) is a dead build's, removed; the live writer's own is kept."""
    store = tmp_path / "store"
    first = _publish(store)
    generations = first.parent
    started = Path(f"/proc/{live_pid}/stat").read_text().rpartition(")")[2].split()[19]
    reused = _left_by(generations, f"{live_pid}.{int(started) - 1}", 1, half_written=True)
    building = _left_by(generations, f"{live_pid}.{started}", 2, half_written=False)
    stray = _link_of(tmp_path, f"{live_pid}.{int(started) - 1}", reused)

    second = _publish(store)

    assert {p.name for p in generations.iterdir()} == {first.name, second.name, building.name}
    assert not stray.is_symlink()


def test_repeated_publishes_keep_two_generations(tmp_path: Path) -> None:
    store = tmp_path / "store"
    published = [_publish(store) for _ in range(4)]
    assert sorted(p.name for p in published[0].parent.iterdir()) == sorted(
        p.name for p in published[-2:]
    )
    assert list(tmp_path.glob(".store.link-*")) == []
    assert os.readlink(store).startswith("store.gen/")


def test_a_store_path_that_is_not_a_link_is_refused_before_anything_is_created(
    tmp_path: Path,
) -> None:
    plain = tmp_path / "store"
    plain.write_text("someone else's file")
    with pytest.raises(FileExistsError, match="is not a store link"):
        new_generation(plain)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


def test_a_generation_open_in_a_reader_is_kept_until_it_lets_go(tmp_path: Path) -> None:
    """A read-only server keeps its generation across builds (before: gone after two builds,
    and every query it answered came back empty)."""
    store = tmp_path / "store"
    first = _publish(store)
    reader = Store.read_only(str(first))
    assert list(reader.quads_for_pattern(None, None, None)) == [QUAD]
    for _ in range(3):
        _publish(store)
    assert first.is_dir()
    assert list(reader.quads_for_pattern(None, None, None)) == [QUAD]
    del reader
    _publish(store)
    assert not first.exists()
