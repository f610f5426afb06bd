"""Keep granian's worker replacement from dropping connections (issue 11: every request answered).

On Linux each granian worker listens on a socket of its own, bound to the same port with
``SO_REUSEPORT``; the kernel spreads new connections over them. Replacing a worker (SIGHUP:
graph.serving.granian_worker) closes the old one's socket, and two kinds of connection were
measured lost then (docs/reliability.md, section 9):

- connections the kernel had queued on the closed socket, not yet accepted: reset, unless
  ``net.ipv4.tcp_migrate_req`` is 1 (Linux >= 5.14), which moves them to another socket of the
  same port (https://docs.kernel.org/networking/ip-sysctl.html). A host setting: the server
  only warns (:func:`migration_warning`), the operator sets it;
- connections the old worker had accepted but whose request had not arrived yet: on a graceful
  shutdown hyper closes a connection that has read nothing (``has_initial_read_write_state``
  in hyper's ``proto/h1/dispatch.rs``), so the request, sent a moment later, gets no answer.
  ``TCP_DEFER_ACCEPT`` on the worker's socket makes the kernel hand over a connection only
  once its first bytes are in (:func:`defer_accept`): hyper reads them at once, and a
  connection with a request started is answered before the worker stops.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

#: The kernel's switch for moving queued connections off a closed ``SO_REUSEPORT`` socket.
MIGRATE_SYSCTL = Path("/proc/sys/net/ipv4/tcp_migrate_req")
#: ``TCP_DEFER_ACCEPT``'s value, seconds of SYN-ACK retransmission for a silent client. A
#: connection that sends nothing is never handed to the worker: the kernel keeps it as a request
#: socket (no worker thread, no memory of ours) until its first bytes come, then granian's
#: header timeout (``body_timeout``) starts. Measured: a request sent 10, 40, 70 or 100 s after
#: the connection was made was answered 200.
DEFER_SECONDS = 1
#: How long a worker looks for the socket granian makes after the app factory returns, seconds.
FIND_FOR = 30.0

log = logging.getLogger("kg")


def migration_warning(setting: Path = MIGRATE_SYSCTL) -> str:
    """What the operator should know when the kernel resets queued connections on worker
    replacement, or "" when it migrates them (or the platform shares one socket).

    >>> migration_warning(Path("/nonexistent")).startswith("this kernel") or sys.platform != "linux"
    True
    """
    if sys.platform != "linux":
        return ""  # granian shares one listening socket between its workers there
    try:
        value = setting.read_text().strip()
    except OSError:
        return (
            "this kernel cannot move queued connections to another worker (Linux >= 5.14 has "
            "net.ipv4.tcp_migrate_req): connections waiting for a worker are reset when "
            "granian replaces it (after runaway queries, or on SIGHUP)"
        )
    if value != "0":
        return ""
    return (
        "net.ipv4.tcp_migrate_req is 0: connections waiting for a worker are reset when granian "
        "replaces it (after runaway queries, or on SIGHUP); set it to 1 (as root: sysctl -w "
        "net.ipv4.tcp_migrate_req=1, and in /etc/sysctl.d to keep it)"
    )


def defer_accept(port: int, seconds: int = DEFER_SECONDS) -> int:
    """Set ``TCP_DEFER_ACCEPT`` on this process's listening TCP sockets on ``port``; how many.

    granian makes its socket itself, with no option for this, so it is found among the
    process's open files; the option is set through a duplicate of its descriptor.
    """
    done = 0
    with contextlib.suppress(FileNotFoundError):  # no /proc: not Linux
        for entry in os.scandir("/proc/self/fd"):
            try:
                target = os.readlink(entry.path)
            except OSError:  # closed meanwhile
                continue
            if target.startswith("socket:"):
                done += _defer_one(int(entry.name), port, seconds)
    return done


def _defer_one(fd: int, port: int, seconds: int) -> int:
    """1 if ``fd`` is a listening TCP socket on ``port``, now deferring its accepts, else 0."""
    try:
        sock = socket.socket(fileno=os.dup(fd))
    except OSError:  # closed meanwhile, or not a socket
        return 0
    with sock:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return 0
        if sock.type != socket.SOCK_STREAM:
            return 0
        if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            return 0
        if sock.getsockname()[1] != port:
            return 0
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, seconds)
        return 1


def defer_accept_once_listening(
    port: int, then: Callable[[], None] | None = None
) -> threading.Thread:
    """In a granian worker: :func:`defer_accept` as soon as granian has made the worker's
    socket (just after the app factory returns), from a daemon thread; ``then`` is called
    once it has been found (the worker listens)."""

    def find() -> None:
        until = time.monotonic() + FIND_FOR
        while time.monotonic() < until:
            if defer_accept(port):
                if then is not None:
                    then()
                return
            time.sleep(0.01)
        log.warning("no listening socket on port %d found to set TCP_DEFER_ACCEPT on", port)

    thread = threading.Thread(target=find, name="kg-defer-accept", daemon=True)
    thread.start()
    return thread
