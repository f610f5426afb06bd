"""graph.answering.sandbox: after deny_network() no thread of the process opens a network socket.

Each check runs in a child process: a seccomp filter cannot be removed, and pytest's own
process must keep its network.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from graph.answering.sandbox import network_needed
from tests.listener import Listener

CHILD = textwrap.dedent(
    """
    import errno, socket, sys, threading
    import pyoxigraph
    from graph.answering import sandbox

    url = sys.argv[1]
    started = threading.Event(); go = threading.Event(); seen = []

    def older_thread():  # exists before the filter: TSYNC must cover it too
        started.set(); go.wait()
        try:
            socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1].strip("/"))))
            seen.append("connected")
        except OSError as error:
            seen.append(error.errno)

    thread = threading.Thread(target=older_thread); thread.start(); started.wait()
    assert not sandbox.active()
    sandbox.deny_network()
    assert sandbox.active()
    go.set(); thread.join()
    print("older thread:", seen)
    for family in (socket.AF_INET, socket.AF_INET6, socket.AF_PACKET, socket.AF_NETLINK):
        try:
            socket.socket(family, socket.SOCK_DGRAM if family != socket.AF_INET else 1)
            print(family.name, "opened")
        except OSError as error:
            print(family.name, errno.errorcode[error.errno])
    left, right = socket.socketpair()
    left.sendall(b"x"); print("unix:", right.recv(1))
    store = pyoxigraph.Store()
    for text in ("SELECT * { SERVICE <%s> { ?s ?p ?o } }" % url,
                 "SELECT * { SERVICE <http://localhost:1234/> { ?s ?p ?o } }"):
        try:
            list(store.query(text))
            print("service answered")
        except OSError as error:
            print("service:", type(error).__name__)
    try:
        store.update("LOAD <%sdata.ttl>" % url)
        print("load done")
    except OSError as error:
        print("load:", type(error).__name__)
    """
)


def test_no_thread_can_open_a_network_socket_once_the_filter_is_loaded() -> None:
    listener = Listener()
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, listener.url],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        listener.sock.close()
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "older thread: [1]"  # EPERM
    assert lines[1:5] == ["AF_INET EPERM", "AF_INET6 EPERM", "AF_PACKET EPERM", "AF_NETLINK EPERM"]
    assert lines[5] == "unix: b'x'"
    assert lines[6:] == ["service: PermissionError"] * 2 + ["load: PermissionError"]
    assert listener.connections == 0


def test_the_network_is_kept_where_the_server_needs_it() -> None:
    assert network_needed({"STORE": "var/store", "SERVICE_ALLOWLIST": ()}) is None
    assert network_needed({"STORE": "https://db.example/", "SERVICE_ALLOWLIST": ()})
    assert network_needed({"STORE": "var/store", "SERVICE_ALLOWLIST": ("https://a.example/",)})
