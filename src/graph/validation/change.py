"""Validate a write's change in time proportional to the change, with the compiled SHACL checks.

What a focus node's conformance reads is worked out from the shapes (graph.validation.reach):
its own statements, and some predicates of the nodes a bounded number of forward path steps
away (with the project's shapes: the ``rdf:type`` that ``sh:class`` reads and the
``dcterms:language`` a nested ``sh:not`` reads, one step away). So a change can alter the
conformance of the subjects of the quads it removes or adds, and, for a changed statement of a
predicate read at depth k, of the nodes k path steps before its subject. Those focus nodes,
what they read and the ``rdfs:subClassOf`` statements are copied into a small in-memory store
as they will be after the change; every check runs there and only the focus nodes' results
count. The verdicts are those of full validation of the changed store (tests/validation/
test_change.py compares them with pySHACL). Shapes outside that subset, and changes to the
class tree, are validated on a full copy instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from rdflib import Graph, URIRef

from graph.store import (
    BlankNode,
    Change,
    NamedNode,
    Quad,
    Store,
    Triple,
    apply_change,
    copy_to_memory,
    maintain_change,
    ntriples,
)
from graph.validation.checks import Check
from graph.validation.compile import SUBCLASS, Subclasses, UnsupportedShape, compile_shapes
from graph.validation.in_store import results_graph, store_classes, validate_store
from graph.validation.reach import Reach, reach
from graph.validation.report import Locator, Report, Violation, validate_graph

#: A node statements can be about.
Subject = NamedNode | BlankNode | Triple


def local_shapes(shapes: Graph) -> bool:
    """True if a focus node's conformance reads a bounded forward neighbourhood of it."""
    return reach(shapes) is not None


#: Validates the statements gathered around a change (a list of quads, the class tree not
#: included) against ``shapes`` and ``ontology``, and returns the violations whose focus node
#: is one of those shown (``_:label`` for a blank node): :func:`judge_here` in this process,
#: graph.validation.process in another.
Judge = Callable[[list[Quad], Graph, Graph, frozenset[str]], list[Violation]]


def validate_change(
    store: Store,
    change: Change,
    shapes: Graph,
    ontology: Graph,
    *,
    judge: Judge | None = None,
    classes: Sequence[Quad] | None = None,
) -> tuple[Report, int]:
    """Validate ``store`` as it will be after ``change``: (report, focus nodes checked).

    The report lists the violations of the nodes whose conformance the change can alter. The
    default graph's share of the change is added first (a no-op for the write path, which
    adds it itself): the checks read every graph, the default graph's copy included. What is
    gathered is validated by ``judge`` (default: :func:`judge_here`). ``classes``: the store's
    ``rdfs:subClassOf`` statements, when the caller knows them (see :func:`judge_change`).
    """
    found, checked = judge_change(store, change, shapes, ontology, judge=judge, classes=classes)
    if isinstance(found, Report):
        return found, checked
    return Report(found, results_graph(found)), checked


def judge_change(
    store: Store,
    change: Change,
    shapes: Graph,
    ontology: Graph,
    *,
    judge: Judge | None = None,
    classes: Sequence[Quad] | None = None,
) -> tuple[list[Violation] | Report, int]:
    """:func:`validate_change` without the report graph of a check of the change's
    neighbourhood (its violations only): a write that conforms needs none, and building it
    cost a sixth of a write's time holding the GIL (docs/scaling.md, "Reads while four
    writers write"). A change validated on a full copy gives its report.

    ``classes``, the store's ``rdfs:subClassOf`` statements, spares reading them: a third of
    that time, RocksDB reads holding the GIL. Only for a change that touches none of them
    (else the whole store is validated anyway), from a caller that knows every change
    committed to the store since it read them (graph.answering.writes).
    """
    change = maintain_change(store, change)
    read = reach(shapes)
    if read is None or any(q.predicate.value == SUBCLASS for q in change.removed | change.added):
        return _validate_whole(store, change, shapes, ontology), -1
    focus = focus_nodes(store, change, read)
    quads = neighbourhood(store, change, focus, read, classes)
    shown = frozenset(_show(node) for node in focus)
    return (judge or judge_here)(quads, shapes, ontology, shown), len(focus)


def subclass_statements(store: Store) -> tuple[Quad, ...]:
    """The store's ``rdfs:subClassOf`` statements (every graph's, the default graph's too)."""
    return tuple(store.quads_for_pattern(None, NamedNode(SUBCLASS), None, None))


def judge_here(
    quads: list[Quad], shapes: Graph, ontology: Graph, shown: frozenset[str]
) -> list[Violation]:
    """The violations of the ``shown`` focus nodes in ``quads`` and the ontology's class tree,
    found in this process (see :data:`Judge`)."""
    work = Store()
    work.extend(quads)
    work.extend(class_tree(ontology))
    try:
        report = validate_store(
            work, shapes, [], "", checks=compiled(shapes, store_classes(work)), workers=1
        )
    except UnsupportedShape:
        report = whole_store_report(work, shapes, ontology)
    return [v for v in report.violations if v.focus in shown]


