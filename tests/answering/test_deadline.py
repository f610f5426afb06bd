"""The deadline handoff and the exact result limit, below the HTTP layer."""

from __future__ import annotations

import threading
import time

import pytest

from graph.answering import deadline
from graph.core.errors import QueryTimeout
from graph.store import TooManyResults, memory_store, run_query, serialize_limited

#: The stack this trivial work needs: small enough for any thread to run it in place.
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


def test_helper_threads_end_with_their_request_threads() -> None:
    def request() -> None:
        deadline.with_deadline(lambda: None, 5, stack=SMALL)

    # Only the helpers this test starts: other tests' helpers (a runaway still sleeping, say)
    # may start or end meanwhile.
    def helpers() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "kg-eval"}

    before = helpers()
    for _ in range(10):
        thread = threading.Thread(target=request)
        thread.start()
        thread.join()
    until = time.monotonic() + 5
    while helpers() - before and time.monotonic() < until:
        time.sleep(0.05)
    assert not helpers() - before


def test_watched_work_runs_on_the_calling_thread_and_returns() -> None:
    overruns: list[str] = []
    caller = threading.get_ident()
    ran_on = deadline.run_watched(
        threading.get_ident, 5, lambda _error: overruns.append("x"), stack=SMALL
    )
    assert ran_on == caller and overruns == []
    with pytest.raises(KeyError, match="missing"):
        deadline.run_watched(
            lambda: dict[str, int]()["missing"], 5, lambda _error: overruns.append("x"), stack=SMALL
        )
    assert overruns == []


def test_watchdog_answers_an_overrun_once_and_the_late_result_is_abandoned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    retired = threading.Event()
    monkeypatch.setattr(deadline, "runaway_hook", retired.set)
    answers: list[float] = []
    started = time.monotonic()

    def slow() -> str:
        time.sleep(0.6)
        return "too late"

    with pytest.raises(deadline.Abandoned):
        deadline.run_watched(
            slow, 0.2, lambda _error: answers.append(time.monotonic() - started), stack=SMALL
        )
    assert len(answers) == 1
    # Answered at the limit (give or take the watchdog's interval), not when the work ended.
    assert 0.2 <= answers[0] < 0.2 + deadline.WATCH_INTERVAL + 0.3
    assert retired.is_set()


def test_while_one_thread_is_stuck_in_place_the_others_still_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A runaway keeps its thread; the next request must not wait for it, nor get stuck too.

    Once the watchdog has answered the runaway, its turn to evaluate in place is given up: the
    next query evaluates in place again (issue 11: no hand-off cost for every later query).
    """
    monkeypatch.setattr(deadline, "runaway_hook", lambda: None)
    release, stuck = threading.Event(), threading.Event()

    def run_away() -> None:
        def work() -> None:
            stuck.set()
            release.wait()

        with pytest.raises(deadline.Abandoned):
            deadline.run_watched(work, 0.1, lambda _error: None, stack=SMALL)

    runaway = threading.Thread(target=run_away)
    runaway.start()
    assert stuck.wait(5)
    time.sleep(0.3)  # past the runaway's deadline: the watchdog has answered it
    assert (
        deadline.run_watched(threading.get_ident, 5, lambda _error: None, stack=SMALL)
        == threading.get_ident()
    )
    # And a runaway of its own is answered at the limit too, by the watchdog.
    answers: list[QueryTimeout] = []
    with pytest.raises(deadline.Abandoned):
        deadline.run_watched(lambda: time.sleep(1), 0.2, answers.append, stack=SMALL)
    assert len(answers) == 1 and isinstance(answers[0], QueryTimeout)
    release.set()
    runaway.join(5)
    assert not runaway.is_alive()
    assert (
        deadline.run_watched(threading.get_ident, 5, lambda _error: None, stack=SMALL)
        == threading.get_ident()
    )


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
