"""Run the server on a faster memory allocator than glibc's, when one is installed.

Oxigraph allocates and frees many small buffers per query, and glibc's malloc spends a large
share of a point lookup in ``_int_malloc`` and ``malloc_consolidate`` (measured with perf:
about a fifth of a worker's time). mimalloc or jemalloc cut that; see bench/serve_bench.py and
the README's Performance section for the figures. The allocator must be in place before the
process starts, so ``kg serve`` starts itself again with ``LD_PRELOAD`` naming it.

The ``allocator`` setting: ``auto`` (mimalloc, else jemalloc, else glibc's), ``system``
(glibc's), or the path of a shared library.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: Libraries ``auto`` looks for, best first (Debian: libmimalloc2.0, libjemalloc2).
PREFERRED = ("libmimalloc.so.2", "libjemalloc.so.2")
#: Where distributions put shared libraries.
LIBRARY_DIRS = (
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib",
)


def library_for(setting: str, search: tuple[str, ...] = LIBRARY_DIRS) -> Path | None:
    """The allocator library ``setting`` asks for, or None for the system's own.

    >>> library_for("system") is None
    True
    >>> library_for("auto", search=()) is None
    True

    :raises ValueError: if ``setting`` names a file that does not exist.
    """
    if setting == "system":
        return None
    if setting == "auto":
        for name in PREFERRED:
            for directory in search:
                candidate = Path(directory) / name
                if candidate.is_file():
                    return candidate
        return None
    path = Path(setting)
    if not path.is_file():
        raise ValueError(
            f"allocator {setting!r} is not a file; use auto, system or the path of a shared library"
        )
    return path


def preloaded(library: Path, environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """True when ``library`` is already in ``LD_PRELOAD``.

    >>> preloaded(Path("/usr/lib/libm.so.2"), {"LD_PRELOAD": "/x.so /usr/lib/libm.so.2"})
    True
    """
    return str(library) in environ.get("LD_PRELOAD", "").replace(":", " ").split()


def restart_with(library: Path) -> None:
    """Replace this process with the same command run with ``library`` preloaded.

    Does nothing when it is preloaded already (so the restarted process goes on), or on a
    platform without ``LD_PRELOAD``.
    """
    if not sys.platform.startswith("linux") or preloaded(library):
        return
    current = os.environ.get("LD_PRELOAD", "")
    environ = dict(os.environ, LD_PRELOAD=f"{library} {current}".strip())
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, sys.orig_argv, environ)
