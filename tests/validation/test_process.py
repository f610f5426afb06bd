"""Validation in a child process (graph.validation.process) reaches this process's verdicts.

Random changes on the mini project's store are validated by the child and by
:func:`graph.validation.change.judge_here` on the same gathered statements, and the reports
compared; blank-node focus nodes keep their names across the pipe; a child that is killed
costs no verdict (that write is validated here) and is replaced; a write that changes the
class tree is followed by verdicts on the new tree, as full pySHACL gives them.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, assume, given, settings

from graph.answering import writes
from graph.answering.store_version import StoreVersion
from graph.answering.writes import Shapes, Writable, checked_update, validate_result
from graph.core.errors import ShapeViolation
from graph.store import (
    BlankNode,
    Change,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    Store,
    sparql_data_block,
)
from graph.validation.change import judge_here, validate_change
from graph.validation.process import NICENESS, ValidationProcess
from tests.validation.test_change import AG, RDF_TYPE, WRITES, expected_state

SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"


def started(process: ValidationProcess, shapes: Shapes) -> ValidationProcess:
    """``process`` once its child is ready (it starts on the first call, in the background)."""
    until = time.monotonic() + 120
    while not process.ready:
        assert time.monotonic() < until, "the validation process did not start in 120 s"
        process([], shapes.shapes, shapes.ontology, frozenset())
        time.sleep(0.1)
    return process


@pytest.fixture(scope="module")
def child(rich_shapes: Shapes) -> Iterator[ValidationProcess]:
    process = started(ValidationProcess(), rich_shapes)
    yield process
    process.close()


def both_verdicts(
    store: Store, change: Change, shapes: Shapes, process: ValidationProcess
) -> tuple[list[object], list[object]]:
    """The violations found by the child and by this process, for ``change`` on ``store``."""
    answered = process.answered
    there, _ = validate_change(store, change, shapes.shapes, shapes.ontology, judge=process)
    assert process.answered == answered + 1, "the child did not answer"
    here, _ = validate_change(store, change, shapes.shapes, shapes.ontology, judge=judge_here)
    return list(there.violations), list(here.violations)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(write=WRITES)
def test_the_child_reaches_the_verdicts_of_this_process(
    writable: Store,
    rich_shapes: Shapes,
    child: ValidationProcess,
    write: tuple[str, list[Quad], list[int]],
) -> None:
    _, added, picks = write
    present = sorted(writable, key=str)
    removed = {present[i % len(present)] for i in picks}
    change = Change(removed=removed, added=set(added) - removed)
    # A change to the class tree is validated on a full copy, by no judge.
    assume(all(q.predicate.value != SUBCLASS for q in change.removed | change.added))
    there, here = both_verdicts(writable, change, rich_shapes, child)
    assert there == here


def test_a_blank_node_keeps_its_name_across_the_pipe(
    writable: Store,
    rich_shapes: Shapes,
    child: ValidationProcess,
) -> None:
    node = BlankNode()
    added = {
        Quad(node, NamedNode(RDF_TYPE), NamedNode(AG + "Country"), DefaultGraph()),
        Quad(node, NamedNode(AG + "iso3166Alpha2"), Literal("QQQ"), DefaultGraph()),
    }
    there, here = both_verdicts(writable, Change(added=added), rich_shapes, child)
    assert there == here
    assert f"_:{node.value}" in {v.focus for v in there}  # type: ignore[attr-defined]


def test_a_killed_child_costs_no_verdict_and_is_replaced(
    writable: Store,
    mini_shapes: Shapes,
) -> None:
    process = started(ValidationProcess(), mini_shapes)
    try:
        bad = Quad(
            NamedNode(AG + "x"), NamedNode(AG + "iso3166Alpha2"), Literal("QQQ"), DefaultGraph()
        )
        typed = Quad(bad.subject, NamedNode(RDF_TYPE), NamedNode(AG + "Country"), DefaultGraph())
        change = Change(added={bad, typed})
        expected, _ = validate_change(
            writable, change, mini_shapes.shapes, mini_shapes.ontology, judge=judge_here
        )
        assert not expected.conforms
        first = process.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        time.sleep(0.2)
        report, _ = validate_change(
            writable, change, mini_shapes.shapes, mini_shapes.ontology, judge=process
        )
        assert report.violations == expected.violations
        started(process, mini_shapes)
        assert process.pid not in (None, first)
        answered = process.answered
        report, _ = validate_change(
            writable, change, mini_shapes.shapes, mini_shapes.ontology, judge=process
        )
        assert report.violations == expected.violations
        assert process.answered == answered + 1
    finally:
        process.close()


def test_a_new_class_tree_is_followed_by_the_next_writes(
    writable: Store,
    mini_shapes: Shapes,
) -> None:
    """A write adding ``rdfs:subClassOf`` (validated on a full copy) changes what later writes,
    validated in the child, must check: a node of the new subclass gets the Country shape."""
    started(writes.VALIDATION, mini_shapes)
    target = Writable(writable, mini_shapes, StoreVersion())
    state = NamedNode(AG + "StateUnderTest")
    graph = NamedNode("https://w3id.org/alliance-graph/graph/new")
    tree = Quad(state, NamedNode(SUBCLASS), NamedNode(AG + "Country"), graph)
    assert accepted_as_pyshacl_says(target, [tree])
    node = NamedNode(AG + "newstate")
    answered = writes.VALIDATION.answered
    for code, valid in (("QQQ", False), ("QQ", True)):
        added = [
            Quad(node, NamedNode(RDF_TYPE), state, graph),
            Quad(node, NamedNode(AG + "iso3166Alpha2"), Literal(code), graph),
        ]
        assert accepted_as_pyshacl_says(target, added) is valid
    assert writes.VALIDATION.answered == answered + 2
    assert target.version.value == 2


def accepted_as_pyshacl_says(target: Writable, added: list[Quad]) -> bool:
    """Whether an ``INSERT DATA`` of ``added`` is accepted, asserting that full pySHACL on the
    result agrees."""
    expected = validate_result(expected_state(target.store, "update", added, []), target.shapes)
    try:
        checked_update(target, f"INSERT DATA {{ {sparql_data_block(added)} }}")
        accepted = True
    except ShapeViolation:
        accepted = False
    assert accepted is expected.conforms
    return accepted


def test_the_child_yields_the_cores_to_the_readers(child: ValidationProcess) -> None:
    """The child runs at a lower CPU priority than the server (docs/scaling.md)."""
    assert child.pid is not None
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, child.pid) == min(19, mine + NICENESS)
