"""graph.answering.suspects: a bounded table of names, shared with forked processes."""

from __future__ import annotations

import os
import time

from graph.answering.suspects import Suspects


def test_a_name_is_known_until_its_time() -> None:
    table, now = Suspects(), time.monotonic()
    assert not table.any(now)
    table.remember("10.0.0.1", now + 5)
    table.remember(1234, now + 1)
    assert table.any(now)
    assert table.known("10.0.0.1", now) and table.known(1234, now)
    assert not table.known("10.0.0.2", now) and not table.known(1235, now)
    assert table.known("10.0.0.1", now + 2) and not table.known(1234, now + 2)
    assert not table.any(now + 6) and not table.known("10.0.0.1", now + 6)


def test_the_table_never_grows_a_newer_name_takes_a_busy_slot() -> None:
    table, now = Suspects(slots=1), time.monotonic()
    table.remember("10.0.0.1", now + 60)
    table.remember("10.0.0.2", now + 60)
    assert table.known("10.0.0.2", now)
    assert not table.known("10.0.0.1", now)


def test_forked_processes_share_what_they_remember() -> None:
    """A server makes the table before it forks its workers: what one worker remembers, its
    siblings and successors know."""
    table, now = Suspects(), time.monotonic()
    child = os.fork()
    if child == 0:  # the child: a worker that saw a runaway from this address
        table.remember("10.0.0.9", now + 60)
        os._exit(0)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert table.known("10.0.0.9", now)
