"""Validate a write's change in time proportional to the change, with the compiled SHACL checks.

A node's conformance to shapes whose paths are single predicates (no ``sh:node``, no inverse
paths, no ``sh:targetObjectsOf``) depends only on its own statements and on the statements of
its value nodes (their ``rdf:type``, for ``sh:class``), with the class hierarchy. So a change can
alter the conformance of the subjects of the quads it removes or adds, and, when it changes a
node's types, of the nodes that point to it. Those focus nodes, their values and the
``rdfs:subClassOf`` statements are copied into a small in-memory store as they will be after the
change; every check runs there and only the focus nodes' results count. The verdicts are those
of full validation of the changed store (tests/test_write_validation.py compares them with
pySHACL). Shapes outside that subset are validated on a full copy instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from functools import lru_cache

from rdflib import Graph, URIRef

from graph.core.namespaces import SH
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
from graph.validation.compile import (
    RDF_TYPE,
    SUBCLASS,
    Subclasses,
    UnsupportedShape,
    compile_shapes,
)
from graph.validation.in_store import results_graph, store_classes, validate_store
from graph.validation.report import Locator, Report, validate_graph

#: Shape terms that make a node's conformance depend on more than its values' own statements.
NONLOCAL = tuple(URIRef(SH + n) for n in ("node", "targetObjectsOf", "qualifiedValueShape"))
#: A node statements can be about.
Subject = NamedNode | BlankNode | Triple


@lru_cache(maxsize=8)
def local_shapes(shapes: Graph) -> bool:
    """True if every path is one predicate and every property shape hangs off a targeted shape."""
    if any(True for term in NONLOCAL for _ in shapes.triples((None, term, None))):
        return False
    if not all(isinstance(path, URIRef) for path in shapes.objects(None, URIRef(SH + "path"))):
        return False
    targeted = {
        s
        for p in ("targetClass", "targetNode", "targetSubjectsOf")
        for s in shapes.subjects(URIRef(SH + p), None)
    }
    return all(s in targeted for s in shapes.subjects(URIRef(SH + "property"), None))


def validate_change(
    store: Store, change: Change, shapes: Graph, ontology: Graph
) -> tuple[Report, int]:
    """Validate ``store`` as it will be after ``change``: (report, focus nodes checked).

    The report lists the violations of the nodes whose conformance the change can alter. The
    default graph's share of the change is added first (a no-op for the write path, which
    adds it itself): the checks read every graph, the default graph's copy included.
    """
    change = maintain_change(store, change)
    if not local_shapes(shapes) or any(
        q.predicate.value == SUBCLASS for q in change.removed | change.added
    ):
        return _validate_whole(store, change, shapes, ontology), -1
    focus = focus_nodes(store, change, shape_paths(shapes))
    work = neighbourhood(store, change, focus)
    work.extend(class_tree(ontology))
    shown = {_show(node) for node in focus}
    try:
        report = validate_store(
            work, shapes, [], "", checks=compiled(shapes, store_classes(work)), workers=1
        )
    except UnsupportedShape:
        report = whole_store_report(work, shapes, ontology)
    kept = [v for v in report.violations if v.focus in shown]
    return Report(kept, results_graph(kept)), len(focus)


def compiled(shapes: Graph, classes: Subclasses) -> list[Check]:
    """The checks of ``shapes`` for the class tree ``classes``, compiled once per tree."""
    key = frozenset((name, frozenset(included)) for name, included in classes.items())
    return _compiled(shapes, key)


@lru_cache(maxsize=8)
def _compiled(shapes: Graph, classes: frozenset[tuple[str, frozenset[str]]]) -> list[Check]:
    return compile_shapes(shapes, dict(classes))


def focus_nodes(store: Store, change: Change, paths: Set[str]) -> set[Subject]:
    """The subjects the change touches, and the nodes pointing to those whose types change
    through a predicate that is the path of a shape (only sh:class reads a value's types)."""
    quads = change.removed | change.added
    focus: set[Subject] = {q.subject for q in quads}
    retyped = {q.subject for q in quads if q.predicate.value == RDF_TYPE}
    for node in retyped:
        pointing = store.quads_for_pattern(None, None, node, None)
        focus.update(q.subject for q in pointing if q.predicate.value in paths)
    focus.update(
        q.subject for q in change.added if q.object in retyped and q.predicate.value in paths
    )
    return focus


def neighbourhood(store: Store, change: Change, focus: Iterable[Subject]) -> Store:
    """After ``change``: the statements of ``focus``, the types of their values, the class tree.

    With local shapes nothing else is read: a focus node's own statements give its targets and
    values, and sh:class reads the ``rdf:type`` of each value.
    """
    work = Store()
    work.extend(store.quads_for_pattern(None, NamedNode(SUBCLASS), None, None))
    work.extend(q for q in change.added if q.predicate.value == SUBCLASS)
    described = _after(store, change, set(focus), None)
    values: set[Subject] = {
        q.object for q in described if isinstance(q.object, NamedNode | BlankNode)
    }
    work.extend(described)
    work.extend(_after(store, change, values, NamedNode(RDF_TYPE)))
    return work


def _after(
    store: Store, change: Change, nodes: set[Subject], predicate: NamedNode | None
) -> list[Quad]:
    """The statements (of ``predicate``, or all) about ``nodes`` once ``change`` is applied."""
    found = [
        q
        for node in nodes
        for q in store.quads_for_pattern(node, predicate, None, None)
        if q not in change.removed
    ]
    found += [
        q
        for q in change.added
        if q.subject in nodes and (predicate is None or q.predicate == predicate)
    ]
    return found


@lru_cache(maxsize=8)
def shape_paths(shapes: Graph) -> frozenset[str]:
    """The predicates that are the path of a property shape."""
    return frozenset(str(p) for p in shapes.objects(None, URIRef(SH + "path")))


def class_tree(ontology: Graph) -> list[Quad]:
    """The ontology files' ``rdfs:subClassOf`` statements, which validation mixes into the data
    as pySHACL's ``ont_graph`` does (graph.validation.report.validate_graph), whatever the store
    holds."""
    return [
        Quad(NamedNode(str(sub)), NamedNode(SUBCLASS), NamedNode(str(sup)))
        for sub, sup in ontology.subject_objects(URIRef(SUBCLASS))
        if isinstance(sub, URIRef) and isinstance(sup, URIRef)
    ]


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
