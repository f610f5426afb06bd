"""The deadline handoff and the exact result limit, below the HTTP layer."""

from __future__ import annotations

import threading
import time

import pytest

from graph import evaluate
from graph.errors import QueryTimeout
from graph.store import TooManyResults, memory_store, run_query, serialize_limited

THREE_ROWS = 'SELECT ?x { VALUES ?x { "a" "b\\nc" "d,\\"e" } }'


def test_work_result_and_errors_come_back() -> None:
    assert evaluate.with_deadline(lambda: 42, 5) == 42
    with pytest.raises(KeyError, match="missing"):
        evaluate.with_deadline(lambda: {}["missing"], 5)


def test_overrun_raises_timeout_and_calls_the_runaway_hook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    called = threading.Event()
    monkeypatch.setattr(evaluate, "runaway_hook", called.set)
    release = threading.Event()
    with pytest.raises(QueryTimeout, match=r"time limit of 0\.2 s"):
        evaluate.with_deadline(release.wait, 0.2)
    assert called.is_set()
    # The thread's next query gets a fresh helper while the stuck one is still busy.
    assert evaluate.with_deadline(lambda: "next", 5) == "next"
    release.set()


def test_helper_threads_end_with_their_request_threads() -> None:
    def request() -> None:
        evaluate.with_deadline(lambda: None, 5)

    # Only the helpers this test starts: other tests' helpers (a runaway still sleeping, say)
    # may start or end meanwhile.
    def helpers() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "kg-eval"}

    before = helpers()
    for _ in range(10):
        thread = threading.Thread(target=request)
        thread.start()
        thread.join()
    deadline = time.monotonic() + 5
    while helpers() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not helpers() - before


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
