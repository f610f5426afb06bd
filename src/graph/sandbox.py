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
import threading

#: Syscalls refused outright: they could create sockets without ``socket()``.
_REFUSED = ("io_uring_setup", "io_uring_enter", "io_uring_register")

_lock = threading.Lock()
_active = False


class SandboxUnavailable(RuntimeError):
    """The filter could not be installed (no libseccomp, or a kernel without seccomp)."""


def active() -> bool:
    """True once this process can no longer open network sockets."""
    return _active


def deny_network() -> None:
    """Make network sockets impossible in this process from now on (idempotent).

    :raises SandboxUnavailable: naming what is missing; the caller must not serve then.
    """
    global _active
    with _lock:
        if _active:
            return
        _load_filter()
        _active = True
    logging.getLogger("kg").info("sandbox: this process can no longer open network sockets")


def _load_filter() -> None:
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as error:  # pyseccomp loads libseccomp.so.2 at import
        raise SandboxUnavailable(
            f"cannot load libseccomp ({error}); install Debian's libseccomp2"
        ) from None
    refuse = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    try:
        # Every thread, not just this one: granian's runtime threads exist already.
        rules.set_attr(seccomp.Attr.CTL_TSYNC, 1)
        rules.add_rule(refuse, "socket", seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
        for name in _REFUSED:
            rules.add_rule(refuse, name)
        rules.load()
    except OSError as error:
        raise SandboxUnavailable(f"cannot install the seccomp filter: {error}") from None


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


def sandbox_worker(config: dict[str, object]) -> None:
    """In a freshly forked server worker: deny the network unless ``config`` needs it.

    :raises SandboxUnavailable: when the filter is needed and cannot be installed.
    """
    reason = network_needed(config)
    if reason is None:
        deny_network()
    else:
        logging.getLogger("kg").warning(
            "sandbox: not installed because %s; SERVICE and LOAD are checked against the"
            " allow-list only (docs/security.md)",
            reason,
        )
