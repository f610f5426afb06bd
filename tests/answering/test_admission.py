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


def waiting(entered: threading.Event) -> Callable[[threading.Event], None]:
    """A body that sets ``entered`` once its evaluation runs (registered), then waits for stop."""

    def body(stop: threading.Event) -> None:
        entered.set()
        stop.wait(10)

    return body


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
    first = running(lane, "a", waiting(entered := threading.Event()))
    # From its start, not the thread's: under load a thread starts late (a fixed sleep after
    # start() left the second evaluation younger than the limit).
    assert entered.wait(10)
    time.sleep(0.25)
    # As graph.answering.deadline sets it before the hook:
    monkeypatch.setattr(deadline, "retiring", True)
    hook()
    assert not retired.is_set()
    assert deadline.retiring is False  # this worker stays: its connections need not close
    second = running(lane, "b", waiting(entered := threading.Event()))
    assert entered.wait(10)
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


def idle_within(lane: Admission, client: str, key: int | None, cpu: float) -> tuple[bool, int]:
    """Whether an evaluation burning CPU is moved to idle priority before it has used ``cpu``
    seconds of CPU time, and its thread's policy after it."""
    seen: list[int] = []

    def work() -> None:
        end = time.thread_time() + cpu
        while os.sched_getscheduler(0) != os.SCHED_IDLE and time.thread_time() < end:
            sum(range(1000))
        seen.append(os.sched_getscheduler(0))

    def run() -> None:
        lane.run(client, work, key=key)
        seen.append(os.sched_getscheduler(0))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(30)
    assert len(seen) == 2
    return seen[0] == os.SCHED_IDLE, seen[1]


DEMOTED_AND_BACK = (True, os.SCHED_OTHER)
NOT_DEMOTED = (False, os.SCHED_OTHER)
#: CPU seconds a suspect's evaluation is given to be demoted in (it is at the monitor's first
#: look, at most POLL after its start, so this is only room for a busy machine), and long
#: evaluations' DEMOTE_AFTER meanwhile, far above that.
WITHIN, LONG_AFTER = 1.0, 5.0


@needs_priority
def test_a_suspect_clients_or_querys_next_evaluation_is_demoted_at_once_a_strangers_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lane = Admission(client_limit=0, retry_after=1, suspect_window=60)
    runaway = admission.query_key("SELECT * WHERE { ?s ?p ?o }")
    demote_once(lane, "10.0.0.1", runaway)
    monkeypatch.setattr(admission, "DEMOTE_AFTER", LONG_AFTER)
    other = admission.query_key("ASK {}")
    # Any query of the client's (an attacker varying the text) and the runaway's query from
    # any client (a retry from elsewhere) are at idle priority long before LONG_AFTER of CPU;
    # a stranger's other query is not; each thread gets its policy back after.
    assert idle_within(lane, "10.0.0.1", other, WITHIN) == DEMOTED_AND_BACK
    assert idle_within(lane, "10.0.0.2", runaway, WITHIN) == DEMOTED_AND_BACK
    assert idle_within(lane, "10.0.0.2", other, WITHIN) == NOT_DEMOTED
    assert idle_within(lane, "10.0.0.3", None, WITHIN) == NOT_DEMOTED
    # Demoted early, a suspect's evaluation is not long: no client limit counts it.
    assert lane.long_running() == 0


@needs_priority
def test_suspects_are_forgotten_after_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    lane = Admission(client_limit=0, retry_after=1, suspect_window=1.5)
    key = admission.query_key("SELECT * WHERE { ?s ?p ?o }")
    # Checked as soon as it is demoted (remembered), not once its thread has ended: at idle
    # priority on a busy machine that took up to 1 s of the 1.5 s window (two cores spinning).
    stop = threading.Event()
    burner = threading.Thread(
        target=lambda: lane.run("10.0.0.1", lambda: burn(stop), key=key), daemon=True
    )
    burner.start()
    assert wait_for(lambda: lane.long_running() == 1)
    monkeypatch.setattr(admission, "DEMOTE_AFTER", LONG_AFTER)
    assert idle_within(lane, "10.0.0.1", None, WITHIN) == DEMOTED_AND_BACK
    stop.set()
    burner.join(30)
    time.sleep(1.6)
    assert idle_within(lane, "10.0.0.1", None, WITHIN) == NOT_DEMOTED
    assert idle_within(lane, "10.0.0.2", key, WITHIN) == NOT_DEMOTED


@needs_priority
def test_workers_of_one_server_share_their_suspects(monkeypatch: pytest.MonkeyPatch) -> None:
    """graph.serving hands every worker's admission the table made before the fork."""
    first = Admission(client_limit=0, retry_after=1, suspect_window=60)
    second = Admission(client_limit=0, retry_after=1, suspect_window=60)
    second.suspects = first.suspects
    demote_once(first, "10.0.0.1", None)
    monkeypatch.setattr(admission, "DEMOTE_AFTER", LONG_AFTER)
    assert idle_within(second, "10.0.0.1", None, WITHIN) == DEMOTED_AND_BACK


@needs_priority
@pytest.mark.parametrize(
    ("demote", "window"), [(True, 0.0), (False, 60.0)], ids=["no window", "no demotion"]
)
def test_no_suspects_without_a_window_or_without_demotion(
    demote: bool, window: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    lane = Admission(client_limit=0, retry_after=1, demote=demote, suspect_window=window)
    thread, stop, _ = running(lane, "10.0.0.1", burn)
    assert wait_for(lambda: lane.long_running() == 1)
    stop.set()
    thread.join(5)
    monkeypatch.setattr(admission, "DEMOTE_AFTER", LONG_AFTER)
    assert idle_within(lane, "10.0.0.1", None, 0.3) == NOT_DEMOTED


def test_a_query_key_is_its_text_and_dataset() -> None:
    text = "SELECT * WHERE { ?s ?p ?o }"
    assert admission.query_key(text) == admission.query_key(text, (), ())
    assert admission.query_key(text) != admission.query_key(text + " ")
    assert admission.query_key(text, ("http://example.org/g",)) != admission.query_key(text)
    assert admission.query_key(text, (), ("http://example.org/g",)) != admission.query_key(
        text, ("http://example.org/g",)
    )
