"""graph.answering.admission: long evaluations demoted to idle priority, per-client limit,
retirement."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from graph.answering import admission, deadline
from graph.answering.admission import Admission, may_restore_priority
from graph.core.errors import TooManyQueries
from graph.http.app import create_app
from graph.store import QuerySyntaxError

needs_priority = pytest.mark.skipif(
    not may_restore_priority(),
    reason="this process may not give a thread back its policy (needs root or CAP_SYS_NICE)",
)


def running(
    lane: Admission, client: str, body: Callable[[threading.Event], None]
) -> tuple[threading.Thread, threading.Event, list[int]]:
    """Start a thread that runs ``body(stop)`` as an evaluation of ``lane`` for ``client``."""
    stop, native = threading.Event(), []

    def run() -> None:
        native.append(threading.get_native_id())
        lane.run(client, lambda: body(stop))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, stop, native


def burn(stop: threading.Event) -> None:
    while not stop.is_set():
        sum(range(1000))


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> bool:
    until = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > until:
            return False
        time.sleep(0.01)
    return True


@pytest.fixture
def lane() -> Iterator[Admission]:
    yield Admission(client_limit=2, retry_after=2.5)


@needs_priority
def test_an_evaluation_using_cpu_is_demoted_to_idle_and_restored_after(lane: Admission) -> None:
    thread, stop, native = running(lane, "a", burn)
    assert wait_for(lambda: bool(native))
    assert wait_for(lambda: os.sched_getscheduler(native[0]) == os.SCHED_IDLE)
    assert lane.long_running() == 1
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
    assert lane.long_running() == 0


@needs_priority
def test_the_thread_gets_its_policy_back_when_the_evaluation_ends(lane: Admission) -> None:
    seen: list[int] = []
    done = threading.Event()

    def run() -> None:
        def work() -> None:
            # Burns CPU until demoted (a busy machine may give it its 50 ms late).
            end = time.monotonic() + 30
            while os.sched_getscheduler(0) != os.SCHED_IDLE and time.monotonic() < end:
                sum(range(1000))
            seen.append(os.sched_getscheduler(0))

        lane.run("a", work)
        seen.append(os.sched_getscheduler(0))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(10)
    assert seen == [os.SCHED_IDLE, os.SCHED_OTHER]


@needs_priority
def test_a_demoted_evaluation_leaves_one_cpu_to_the_others_and_gets_every_cpu_back(
    lane: Admission,
) -> None:
    allowed = os.sched_getaffinity(0)
    pinned = allowed - {max(allowed)} if len(allowed) > 1 else allowed
    seen: list[set[int]] = []
    done = threading.Event()

    def work() -> None:
        end = time.monotonic() + 30
        while os.sched_getaffinity(0) != pinned or os.sched_getscheduler(0) != os.SCHED_IDLE:
            if time.monotonic() > end:
                break
            sum(range(1000))
        seen.append(os.sched_getaffinity(0))

    def run() -> None:
        lane.run("a", work)
        seen.append(os.sched_getaffinity(0))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(35)
    assert seen == [pinned, allowed]
    assert admission.reserved_cpu() == (max(allowed) if len(allowed) > 1 else None)


def test_a_query_waiting_without_cpu_is_not_long(lane: Admission) -> None:
    """Demotion counts CPU time: a query that waited (for a core, for I/O) is not long."""
    thread, stop, native = running(lane, "a", lambda s: s.wait(10))
    time.sleep(admission.DEMOTE_AFTER * 4)
    assert lane.long_running() == 0
    assert os.sched_getscheduler(native[0]) == os.SCHED_OTHER
    stop.set()
    thread.join(5)


def test_a_client_with_too_many_long_queries_gets_429_others_do_not(lane: Admission) -> None:
    threads = [running(lane, "10.0.0.1", burn) for _ in range(2)]
    assert wait_for(lambda: lane.long_running() == 2)
    with pytest.raises(TooManyQueries) as refused:
        lane.admit("10.0.0.1")
    assert refused.value.retry_after == 3
    assert "client_slow_queries" in refused.value.detail
    lane.admit("10.0.0.2")  # another client is not refused
    for thread, stop, _ in threads:
        stop.set()
        thread.join(5)
    lane.admit("10.0.0.1")  # and once they have ended, neither is this one


def test_no_client_limit_when_it_is_zero() -> None:
    lane = Admission(client_limit=0, retry_after=1)
    threads = [running(lane, "10.0.0.1", burn) for _ in range(3)]
    assert wait_for(lambda: lane.long_running() == 3)
    lane.admit("10.0.0.1")
    for thread, stop, _ in threads:
        stop.set()
        thread.join(5)


@needs_priority
def test_a_runaway_retires_the_worker_only_once_enough_run(
    lane: Admission, monkeypatch: pytest.MonkeyPatch
) -> None:
    retired = threading.Event()
    hook = lane.retire_when_crowded(retired.set, timeout=0.2, limit=2)
    first = running(lane, "a", lambda s: s.wait(10))
    time.sleep(0.25)
    # As graph.answering.deadline sets it before the hook:
    monkeypatch.setattr(deadline, "retiring", True)
    hook()
    assert not retired.is_set()
    assert deadline.retiring is False  # this worker stays: its connections need not close
    second = running(lane, "b", lambda s: s.wait(10))
    time.sleep(0.25)
    hook()
    assert retired.is_set()
    for thread, stop, _ in (first, second):
        stop.set()
        thread.join(5)


def test_without_demotion_every_runaway_retires_the_worker() -> None:
    lane = Admission(client_limit=2, retry_after=1, demote=False)
    retired = threading.Event()
    lane.retire_when_crowded(retired.set, timeout=0.2, limit=8)()
    assert retired.is_set()


def test_explorer_queries_are_counted_like_sparql_ones(project_store: Path) -> None:
    """The explorer evaluates a visitor's CONSTRUCT: it registers with the app's admission too.

    Demoted to idle priority, the query gets a core only when nothing else wants it: on a
    machine busy with other tests it took over the default 10 s limit (a 503), so this app
    allows more; what is checked is the count, not the machine's load.
    """
    app = create_app(
        {"TESTING": True, "STORE": str(project_store), "WRITE_TOKEN": "", "QUERY_TIMEOUT": 300}
    )
    values = " ".join(str(i) for i in range(100))
    # A million rows filtered out one by one: about a second of CPU, then an empty graph.
    each = " ".join(f"VALUES ?{v} {{ {values} }}" for v in "abc")
    where = f"{each} FILTER(?a + ?b + ?c < 0)"
    query = f"CONSTRUCT {{ ?a <http://example.org/p> ?b }} WHERE {{ {where} }}"
    lane: Admission = app.extensions["kg.admission"]
    answers: list[int] = []
    client = app.test_client()
    explore = threading.Thread(
        target=lambda: answers.append(
            client.get("/explore/elements.json", query_string={"query": query}).status_code
        )
    )
    explore.start()
    peak = 0
    while explore.is_alive():
        peak = max(peak, lane.long_running())
        time.sleep(0.005)
    assert peak == 1 and answers == [200]
    assert lane.long_running() == 0


def test_what_the_evaluation_raises_comes_back_unchanged(lane: Admission) -> None:
    """Frozen dataclass exceptions too: contextlib's context managers set __traceback__ on
    them, which made /export answer 500 for a query that does not parse."""

    def work() -> None:
        raise QuerySyntaxError("SPARQL syntax error at line 1, column 1: expected a query")

    with pytest.raises(QuerySyntaxError, match="line 1, column 1"):
        lane.run("a", work)
    assert lane.long_running() == 0


def demote_once(lane: Admission, client: str, key: int | None) -> None:
    """Run an evaluation for ``client`` of query ``key`` that burns CPU until demoted."""

    def work() -> None:
        end = time.monotonic() + 30
        while os.sched_getscheduler(0) != os.SCHED_IDLE and time.monotonic() < end:
            sum(range(1000))

    thread = threading.Thread(target=lambda: lane.run(client, work, key=key), daemon=True)
    thread.start()
    thread.join(35)
    assert wait_for(lambda: lane.long_running() == 0)


def policies(lane: Admission, client: str, key: int | None) -> tuple[int, int]:
    """The policy of a short evaluation's thread at its start, and the thread's after it."""
    seen: list[int] = []

    def run() -> None:
        lane.run(client, lambda: seen.append(os.sched_getscheduler(0)), key=key)
        seen.append(os.sched_getscheduler(0))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(5)
    assert len(seen) == 2
    return seen[0], seen[1]


IDLE_THEN_BACK = (os.SCHED_IDLE, os.SCHED_OTHER)
NORMAL = (os.SCHED_OTHER, os.SCHED_OTHER)


@needs_priority
def test_a_suspect_clients_next_evaluation_starts_at_idle_priority_a_strangers_does_not() -> None:
    lane = Admission(client_limit=0, retry_after=1, suspect_window=60)
    runaway = admission.query_key("SELECT * WHERE { ?s ?p ?o }")
    demote_once(lane, "10.0.0.1", runaway)
    other = admission.query_key("ASK {}")
    # Any query of the client's (an attacker varying the text) and the runaway's query from
    # any client (a retry from elsewhere) start demoted, and end with their policy back.
    assert policies(lane, "10.0.0.1", other) == IDLE_THEN_BACK
    assert policies(lane, "10.0.0.2", runaway) == IDLE_THEN_BACK
    assert policies(lane, "10.0.0.2", other) == NORMAL
    assert policies(lane, "10.0.0.3", None) == NORMAL
    # Started demoted or not, a short evaluation is not long: no client limit counts it.
    assert lane.long_running() == 0


@needs_priority
def test_a_suspect_starts_off_the_reserved_cpu() -> None:
    lane = Admission(client_limit=0, retry_after=1, suspect_window=60)
    demote_once(lane, "10.0.0.1", None)
    allowed = os.sched_getaffinity(0)
    seen: list[set[int]] = []
    done = threading.Event()

    def run() -> None:
        lane.run("10.0.0.1", lambda: seen.append(os.sched_getaffinity(0)))
        seen.append(os.sched_getaffinity(0))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(5)
    pinned = allowed - {max(allowed)} if len(allowed) > 1 else allowed
    assert seen == [pinned, allowed]


@needs_priority
def test_suspects_are_forgotten_after_the_window() -> None:
    lane = Admission(client_limit=0, retry_after=1, suspect_window=0.5)
    key = admission.query_key("SELECT * WHERE { ?s ?p ?o }")
    demote_once(lane, "10.0.0.1", key)
    assert policies(lane, "10.0.0.1", None) == IDLE_THEN_BACK
    time.sleep(0.6)
    assert policies(lane, "10.0.0.1", None) == NORMAL
    assert policies(lane, "10.0.0.2", key) == NORMAL


@pytest.mark.parametrize(
    ("demote", "window"), [(True, 0.0), (False, 60.0)], ids=["no window", "no demotion"]
)
def test_no_suspects_without_a_window_or_without_demotion(demote: bool, window: float) -> None:
    lane = Admission(client_limit=0, retry_after=1, demote=demote, suspect_window=window)
    thread, stop, _ = running(lane, "10.0.0.1", burn)
    assert wait_for(lambda: lane.long_running() == 1)
    stop.set()
    thread.join(5)
    assert policies(lane, "10.0.0.1", None) == NORMAL


def test_a_query_key_is_its_text_and_dataset() -> None:
    text = "SELECT * WHERE { ?s ?p ?o }"
    assert admission.query_key(text) == admission.query_key(text, (), ())
    assert admission.query_key(text) != admission.query_key(text + " ")
    assert admission.query_key(text, ("http://example.org/g",)) != admission.query_key(text)
    assert admission.query_key(text, (), ("http://example.org/g",)) != admission.query_key(
        text, ("http://example.org/g",)
    )


@needs_priority
def test_a_long_evaluation_steps_down_to_nice_then_idle_and_gets_its_own_nice_back(
    lane: Admission, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ample CPU time between the two steps, so that a monitor kept from a core on a busy
    # machine still looks in between.
    monkeypatch.setattr(admission, "DEMOTE_AFTER", 0.5)
    seen: list[tuple[int, int]] = []
    done = threading.Event()

    def work() -> None:
        native, end = threading.get_native_id(), time.monotonic() + 30
        while time.monotonic() < end:
            step = (os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, native))
            if not seen or seen[-1] != step:
                seen.append(step)
            if step[0] == os.SCHED_IDLE:
                break
            sum(range(1000))

    def run() -> None:
        native = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, native, 2)  # its own nice, not 0, comes back
        lane.run("a", work)
        seen.append((os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, native)))
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(35)
    ladder = admission.LADDER_NICE
    assert seen == [
        (os.SCHED_OTHER, 2),
        (os.SCHED_OTHER, ladder),
        (os.SCHED_IDLE, ladder),
        (os.SCHED_OTHER, 2),
    ]