def compiled(shapes: Graph, classes: Subclasses) -> list[Check]:
    """The checks of ``shapes`` for the class tree ``classes``, compiled once per tree."""
    key = frozenset((name, frozenset(included)) for name, included in classes.items())
    return _compiled(shapes, key)


@lru_cache(maxsize=8)
def _compiled(shapes: Graph, classes: frozenset[tuple[str, frozenset[str]]]) -> list[Check]:
    return compile_shapes(shapes, dict(classes))


def focus_nodes(store: Store, change: Change, read: Reach) -> set[Subject]:
    """The subjects the change touches, and the nodes k path steps before the subject of a
    changed statement whose predicate is read at depth k."""
    quads = change.removed | change.added
    focus: set[Subject] = {q.subject for q in quads}
    for depth in range(1, read.depth + 1):
        starts = {q.subject for q in quads if read.read_at(depth, q.predicate.value)}
        focus |= _before(store, starts, read, depth)
    return focus


def _before(store: Store, nodes: set[Subject], read: Reach, depth: int) -> set[Subject]:
    """The nodes from which ``depth`` path steps lead to one of ``nodes``. The store before the
    change is enough: a path through a changed statement starts at that statement's subject
    (a focus node) or passes through it to a node closer to the start."""
    for step in range(depth - 1, -1, -1):
        following = read.steps.get(step, frozenset())
        nodes = {
            q.subject
            for node in nodes
            for q in store.quads_for_pattern(None, None, node, None)
            if q.predicate.value in following
        }
    return nodes


def neighbourhood(
    store: Store,
    change: Change,
    focus: Iterable[Subject],
    read: Reach,
    classes: Sequence[Quad] | None = None,
) -> list[Quad]:
    """After ``change``: the statements of ``focus``, what the shapes read of the nodes their
    paths reach (graph.validation.reach), the store's ``rdfs:subClassOf`` statements (read
    from the store unless given as ``classes``)."""
    quads = list(subclass_statements(store) if classes is None else classes)
    quads += [q for q in change.added if q.predicate.value == SUBCLASS]
    found = _after(store, change, set(focus), None)
    quads += found
    for depth in range(1, read.depth + 1):
        following = read.steps.get(depth - 1, frozenset())
        level: set[Subject] = {
            q.object
            for q in found
            if q.predicate.value in following and isinstance(q.object, NamedNode | BlankNode)
        }
        wanted = None if depth in read.everything else read.reads.get(depth, frozenset())
        found = _after(store, change, level, wanted)
        quads += found
    return quads


def _after(
    store: Store, change: Change, nodes: set[Subject], predicates: frozenset[str] | None
) -> list[Quad]:
    """The statements (of ``predicates``, or all) about ``nodes`` once ``change`` is applied."""
    asked = [None] if predicates is None else [NamedNode(p) for p in sorted(predicates)]
    found = [
        q
        for node in nodes
        for predicate in asked
        for q in store.quads_for_pattern(node, predicate, None, None)
        if q not in change.removed
    ]
    found += [
        q
        for q in change.added
        if q.subject in nodes and (predicates is None or q.predicate.value in predicates)
    ]
    return found


@lru_cache(maxsize=8)
def class_tree(ontology: Graph) -> tuple[Quad, ...]:
    """The ontology files' ``rdfs:subClassOf`` statements, which validation mixes into the data
    as pySHACL's ``ont_graph`` does (graph.validation.report.validate_graph), whatever the store
    holds. Worked out once per ontology graph (the project's files, parsed once a process)."""
    return tuple(
        Quad(NamedNode(str(sub)), NamedNode(SUBCLASS), NamedNode(str(sup)))
        for sub, sup in ontology.subject_objects(URIRef(SUBCLASS))
        if isinstance(sub, URIRef) and isinstance(sup, URIRef)
    )


def _validate_whole(store: Store, change: Change, shapes: Graph, ontology: Graph) -> Report:
    """Full validation of a copy of the store with the change applied (non-local shapes)."""
    copy = copy_to_memory(store)
    apply_change(copy, change.removed, change.added, created=change.created, dropped=change.dropped)
    copy.extend(class_tree(ontology))
    try:
        return validate_store(copy, shapes, [], "")
    except UnsupportedShape:
        return whole_store_report(copy, shapes, ontology)


def whole_store_report(store: Store, shapes: Graph, ontology: Graph) -> Report:
    """pySHACL's report on every triple of ``store`` (all graphs merged)."""
    data = Graph()
    data.parse(data=ntriples(store), format="nt")
    return validate_graph(data, shapes, ontology, Locator([]))


def _show(node: Subject) -> str:
    return f"_:{node.value}" if isinstance(node, BlankNode) else str(getattr(node, "value", node))
