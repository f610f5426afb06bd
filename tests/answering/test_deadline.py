"""The deadline handoff and the exact result limit, below the HTTP layer."""

from __future__ import annotations

import os
import threading

import pytest

from graph.answering import deadline
from graph.core.errors import QueryTimeout
from graph.store import TooManyResults, memory_store, run_query, serialize_limited

#: The stack this trivial work needs.
SMALL = 1 << 20
THREE_ROWS = 'SELECT ?x { VALUES ?x { "a" "b\\nc" "d,\\"e" } }'


def test_work_result_and_errors_come_back() -> None:
    assert deadline.with_deadline(lambda: 42, 5, stack=SMALL) == 42
    with pytest.raises(KeyError, match="missing"):
        deadline.with_deadline(lambda: {}["missing"], 5, stack=SMALL)


def test_overrun_raises_timeout_and_calls_the_runaway_hook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    called = threading.Event()
    monkeypatch.setattr(deadline, "runaway_hook", called.set)
    release = threading.Event()
    with pytest.raises(QueryTimeout, match=r"time limit of 0\.2 s"):
        deadline.with_deadline(release.wait, 0.2, stack=SMALL)
    assert called.is_set()
    # The thread's next query gets a fresh helper while the stuck one is still busy.
    assert deadline.with_deadline(lambda: "next", 5, stack=SMALL) == "next"
    release.set()


def test_request_threads_share_idle_helpers() -> None:
    """Helpers are pooled, not owned: request threads one after another (granian spreads
    requests over its threads) get the helper used last, not one thread each."""
    helpers: list[int] = []

    def request() -> None:
        helpers.append(deadline.with_deadline(threading.get_ident, 5, stack=SMALL))

    for _ in range(10):
        thread = threading.Thread(target=request)
        thread.start()
        thread.join()
    assert len(helpers) == 10 and len(set(helpers)) == 1


def test_idle_helpers_are_bounded() -> None:
    """After a burst, at most MAX_IDLE helpers per stack size wait for work; the others end."""
    stack = SMALL * 3  # a size of its own: other tests' helpers are not counted
    started, release = threading.Barrier(deadline.MAX_IDLE + 5), threading.Event()

    def request() -> None:
        deadline.with_deadline(lambda: started.wait(5) and release.wait(5), 10, stack=stack)

    threads = [threading.Thread(target=request) for _ in range(deadline.MAX_IDLE + 5)]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join()
    size = 1 << max(stack - 1, 0).bit_length()
    assert len(deadline._idle[size]) == deadline.MAX_IDLE


def test_while_one_request_thread_is_stuck_the_others_still_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A runaway keeps its helper thread; other requests must not wait for it, nor get stuck.

    A helper stuck in a runaway never goes back to the idle pool, so another thread's query is
    answered while the runaway's helper is still busy, and a runaway of its own is answered at
    the limit too.
    """
    monkeypatch.setattr(deadline, "runaway_hook", lambda: None)
    release, stuck = threading.Event(), threading.Event()
    timeouts: list[QueryTimeout] = []

    def run_away() -> None:
        def work() -> None:
            stuck.set()
            release.wait()

        try:
            deadline.with_deadline(work, 0.1, stack=SMALL)
        except QueryTimeout as error:
            timeouts.append(error)

    runaway = threading.Thread(target=run_away)
    runaway.start()
    try:
        assert stuck.wait(5)
        runaway.join(5)  # answered at its limit, though its helper is still stuck
        assert not runaway.is_alive() and len(timeouts) == 1
        caller = threading.get_ident()
        assert deadline.with_deadline(threading.get_ident, 5, stack=SMALL) != caller
        with pytest.raises(QueryTimeout, match=r"time limit of 0\.2 s"):
            deadline.with_deadline(release.wait, 0.2, stack=SMALL)
        assert deadline.with_deadline(lambda: "next", 5, stack=SMALL) == "next"
    finally:
        release.set()


@pytest.mark.parametrize(
    "media_type",
    [
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
    ],
)
def test_limit_counts_rows_exactly_in_every_format(media_type: str) -> None:
    store = memory_store()
    assert serialize_limited(run_query(store, THREE_ROWS), media_type, 3)
    with pytest.raises(TooManyResults):
        serialize_limited(run_query(store, THREE_ROWS), media_type, 2)


def test_a_forked_child_gets_its_own_helper_thread() -> None:
    """The parent's helpers do not survive a fork: the child must not hand them work."""
    # Under a memory budget (as served) the helper goes back to the pool for the next query.
    assert deadline.with_deadline(lambda: 1, 5, stack=SMALL, budget=1 << 40) == 1
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer within the limit, or say it timed out
        try:
            answer = deadline.with_deadline(lambda: b"ok", 2, stack=SMALL, retire=False)
        except Exception as error:  # any failure is reported to the parent
            answer = type(error).__name__.encode()
        os.write(write, answer)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        got = pipe.read()
    os.waitpid(pid, 0)
    assert got == b"ok"


@pytest.mark.parametrize("budget", [0, 1 << 40])
def test_a_request_thread_keeps_its_helper_from_one_query_to_the_next(budget: int) -> None:
    """A helper goes back to the pool after each query, with a memory budget or without one
    (external stores): starting a thread for every query would cost more than a point lookup."""
    first = deadline.with_deadline(threading.get_ident, 5, stack=SMALL, budget=budget)
    second = deadline.with_deadline(threading.get_ident, 5, stack=SMALL, budget=budget)
    assert first == second != threading.get_ident()
