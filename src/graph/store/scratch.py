"""A throw-away writable copy of the store, for evaluating an update operation by operation.

An update of several operations must let each see what the earlier ones did, before anything is
committed to the store (graph.answering.update_plan). On disk the copy is a RocksDB checkpoint
(``Store.backup``): hard links to the immutable SST files, so its cost does not grow with the
store (docs/scaling.md, "Writes"); what is written to it goes to its own new files. An
in-memory store is copied quad by quad (such stores are small).
"""

from __future__ import annotations

import shutil
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from pyoxigraph import Store

from graph.store.generations import other_live_process, writer_token
from graph.store.handles import copy_to_memory

T = TypeVar("T")


def on_scratch_copy(store: Store, near: Path | None, work: Callable[[Store], T]) -> T:
    """Run ``work`` on a writable copy of ``store`` and return what it returns; the copy is
    removed afterwards and ``store`` is never written.

    ``near`` is a folder on the store's file system for the checkpoint (hard links need the
    same file system); None (or no such folder), or an in-memory ``store``, copies it in
    memory.
    """
    if near is None or not near.is_dir():
        return work(copy_to_memory(store))
    _remove_stale(near)
    directory = Path(tempfile.mkdtemp(prefix=f".scratch-{writer_token()}-", dir=near))
    try:
        try:
            store.backup(str(directory / "store"))
        except RuntimeError:  # an in-memory store has nothing to checkpoint
            return work(copy_to_memory(store))
        return _on_checkpoint(directory / "store", work)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _remove_stale(near: Path) -> None:
    """Remove the checkpoints that killed processes left in ``near`` (``.scratch-{writer}-*``,
    graph.store.generations.writer_token)."""
    for folder in near.glob(".scratch-*-*"):
        token = folder.name.split("-")[1]
        if token != writer_token() and not other_live_process(token):
            shutil.rmtree(folder, ignore_errors=True)


def _on_checkpoint(path: Path, work: Callable[[Store], T]) -> T:
    copy = Store(str(path))
    try:
        return work(copy)
    except BaseException as error:
        # The traceback's frames would keep the copy open while its folder is removed, and
        # RocksDB could write into the removed folder.
        traceback.clear_frames(error.__traceback__)
        raise
    finally:
        del copy
