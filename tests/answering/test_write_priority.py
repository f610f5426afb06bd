"""A write runs at a lower CPU priority than reads, on its own thread, for its span only
(graph.answering.write_priority; issue 12, "reads keep their latency while writes run").

Real threads and the kernel's per-thread nice values: each write records the nice value of
the thread running it while it is checked, and the thread's value is read again after.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import pytest

from graph.answering import deadline, write_priority, writes
from graph.answering import stack as stacks
from graph.answering.admission import may_restore_priority
from graph.answering.store_version import StoreVersion
from graph.answering.write_priority import NICENESS, LoweredPriority
from graph.answering.writes import Shapes, Writable, load_shapes
from graph.core.errors import ShapeViolation
from graph.core.namespaces import CANONICAL_BASE
from graph.store import NamedNode, Quad, Store
from tests.paths import MINI

needs_priority = pytest.mark.skipif(
    not may_restore_priority(),
    reason="this process may not give a thread back its priority (needs root or CAP_SYS_NICE)",
)
GRAPH = CANONICAL_BASE + "graph/priority-test"
COUNTRY = "https://w3id.org/alliance-graph/id/country/"
AG = "https://w3id.org/alliance-graph/ontology#"


def niceness() -> int:
    """This thread's nice value (Linux: per thread)."""
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.fixture
def target(writable: Store) -> Writable:
    return Writable(writable, load_shapes(str(MINI), CANONICAL_BASE), StoreVersion())


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The nice value of the thread running each write, as its change is checked."""
    values: list[int] = []
    real = writes.check

    def recording(store: Store, change: object, shapes: Shapes, *known: object) -> object:
        values.append(niceness())
        return real(store, change, shapes, *known)  # type: ignore[arg-type]

    monkeypatch.setattr(writes, "check", recording)
    return values


WRITE_KINDS: dict[str, Callable[[Writable], object]] = {
    "update": lambda t: writes.checked_update(
        t, f"INSERT DATA {{ GRAPH <{GRAPH}> {{ <urn:s> <urn:p> <urn:o> }} }}"
    ),
    "put": lambda t: writes.replace_graph(
        t, GRAPH, [Quad(NamedNode("urn:s"), NamedNode("urn:p"), NamedNode("urn:o"))]
    ),
    "post": lambda t: writes.add_to_graph(
        t, GRAPH, [Quad(NamedNode("urn:s"), NamedNode("urn:p"), NamedNode("urn:o"))]
    ),
}


def on_a_thread(work: Callable[[], object], start_at: int = 0) -> tuple[int, int, object]:
    """Run ``work`` on a new thread at nice ``start_at``: (its value before, after, what
    ``work`` returned or raised)."""
    outcome: list[object] = []

    def run() -> None:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), start_at)
        before = niceness()
        try:
            result: object = work()
        except Exception as error:  # handed to the test, which asserts on its type
            result = error
        outcome.extend([before, niceness(), result])

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    before, after, result = outcome
    return before, after, result  # type: ignore[return-value]


@needs_priority
@pytest.mark.parametrize("kind", sorted(WRITE_KINDS))
def test_a_write_runs_at_the_lower_priority_and_its_thread_gets_its_own_back(
    target: Writable, seen: list[int], kind: str
) -> None:
    before, after, result = on_a_thread(lambda: WRITE_KINDS[kind](target))
    assert not isinstance(result, Exception), result
    assert (before, seen, after) == (0, [NICENESS], 0)


@needs_priority
def test_a_refused_write_gives_its_thread_its_priority_back(
    target: Writable, seen: list[int]
) -> None:
    update = (
        f"INSERT DATA {{ GRAPH <{GRAPH}> {{ <{COUNTRY}honduras> <{AG}iso3166Alpha2> \"HO\" }} }}"
    )
    _, after, result = on_a_thread(lambda: writes.checked_update(target, update))
    assert isinstance(result, ShapeViolation)
    assert (seen, after) == ([NICENESS], 0)


@needs_priority
def test_a_delete_runs_at_the_lower_priority(target: Writable, seen: list[int]) -> None:
    WRITE_KINDS["put"](target)
    seen.clear()
    _, after, result = on_a_thread(lambda: writes.delete_graph(target, GRAPH))
    assert result is None
    assert (seen, after) == ([NICENESS], 0)


@needs_priority
def test_a_thread_already_lower_keeps_its_own_value(target: Writable, seen: list[int]) -> None:
    before, after, _ = on_a_thread(lambda: WRITE_KINDS["update"](target), start_at=15)
    assert (before, seen, after) == (15, [15], 15)


def test_nothing_changes_where_priorities_cannot_be_restored(
    target: Writable, seen: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A helper thread left at nice 10 would serve every later read at that priority.
    monkeypatch.setattr(write_priority, "may_restore_priority", lambda: False)
    before, after, _ = on_a_thread(lambda: WRITE_KINDS["update"](target))
    assert seen == [before] == [after]


@needs_priority
def test_the_helper_thread_of_a_write_serves_the_next_read_at_its_own_priority(
    target: Writable, seen: list[int]
) -> None:
    # HTTP writes run on the helper threads (graph.answering.deadline) that reads run on too.
    def write() -> int:
        WRITE_KINDS["update"](target)
        return threading.get_native_id()

    def read() -> tuple[int, int]:
        return threading.get_native_id(), niceness()

    writer = deadline.with_deadline(write, 10, stack=stacks.stack_for(0))
    reader, value = deadline.with_deadline(read, 10, stack=stacks.stack_for(0))
    assert reader == writer  # the same helper (the idle pool is last-in first-out)
    assert (seen, value) == ([NICENESS], 0)


@needs_priority
def test_lowered_priority_spans_its_block_only() -> None:
    def body() -> tuple[int, int]:
        with LoweredPriority():
            inside = niceness()
        return inside, niceness()

    _, _, result = on_a_thread(body)
    assert result == (NICENESS, 0)
