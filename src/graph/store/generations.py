"""Generations of the store on disk, swapped by one atomic rename (no pyoxigraph here).

The store path (``var/store``) is a symbolic link to a generation directory
(``var/store.gen/{time}-{pid}-{ns}``). A build, restore or copy writes a new generation and
publishes it by renaming a fresh link over the old one; readers that resolved the old link keep
their generation until the next publish removes it. A process killed while writing leaves a
half-written generation (and perhaps a ``.store.link-PID``); the next publish removes both
unless the process that made them is still running.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import struct
import time
from pathlib import Path

#: Keep the generation published before the current one (a server may still be reading it).
KEEP_PREVIOUS_GENERATION = True


def new_generation(path: Path) -> Path:
    """Create and return an empty directory for the next generation of the store at ``path``.

    :raises FileExistsError: if ``path`` exists and is not a store link (checked first, so
        nothing is created beside a file that is not ours).
    """
    _check_link(path)
    generations = path.parent / (path.name + ".gen")
    generations.mkdir(parents=True, exist_ok=True)
    directory = (
        generations / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns()}"
    )
    directory.mkdir()
    return directory


def publish_generation(path: Path, directory: Path) -> None:
    """Point ``path`` at ``directory`` in one atomic rename, then prune old generations.

    The generation the link pointed at before is kept (a server may still be reading it); every
    other generation is removed unless the build that is writing it is still running.
    """
    _check_link(path)
    previous = path.resolve() if path.is_symlink() else None
    _remove_stale_links(path)
    link = path.parent / f".{path.name}.link-{os.getpid()}"
    if link.is_symlink():
        link.unlink()
    link.symlink_to(os.path.relpath(directory, path.parent))
    os.replace(link, path)
    _fsync_directory(path.parent)
    _prune(directory, previous)


def _check_link(path: Path) -> None:
    if path.exists() and not path.is_symlink():
        raise FileExistsError(f"{path} exists and is not a store link made by `kg build`")


def _fsync_directory(directory: Path) -> None:
    # The rename is atomic for other processes at once; fsync makes it survive a power cut too.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _other_live_process(pid_text: str) -> bool:
    """True if ``pid_text`` names a running process other than this one.

    >>> _other_live_process(str(os.getpid())), _other_live_process("not-a-pid")
    (False, False)
    """
    if not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_links(path: Path) -> None:
    """Remove ``.store.link-PID`` links left by a publish that was killed before its rename."""
    for link in path.parent.glob(f".{path.name}.link-*"):
        pid = link.name.rsplit("-", 1)[-1]
        if pid != str(os.getpid()) and not _other_live_process(pid):
            link.unlink(missing_ok=True)


def _prune(current: Path, previous: Path | None) -> None:
    """Remove generations other than ``current``, ``previous`` and those still being written.

    A generation left half-written by a killed build is removed here, by the next publish.
    Generation names are ``{time}-{pid}-{ns}`` (see :func:`new_generation`).
    """
    keep = {current.resolve()}
    if previous is not None and KEEP_PREVIOUS_GENERATION:
        keep.add(previous)
    for other in current.parent.iterdir():
        writer = other.name.split("-")[1] if other.name.count("-") >= 2 else ""
        if other.resolve() in keep or _other_live_process(writer):
            continue
        shutil.rmtree(other, ignore_errors=True)


def discard_generation(directory: Path) -> None:
    """Remove a generation that was never published."""
    shutil.rmtree(directory, ignore_errors=True)


def writer_pid(path: Path) -> int | None:
    """The id of a process holding the store at ``path`` open for writing, if any.

    RocksDB takes a POSIX lock on the store's ``LOCK`` file; F_GETLK asks who holds it without
    taking it, so the check never gets in a writer's way.
    """
    lock_file = path.resolve() / "LOCK"
    if not lock_file.exists():
        return None
    # struct flock on Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid
    request = struct.pack("@hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    fd = os.open(lock_file, os.O_RDWR)
    try:
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, request)
    finally:
        os.close(fd)
    lock_type, _, _, _, pid = struct.unpack("@hhqqi4x", answer)
    return None if lock_type == fcntl.F_UNLCK else int(pid)
