"""Online backup and atomic restore of the store.

A backup reads a published generation through a read-only handle, so it runs while servers
have the store open read-only (they never write to a generation; builds and restores make new
ones). Two kinds of backup, chosen by the destination's name:

* a directory (no RDF extension): a RocksDB checkpoint (``Store.backup``), hard links to the
  immutable SST files when on the same file system: milliseconds and almost no extra space;
* ``*.nq`` or ``*.trig``: a dump of every quad, portable to any RDF store, slower and larger.

A restore loads the backup into a new generation, lets the caller check it (graph.build.restored
validates it against the shapes, as a build does) and publishes it with the same atomic rename a
build uses, so a server's store path keeps working throughout and a refused backup leaves the
current store untouched.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from graph.store import (
    RdfFormat,
    Store,
    dump_dataset,
    load_dataset_file,
    open_generation,
    open_store,
)
from graph.store.default_graph import stated_count
from graph.store.generations import (
    StoreBusy,
    discard_generation,
    new_generation,
    publish_generation,
    refuse_while_written,
    writer_pid,
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
    :raises StoreBusy: if a process holds the store open for writing.
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
            _checkpoint(store, store_path, partial)
        else:
            _dump(store, partial, fmt)
        os.replace(partial, destination)
    finally:
        _remove(partial)
    kind = "checkpoint" if fmt is None else "dump"
    return CopyResult(destination, stated_count(store), kind)


def restore(
    source: Path, store_path: Path, check: Callable[[Store], None] | None = None
) -> CopyResult:
    """Publish the backup at ``source`` as a new generation of the store at ``store_path``.

    ``check`` is called with the loaded generation before it is published; whatever it raises
    stops the restore (the generation is discarded, the current store untouched).

    :raises BackupError: if ``source`` is neither a store directory nor a dump file.
    :raises graph.store.RdfSyntaxError: if a dump does not parse (nothing is published).
    :raises StoreBusy: if a process holds the store open for writing (a writable server).
    """
    kind = _kind(source)
    refuse_while_written(store_path, "restore")
    directory = new_generation(store_path)
    try:
        quads = _fill(directory, source, kind)
        if check is not None:
            _check(directory, check)
        # A writable server may have opened the store while this one loaded and checked.
        refuse_while_written(store_path, "restore")
        publish_generation(store_path, directory)
    except BaseException:
        discard_generation(directory)
        raise
    return CopyResult(store_path, quads, kind)


def _kind(source: Path) -> str:
    """``checkpoint`` or ``dump``: what kind of backup ``source`` is.

    :raises BackupError: if it is neither.
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
    return kind


def _check(directory: Path, check: Callable[[Store], None]) -> None:
    """Run ``check`` on the generation at ``directory``, closing it before returning or raising
    (a handle kept alive by a traceback would let RocksDB write into a discarded folder)."""
    store = open_generation(directory)
    try:
        check(store)
    finally:
        del store


def _fill(directory: Path, source: Path, kind: str) -> int:
    if kind == "dump":
        return load_dataset_file(directory, source)
    directory.rmdir()  # Store.backup makes the directory itself
    store = _open_local(source)
    _checkpoint(store, source, directory)
    return stated_count(store)


def open_snapshot(path: Path) -> Store:
    """Open the store at ``path`` read-only for a consistent copy, even while a server reads it.

    :raises StoreBusy: if another process has it open for writing (reading it read-only then is
        undefined behaviour in RocksDB, so a consistent copy cannot be promised).
    :raises FileNotFoundError: if nothing has been built at ``path``.
    """
    if not path.exists():
        raise FileNotFoundError(f"no store at {path}: run `kg build --store {path}` first")
    pid = writer_pid(path)
    if pid is not None:
        raise StoreBusy(f"{path} is open for writing by process {pid}; stop it and try again")
    return _open_local(path)


def _open_local(path: Path) -> Store:
    store = open_store(path, read_only=True)
    if not isinstance(store, Store):  # open_store takes a Path here, never a URL
        raise BackupError(f"{path} is not a local store")
    return store


def _checkpoint(store: Store, path: Path, target: Path) -> None:
    """Copy ``store``, opened read-only from ``path``, into a new store directory ``target``
    (hard links where possible).

    A checkpoint of a read-only handle holds the flushed files only: writes still in the
    write-ahead log (a writable server's last writes, until RocksDB flushes them) would be
    missing from it. The log files are copied beside them, as RocksDB's checkpoint of a
    writable store does; opening the copy replays those the copied MANIFEST has not flushed.
    """
    store.backup(str(target))
    for log in path.resolve().glob("*.log"):
        if not (target / log.name).exists():
            shutil.copy2(log, target / log.name)


def _dump(store: Store, target: Path, fmt: RdfFormat) -> None:
    """Write what ``store`` states to the file ``target`` in the dataset format ``fmt`` (the
    default graph's copy of the named graphs is made again on restore)."""
    dump_dataset(store, str(target), fmt)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
