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
    stop_alone._last_stop.value, stop_alone._stopped.value, stop_alone._explained = 0.0, 0, 0
    deadline.retiring = False
    yield
    stop_alone._last_stop.value, stop_alone._stopped.value, stop_alone._explained = saved
    deadline.retiring = False


def test_one_worker_at_a_time(fresh: None) -> None:
    """The first worker may stop at once; the next waits until the first has been replaced
    (STAGGER plus the time its in-flight queries may take)."""
    assert stop_alone._take_turn(query_timeout=2) == 0
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
    monkeypatch.setattr(stop_alone, "_stop", lambda timeout, draining: stops.append(draining))
    retire = stop_alone.retire_alone(query_timeout=1)
    for _ in range(3):
        deadline.retiring = True
        retire()
        assert deadline.retiring is False
    time.sleep(0.1)  # the stopping thread has run
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
