"""Generations of the store on disk, swapped by one atomic rename (no pyoxigraph here).

The store path (``var/store``) is a symbolic link to a generation directory
(``var/store.gen/{time}-{writer}-{ns}``). A build, restore or copy writes a new generation and
publishes it by renaming a fresh link over the old one; readers that resolved the old link keep
their generation until the next publish removes it. A process killed while writing leaves a
half-written generation (and perhaps a ``.store.link-{writer}``); the next publish removes both
unless the process that made them is still running.

``{writer}`` is :func:`writer_token`: the process id and its start time, so that a later process
given the same id (ids are reused, within a minute on a busy machine with the kernel's 32768)
is not taken for the writer. A name with a bare process id (made before) is still read.
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
        generations / f"{time.strftime('%Y%m%dT%H%M%S')}-{writer_token()}-{time.monotonic_ns()}"
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
    link = path.parent / f".{path.name}.link-{writer_token()}"
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


def writer_token() -> str:
    """This process as names on disk identify their writer: ``{pid}.{start}``, its id and its
    start time (clock ticks after boot, proc(5)), or the bare id where /proc cannot say."""
    start = _start_time(os.getpid())
    return str(os.getpid()) if start is None else f"{os.getpid()}.{start}"


def _start_time(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks after boot (field 22 of /proc/PID/stat)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # After the command name, in parentheses (which may hold spaces), field 3 comes first.
    return int(stat.rpartition(")")[2].split()[19])


def other_live_process(token: str) -> bool:
    """True if ``token`` (:func:`writer_token`, or a bare process id) names a running process
    other than this one: a process that has the id but started at another time is not it.

    >>> other_live_process(writer_token()), other_live_process("not-a-pid")
    (False, False)
    >>> other_live_process(f"{os.getppid()}.1")  # the parent did not start at boot
    False
    """
    pid_text, _, start_text = token.partition(".")
    if not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    if start_text and not start_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started = _start_time(int(pid_text))
    return not start_text or started is None or started == int(start_text)


def _remove_stale_links(path: Path) -> None:
    """Remove ``.store.link-{writer}`` links left by a publish killed before its rename."""
    for link in path.parent.glob(f".{path.name}.link-*"):
        token = link.name.rsplit("-", 1)[-1]
        if token != writer_token() and not other_live_process(token):
            link.unlink(missing_ok=True)


def _prune(current: Path, previous: Path | None) -> None:
    """Remove generations other than ``current``, ``previous`` and those still in use.

    In use: being written by a live build, or open in a process (a read-only server keeps the
    generation it opened until it restarts; removing it would leave it answering from deleted
    files, every query empty). A generation left half-written by a killed build, or no longer
    open anywhere, is removed here, by the next publish. Generation names are
    ``{time}-{writer}-{ns}`` (see :func:`new_generation`).
    """
    keep = {current.resolve()}
    if previous is not None and KEEP_PREVIOUS_GENERATION:
        keep.add(previous)
    candidates = [other for other in current.parent.iterdir() if other.resolve() not in keep]
    in_use = _open_in_some_process(candidates)
    for other in candidates:
        writer = other.name.split("-")[1] if other.name.count("-") >= 2 else ""
        if other in in_use or other_live_process(writer):
            continue
        shutil.rmtree(other, ignore_errors=True)


def _open_in_some_process(directories: list[Path]) -> set[Path]:
    """Those of ``directories`` a process has a file open in (from ``/proc/*/fd``, Linux).

    RocksDB keeps the SST files of an open store open, read-only handles included. Processes
    whose descriptors cannot be read (another user's) are not seen.
    """
    prefixes = {f"{d.resolve()}{os.sep}": d for d in directories}
    found: set[Path] = set()
    if not prefixes:
        return found
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        for target in _open_files(fd_dir):
            found.update(d for prefix, d in prefixes.items() if target.startswith(prefix))
    return found


def _open_files(fd_dir: Path) -> list[str]:
    """What the descriptors in ``fd_dir`` (``/proc/PID/fd``) point to, those still open."""
    try:
        descriptors = list(fd_dir.iterdir())
    except OSError:  # the process exited, or is not ours to look at
        return []
    targets = []
    for descriptor in descriptors:
        try:
            targets.append(os.readlink(descriptor))
        except OSError:  # closed since the listing (the listing's own descriptor, say)
            continue
    return targets


def discard_generation(directory: Path) -> None:
    """Remove a generation that was never published."""
    shutil.rmtree(directory, ignore_errors=True)


class StoreBusy(Exception):
    """Another process holds the store open for writing."""


def refuse_while_written(path: Path, action: str) -> None:
    """Refuse to publish a new generation of ``path`` while a process writes the current one.

    A writable server holds RocksDB's lock on the generation it opened and keeps writing there
    until it stops; a generation published meanwhile would never see those writes, and the next
    publish would delete them with the old generation (issue 12, item 1).

    :raises StoreBusy: naming the process and what to do.
    """
    pid = writer_pid(path) if path.exists() else None
    if pid is not None:
        raise StoreBusy(
            f"{path} is open for writing by process {pid} (a writable `kg serve`): a {action}"
            f" now would lose every write it accepts; stop it (kill {pid}), run the {action}"
            " again, then restart the server"
        )


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
