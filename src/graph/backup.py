"""Online backup and atomic restore of the store.

A backup reads a published generation through a read-only handle, so it runs while servers
have the store open read-only (they never write to a generation; builds and restores make new
ones). Two kinds of backup, chosen by the destination's name:

* a directory (no RDF extension): a RocksDB checkpoint (``Store.backup``), hard links to the
  immutable SST files when on the same file system: milliseconds and almost no extra space;
* ``*.nq`` or ``*.trig``: a dump of every quad, portable to any RDF store, slower and larger.

A restore loads the backup into a new generation and publishes it with the same atomic rename a
build uses, so a server's store path keeps working throughout.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from graph.store import (
    RdfFormat,
    checkpoint,
    count_quads,
    discard_generation,
    dump_dataset,
    load_dataset_file,
    new_generation,
    open_snapshot,
    open_store,
    publish_generation,
)

#: File extensions a backup may be dumped to: formats that keep the named graphs.
DUMP_FORMATS = {".nq": RdfFormat.N_QUADS, ".trig": RdfFormat.TRIG}


class BackupError(Exception):
    """A backup or restore that cannot be done as asked; nothing was changed."""


@dataclass(frozen=True)
class CopyResult:
    """What a backup wrote or a restore published."""

    path: Path
    quads: int
    kind: str


def backup(store_path: Path, destination: Path) -> CopyResult:
    """Copy the store published at ``store_path`` to ``destination`` (a new directory or file).

    The copy appears under ``destination`` only once complete (written beside it, then renamed).

    :raises BackupError: if ``destination`` exists or its folder does not.
    :raises graph.store.StoreBusy: if a process holds the store open for writing.
    :raises FileNotFoundError: if nothing has been built at ``store_path``.
    """
    if destination.exists() or destination.is_symlink():
        raise BackupError(f"{destination} already exists; a backup never overwrites")
    if not destination.parent.is_dir():
        raise BackupError(f"{destination.parent} is not an existing folder")
    store = open_snapshot(store_path)
    partial = destination.parent / f".{destination.name}.partial-{os.getpid()}"
    fmt = DUMP_FORMATS.get(destination.suffix.lower())
    try:
        if fmt is None:
            checkpoint(store, partial)
        else:
            dump_dataset(store, partial, fmt)
        os.replace(partial, destination)
    finally:
        _remove(partial)
    return CopyResult(destination, count_quads(store), "checkpoint" if fmt is None else "dump")


def restore(source: Path, store_path: Path) -> CopyResult:
    """Publish the backup at ``source`` as a new generation of the store at ``store_path``.

    :raises BackupError: if ``source`` is neither a store directory nor a dump file.
    :raises graph.store.RdfSyntaxError: if a dump does not parse (nothing is published).
    """
    if source.is_dir():
        if not (source / "CURRENT").is_file():
            raise BackupError(f"{source} is not a store backup (no RocksDB CURRENT file)")
        kind = "checkpoint"
    elif source.is_file() and source.suffix.lower() in DUMP_FORMATS:
        kind = "dump"
    elif source.exists():
        known = ", ".join(sorted(DUMP_FORMATS))
        raise BackupError(f"{source}: a backup is a store directory or a {known} file")
    else:
        raise BackupError(f"{source} does not exist")
    directory = new_generation(store_path)
    try:
        quads = _fill(directory, source, kind)
        publish_generation(store_path, directory)
    except BaseException:
        discard_generation(directory)
        raise
    return CopyResult(store_path, quads, kind)


def _fill(directory: Path, source: Path, kind: str) -> int:
    if kind == "dump":
        return load_dataset_file(directory, source)
    directory.rmdir()  # Store.backup makes the directory itself
    store = open_store(source, read_only=True)
    checkpoint(store, directory)
    return count_quads(store)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
