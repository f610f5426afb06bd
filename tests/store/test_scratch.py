"""A scratch copy of the store (graph.store.scratch): writable, thrown away, the store untouched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graph.store import Literal, NamedNode, Quad, Store, on_scratch_copy

A = Quad(NamedNode("urn:a"), NamedNode("urn:p"), Literal(1), NamedNode("urn:g"))
B = Quad(NamedNode("urn:b"), NamedNode("urn:p"), Literal(2), NamedNode("urn:g"))


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_checkpoint_beside_the_store_is_written_then_removed(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "store"))
    store.add(A)
    stale = tmp_path / f".scratch-{dead_pid()}-left"
    stale.mkdir()

    def work(copy: Store) -> set[Quad]:
        assert list(tmp_path.glob(".scratch-*"))  # the checkpoint is there meanwhile
        copy.add(B)
        copy.remove(A)
        return set(copy)

    assert on_scratch_copy(store, tmp_path, work) == {B}
    assert set(store) == {A}
    assert [p.name for p in tmp_path.iterdir()] == ["store"]  # its own and the stale one gone


def test_an_in_memory_store_is_copied_in_memory(tmp_path: Path) -> None:
    store = Store()
    store.add(A)
    assert on_scratch_copy(store, tmp_path, lambda copy: copy.add(B) or len(copy)) == 2
    assert set(store) == {A}
    assert list(tmp_path.iterdir()) == []
