"""graph.serving.listener: the warning about tcp_migrate_req, and TCP_DEFER_ACCEPT found and set."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from graph.serving import listener

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="per-worker sockets: Linux only")


@linux_only
def test_a_kernel_that_resets_queued_connections_is_named_with_the_fix(tmp_path: Path) -> None:
    setting = tmp_path / "tcp_migrate_req"
    setting.write_text("0\n")
    warning = listener.migration_warning(setting)
    assert "net.ipv4.tcp_migrate_req is 0" in warning
    assert "sysctl -w net.ipv4.tcp_migrate_req=1" in warning
    assert "reset" in warning
    setting.write_text("1\n")
    assert listener.migration_warning(setting) == ""


@linux_only
def test_a_kernel_without_the_setting_is_named(tmp_path: Path) -> None:
    warning = listener.migration_warning(tmp_path / "absent")
    assert "Linux >= 5.14" in warning


@linux_only
def test_only_the_listening_socket_on_the_port_defers_its_accepts() -> None:
    with socket.socket() as server, socket.socket() as other:
        server.bind(("127.0.0.1", 0))
        server.listen()
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):
            accepted, _ = server.accept()  # a connected socket on the same local port
            with accepted:
                assert listener.defer_accept(port) == 1
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT) == 0
        assert server.getsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT) > 0
        assert other.getsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT) == 0
        # The socket is still open and accepting: the option went through a duplicate.
        with socket.create_connection(("127.0.0.1", port)) as late:
            late.sendall(b"x")
            accepted, _ = server.accept()
            with accepted:
                assert accepted.recv(1) == b"x"

def test_no_listening_socket_on_the_port_sets_nothing() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening
        assert listener.defer_accept(port) == 0
