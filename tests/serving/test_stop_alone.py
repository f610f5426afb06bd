"""A crowded granian worker stops itself, one at a time (graph.serving.stop_alone).

The whole behaviour against a real granian is in tests/serving/test_replacement.py; these check
the rules on their own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest

from graph.answering import deadline
from graph.serving import stop_alone


@pytest.fixture
def fresh() -> Iterator[None]:
    """No worker stopped yet, none explained, this one not retiring (and the same after)."""
    saved = stop_alone._last_stop.value, stop_alone._stopped.value, stop_alone._explained
    listening = stop_alone._listening.value
    stop_alone._last_stop.value, stop_alone._stopped.value, stop_alone._explained = 0.0, 0, 0
    stop_alone._listening.value = 0
    deadline.retiring = False
    yield
    stop_alone._last_stop.value, stop_alone._stopped.value, stop_alone._explained = saved
    stop_alone._listening.value = listening
    deadline.retiring = False


def test_one_worker_at_a_time(fresh: None) -> None:
    """The first worker may stop at once; the next waits until the first has been replaced
    (STAGGER plus the time its in-flight queries may take)."""
    stop_alone.listening(workers=1)
    assert stop_alone._take_turn(query_timeout=2) == 0
    stop_alone.listening(workers=1)  # its successor listens
    wait = stop_alone._take_turn(query_timeout=2)
    assert stop_alone.STAGGER + 2 - 0.5 < wait <= stop_alone.STAGGER + 2
    stop_alone._last_stop.value = time.monotonic() - stop_alone.STAGGER - 2
    assert stop_alone._take_turn(query_timeout=2) == 0


def test_a_crowded_worker_keeps_its_connections_until_it_drains(
    fresh: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """graph.answering.deadline marks the worker retiring at every runaway; until its drain
    starts the worker answers without Connection: close, and it asks to stop once."""
    stops: list[threading.Event] = []
    # Not the real stop: it would send SIGTERM to this test process.
    monkeypatch.setattr(stop_alone, "_stop", lambda _t, _w, draining: stops.append(draining))
    retire = stop_alone.retire_alone(query_timeout=1)
    for _ in range(3):
        deadline.retiring = True
        retire()
        assert deadline.retiring is False
    for thread in threading.enumerate():  # every stopping thread has run (not a fixed 0.1 s)
        if thread.name == "kg-stop-alone":
            thread.join(timeout=30)
    assert len(stops) == 1
    stops[0].set()  # the drain has started: from now on the worker closes its connections
    deadline.retiring = True
    retire()
    assert deadline.retiring is True


def test_granians_error_is_relabelled_once_per_worker_that_stopped_itself(fresh: None) -> None:
    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("_granian", logging.ERROR, __file__, 1, message, (), None)

    stop_alone._stopped.value = 1  # one worker stopped itself (shared memory)
    first, second = record("Unexpected exit from worker-2"), record("Unexpected exit from worker-1")
    assert stop_alone.explain_exit(first) and stop_alone.explain_exit(second)
    assert first.levelno == logging.INFO
    assert first.getMessage() == "worker-2 stopped itself (runaways); respawning it alone"
    # A second exit with no worker having stopped itself is a real crash: left as granian says.
    assert second.levelno == logging.ERROR
    assert second.getMessage() == "Unexpected exit from worker-1"


def test_no_worker_stops_while_another_is_not_listening(fresh: None) -> None:
    """A stopping worker's graceful stop can outlast the stagger, and granian respawns it only
    once it has exited: the other worker must wait for the successor's socket, not the clock
    (in CI both workers of a server once stopped at once and lookups were refused)."""
    stop_alone.listening(workers=2)
    assert stop_alone._take_turn(query_timeout=1, workers=2) > 0  # the other is not up yet
    stop_alone.listening(workers=2)
    assert stop_alone._take_turn(query_timeout=1, workers=2) == 0  # worker 1 stops
    stop_alone._last_stop.value = time.monotonic() - stop_alone.STAGGER - 10  # long ago
    # Worker 2 may not stop: worker 1 has not been replaced (its successor does not listen).
    assert stop_alone._take_turn(query_timeout=1, workers=2) == stop_alone.RECHECK
    stop_alone.listening(workers=2)  # worker 1's successor listens
    assert stop_alone._take_turn(query_timeout=1, workers=2) == 0
    # A worker that died without stopping itself is never counted twice.
    for _ in range(3):
        stop_alone.listening(workers=2)
    assert stop_alone._listening.value == 2
