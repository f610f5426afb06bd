"""Take the network away from a process that evaluates visitors' SPARQL (issue 11, item 2).

Oxigraph fetches SERVICE endpoints and LOAD sources itself, from inside the evaluation. A check
of the query text before evaluation can only ever be as good as its reading of SPARQL; this
module makes the question moot where nothing needs the network: a seccomp filter
(https://man7.org/linux/man-pages/man2/seccomp.2.html), built with libseccomp, makes every
``socket()`` call of a family other than ``AF_UNIX`` fail with ``EPERM`` in every thread of
the process, present and future. A server worker keeps answering: its connections come from
``accept()`` on the listening socket it inherited, which the filter does not touch.

Also refused, as they could open sockets without calling ``socket()``: io_uring (its
``IORING_OP_SOCKET``). Calls from another syscall ABI (x32, i386 on x86-64) kill the process,
libseccomp's default for a foreign architecture, so ``socketcall`` cannot go round the filter.
A filter cannot be removed once loaded, and children inherit it.
"""

from __future__ import annotations

import errno
import logging
import socket
import tempfile
import threading

from graph.store import network_denied

#: Syscalls refused outright: they could create sockets without ``socket()``.
_REFUSED = ("io_uring_setup", "io_uring_enter", "io_uring_register")

_lock = threading.Lock()
_active = False


class SandboxUnavailable(RuntimeError):
    """The filter could not be installed (no libseccomp, or a kernel without seccomp)."""


def active() -> bool:
    """True once this process can no longer open network sockets."""
    return _active


class NetworkFilter:
    """A seccomp filter, built and ready: :meth:`load` puts it on the whole process."""

    def __init__(self) -> None:
        """Build the filter without loading it.

        :raises SandboxUnavailable: naming what is missing; the caller must not serve then.
        """
        try:
            import pyseccomp as seccomp
        except (ImportError, OSError, RuntimeError) as error:  # it loads libseccomp at import
            raise SandboxUnavailable(
                f"cannot load libseccomp ({error}); install Debian's libseccomp2"
            ) from None
        refuse = seccomp.ERRNO(errno.EPERM)
        self._rules = seccomp.SyscallFilter(seccomp.ALLOW)
        try:
            # Every thread, not just this one: the HTTP server's threads exist already.
            self._rules.set_attr(seccomp.Attr.CTL_TSYNC, 1)
            self._rules.add_rule(refuse, "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
            for name in _REFUSED:
                self._rules.add_rule(refuse, name)
        except OSError as error:
            raise SandboxUnavailable(f"cannot build the seccomp filter: {error}") from None

    def bpf(self) -> bytes:
        """The filter as a classic BPF program, for a child to load before ``exec``
        (graph.answering.engine_plan)."""
        with tempfile.TemporaryFile() as file:
            self._rules.export_bpf(file)
            file.seek(0)
            return file.read()

    def load(self) -> None:
        """Make network sockets impossible in this process from now on (idempotent).

        :raises SandboxUnavailable: when the kernel refuses the filter.
        """
        global _active
        with _lock:
            if _active:
                return
            try:
                self._rules.load()
            except OSError as error:
                raise SandboxUnavailable(f"cannot install the seccomp filter: {error}") from None
            _active = True
            network_denied()
        logging.getLogger("kg").info("sandbox: this process can no longer open network sockets")


def deny_network() -> None:
    """Make network sockets impossible in this process from now on (idempotent).

    :raises SandboxUnavailable: naming what is missing.
    """
    NetworkFilter().load()


def network_needed(config: dict[str, object]) -> str | None:
    """Why a server with the app settings ``config`` needs the network, or None if it does not.

    >>> network_needed({"STORE": "var/store", "SERVICE_ALLOWLIST": ()}) is None
    True
    >>> network_needed({"STORE": "http://db:7878", "SERVICE_ALLOWLIST": ()})
    'the store is external'
    """
    from graph.store import is_remote

    if is_remote(str(config["STORE"])):
        return "the store is external"
    if config["SERVICE_ALLOWLIST"]:
        return "service_allowlist is not empty"
    return None


def worker_filter(config: dict[str, object]) -> NetworkFilter | None:
    """The filter a server worker with the app settings ``config`` must load before it answers
    anything, or None (logged) when it needs the network.

    :raises SandboxUnavailable: when the filter is needed and cannot be built.
    """
    reason = network_needed(config)
    if reason is None:
        return NetworkFilter()
    logging.getLogger("kg").warning(
        "sandbox: not installed because %s; SERVICE and LOAD are checked against the"
        " allow-list only (docs/security.md)",
        reason,
    )
    return None
