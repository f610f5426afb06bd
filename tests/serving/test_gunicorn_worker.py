"""graph.serving.gunicorn_worker: the watchdog that cuts off request heads past their deadline."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from graph.serving.gunicorn_worker import TOO_SLOW, Watchdog


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    """(the server's end, the client's end) of a connection."""
    server, client = socket.socketpair()
    client.settimeout(10)
    yield server, client
    server.close()
    client.close()


def eventually(condition: object, seconds: float = 10.0) -> None:
    """Wait until ``condition()`` holds (a bounded wait, not a timing assertion)."""
    stop = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < stop, "the condition never held"
        time.sleep(0.01)


def test_a_head_past_its_deadline_gets_408_and_its_read_side_shut(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    server, client = pair
    Watchdog().watch(server, 0.05)
    assert client.recv(len(TOO_SLOW) + 10) == TOO_SLOW
    # The read side is shut: the parser reading this socket sees the end of the stream.
    server.settimeout(10)
    assert server.recv(10) == b""


def test_a_cancelled_head_is_left_alone(pair: tuple[socket.socket, socket.socket]) -> None:
    server, client = pair
    watchdog = Watchdog()
    watchdog.cancel(watchdog.watch(server, 0.05))
    # A later socket past its deadline shows the thread has looked after the first deadline.
    other, other_client = socket.socketpair()
    with other, other_client:
        other_client.settimeout(10)
        watchdog.watch(other, 0.1)
        assert other_client.recv(len(TOO_SLOW)) == TOO_SLOW
    client.setblocking(False)
    with pytest.raises(BlockingIOError):
        client.recv(10)


def test_an_earlier_deadline_wakes_the_thread_sooner(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    # The thread sleeps until the earliest pending deadline: a socket watched with a shorter
    # limit than one already pending must not wait for the longer one.
    server, client = pair
    far, far_client = socket.socketpair()
    with far, far_client:
        watchdog = Watchdog()
        watchdog.watch(far, 3600)
        eventually(lambda: watchdog.looks >= 1)
        watchdog.watch(server, 0.05)
        assert client.recv(len(TOO_SLOW)) == TOO_SLOW


def test_heads_read_in_time_do_not_wake_the_thread_each(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    # Requests coming and going, each head in time, while one stays pending: the thread looks
    # once for the first and never for the others (it used to wake for every watch). Every
    # head has the same limit, so each later deadline comes after the pending one.
    server, _ = pair
    watchdog = Watchdog()
    # Its first look, with nothing watched; it then waits holding no lock, so the watch below
    # (which takes the lock) comes after that look and wakes it for exactly one more.
    eventually(lambda: watchdog.looks >= 1)
    watchdog.watch(server, 30)
    eventually(lambda: watchdog.looks >= 2)
    for _ in range(2000):
        watchdog.cancel(watchdog.watch(server, 30))
    time.sleep(0.1)  # a wake-up, had there been one, would have been counted by now
    assert watchdog.looks == 2
    # The struck-off entries do not pile up: the queue is compacted as it grows.
    assert len(watchdog._due) <= 4 * 1 + 1024 + 1
