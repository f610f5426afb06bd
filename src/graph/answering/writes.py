"""Every write to the store: turned into one explicit change, checked, and that change committed.

A write (a SPARQL update, or a Graph Store Protocol PUT, POST or DELETE) is evaluated once into
a :class:`graph.answering.write_change.Change`: the quads it removes and adds. That change is
validated
against the shapes as the store will be after it (graph.validation.change, in time proportional
to the change), and only then committed, in one Oxigraph transaction. What is committed is
exactly what was checked: nothing is evaluated a second time (issue 12). Each commit bumps the
store's version, on which every answer and figure derived from the store is keyed.

Writers in this process are serialized by one lock, so the check and the commit see the same
state. Other processes cannot interleave: Oxigraph opens an on-disk store read-write in one
process only, the others open it read-only.

Over an external store (graph.store.external.remote_store) every write is refused with 501: the
check-then-commit
above needs one lock around the check and the commit, which instances sharing the store cannot
hold. The external store's graph is written by ``kg build --store URL``, which validates the
project locally and then switches staged graphs in one update.
"""

from __future__ import annotations

import dataclasses
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rdflib import Graph

from graph.answering.curated import curated_graphs, refuse_curated_removal
from graph.answering.store_version import StoreVersion
from graph.answering.update_dataset import protocol_dataset
from graph.answering.write_change import (
    add_change,
    drop_change,
    refuse_unsupported_terms,
    replace_change,
    update_change,
)
from graph.core import settings
from graph.core.errors import NotFound, ShapeViolation, WritesNotSupported
from graph.sources.files import discover, parse_sources
from graph.store import (
    Change,
    NamedNode,
    Quad,
    Store,
    apply_change,
    graph_exists,
    maintain_change,
)
from graph.validation.change import judge_change, subclass_statements, whole_store_report
from graph.validation.compile import SUBCLASS
from graph.validation.in_store import results_graph
from graph.validation.process import ValidationProcess
from graph.validation.report import Report, to_rdflib

#: Serializes the writers of this process (see the module docstring).
WRITE_LOCK = threading.RLock()

#: Where this process's writes are validated: a child process, so that the readers of a
#: writable server do not wait for the GIL while a write's checks run (graph.validation.process).
VALIDATION = ValidationProcess()

#: Where HTTP writes wait for their turn, in the request thread, before their time limit
#: starts (graph.http.endpoint, graph.http.graph_store): a write queued behind others is not a
#: runaway.
WRITE_QUEUE = threading.Lock()


@dataclass(frozen=True)
class Shapes:
    """The SHACL shapes and the ontology a write is checked against, as rdflib graphs.

    Also the graphs a write may not remove (graph.answering.curated): those the project's files
    provide, unless ``allow_curated_removal``.
    """

    shapes: Graph
    ontology: Graph
    curated: frozenset[str] = frozenset()
    allow_curated_removal: bool = False


@lru_cache(maxsize=4)
def load_shapes(project_dir: str, base: str) -> Shapes:
    """Parse the project's shapes/ and ontology/ files once per process (IRIs moved to ``base``).

    :raises graph.store.RdfSyntaxError: if a file does not parse.
    """
    files = [f for f in discover(Path(project_dir)) if f.role in ("shapes", "ontology")]
    parsed = parse_sources(files, base)
    return Shapes(
        shapes=to_rdflib(p for p in parsed if p.source.role == "shapes"),
        ontology=to_rdflib(p for p in parsed if p.source.role == "ontology"),
        curated=curated_graphs(project_dir, base),
    )


def default_shapes() -> Shapes:
    """The shapes of the project the settings name (the HTTP layer passes its app's own)."""
    values = settings.resolve()
    shapes = load_shapes(str(values["project_dir"]), str(values["base_iri"]))
    return dataclasses.replace(shapes, allow_curated_removal=bool(values["allow_curated_removal"]))


@dataclass(frozen=True)
class Writable:
    """A store writes go to, the shapes they are checked against and the version they bump;
    ``base_iri`` resolves relative IRIs in updates (issue 17); ``scratch`` is a folder on the
    store's file system for the checkpoint an update of several operations is evaluated on
    (graph.answering.update_plan; None: a copy in memory)."""

    store: Store
    shapes: Shapes
    version: StoreVersion
    base_iri: str | None = None
    scratch: Path | None = None


def checked_update(
    target: Writable,
    update: str,
    *,
    using: Sequence[str] = (),
    using_named: Sequence[str] = (),
) -> None:
    """Run a SPARQL update if its result conforms to the shapes; otherwise change nothing.

    ``using`` and ``using_named`` are the protocol's ``using-graph-uri`` and
    ``using-named-graph-uri`` values; they act as USING and USING NAMED clauses.

    :raises BadRequest: for a syntax error (with line:column), an operation that fails, or
        protocol dataset parameters together with USING/WITH in the text.
    :raises ShapeViolation: if the result would break a shape; the body is the SHACL report.
    """
    _refuse_external(target.store)
    protocol = protocol_dataset(update, using, using_named)
    _write(
        target,
        lambda store: update_change(
            store, update, base_iri=target.base_iri, protocol=protocol, near=target.scratch
        ),
    )


def replace_graph(target: Writable, graph: str | None, quads: Sequence[Quad]) -> bool:
    """Replace the content of ``graph`` (None: the default graph) with ``quads``.

    Returns True if the graph did not exist before (it was created).
    """
    _refuse_external(target.store)
    change = _write(target, lambda store: replace_change(store, graph, quads))
    return bool(change.created)


def add_to_graph(target: Writable, graph: str | None, quads: Sequence[Quad]) -> bool:
    """Merge ``quads`` into ``graph`` (None: the default graph), creating it if needed.

    Returns True if the graph did not exist before (it was created).
    """
    _refuse_external(target.store)
    change = _write(target, lambda store: add_change(store, graph, quads))
    return bool(change.created)


def delete_graph(target: Writable, graph: str | None) -> None:
    """Remove ``graph``; for the default graph (None), remove its content.

    :raises NotFound: if the named graph does not exist.
    """
    _refuse_external(target.store)

    def change_of(store: Store) -> Change:
        if not graph_exists(store, graph):
            raise NotFound(f"there is no graph <{graph}> in the store")
        return drop_change(store, graph)

    _write(target, change_of)


def _write(target: Writable, change_of: Callable[[Store], Change]) -> Change:
    """Compute the change under the lock, validate it, commit it and bump the version."""
    with WRITE_LOCK:
        # The default graph's share is part of the change: checked and committed with it.
        change = change_of(target.store)
        if not change.maintained:
            change = maintain_change(target.store, change)
        refuse_unsupported_terms(change.added)
        if not change:
            return change
        _refuse_curated_removal(target.store, change, target.shapes)
        report = check(target.store, change, target.shapes, CLASS_TREES.get(target))
        if not report.conforms:
            raise violation_error(report)
        before = target.version.value
        try:
            apply_change(
                target.store,
                change.removed,
                change.added,
                created=change.created,
                dropped=change.dropped,
                as_is=change.maintained,
            )
        finally:
            target.version.bump()
            CLASS_TREES.committed(target, before, change)
    return change


def check(
    store: Store, change: Change, shapes: Shapes, classes: Sequence[Quad] | None = None
) -> Report:
    """Validate ``store`` as it will be after ``change`` (the nodes the change can affect);
    ``classes``: the store's ``rdfs:subClassOf`` statements, if known. A conforming write's
    report has no results graph (graph.validation.change.judge_change)."""
    found, _ = judge_change(
        store, change, shapes.shapes, shapes.ontology, judge=VALIDATION, classes=classes
    )
    if isinstance(found, Report):
        return found
    return Report(found, results_graph(found)) if found else Report()


class ClassTrees:
    """The store's ``rdfs:subClassOf`` statements as of its version, kept across writes that
    leave them alone: every write reads them into the neighbourhood it validates, and reading
    them was a third of a write's time holding the GIL (docs/scaling.md, "Reads while four
    writers write"; issue 12). Every commit goes through :func:`_write` and bumps the version,
    which :meth:`committed` follows; a version moved by anything else drops what is known.
    """

    def __init__(self) -> None:
        #: By the store's version: (its value, the store, the statements) when they were read.
        self._known: weakref.WeakKeyDictionary[
            StoreVersion, tuple[int, Store, tuple[Quad, ...]]
        ] = weakref.WeakKeyDictionary()

    def get(self, target: Writable) -> tuple[Quad, ...]:
        """The statements of ``target``'s store now (the write lock held)."""
        known = self._known.get(target.version)
        if known is not None and known[:2] == (target.version.value, target.store):
            return known[2]
        found = subclass_statements(target.store)
        self._known[target.version] = (target.version.value, target.store, found)
        return found

    def committed(self, target: Writable, before: int, change: Change) -> None:
        """``change`` was committed at version ``before`` and bumped it (the lock held)."""
        known = self._known.pop(target.version, None)
        touched = any(q.predicate.value == SUBCLASS for q in change.removed | change.added)
        if known is not None and known[:2] == (before, target.store) and not touched:
            self._known[target.version] = (target.version.value, target.store, known[2])


#: The class trees of the stores this process writes to.
CLASS_TREES = ClassTrees()


def validate_result(store: Store, shapes: Shapes) -> Report:
    """Full validation of every triple of ``store`` with pySHACL: the reference the per-change
    check is compared with (tests), never run on the write path."""
    return whole_store_report(store, shapes.shapes, shapes.ontology)


def _refuse_external(store: object) -> None:
    """Refuse a write to an external store (see the module docstring for why)."""
    if not isinstance(store, Store):
        raise WritesNotSupported(
            "writes through this server are not supported on an external SPARQL store: a"
            " write is shape-checked and committed under one lock, which instances sharing the"
            " store cannot hold; publish changes with `kg build --store URL` instead"
        )


def violation_error(report: Report) -> ShapeViolation:
    """A 422 error carrying the report; the HTTP layer renders it in the format asked for."""
    return ShapeViolation(f"the write would break the shapes:\n{report.to_text()}", report=report)


def _refuse_curated_removal(store: Store, change: Change, shapes: Shapes) -> None:
    """Refuse a change that leaves a curated graph without triples (graph.answering.curated).

    Only the curated graphs the change removes from or drops can be emptied by it, so only
    those are looked at (a look at every graph cost 0.5 s a write at 1M triples)."""
    if shapes.allow_curated_removal:
        return
    touched = {q.graph_name.value for q in change.removed if isinstance(q.graph_name, NamedNode)}
    candidates = (touched | change.dropped) & shapes.curated
    before = {
        graph
        for graph in candidates
        if next(iter(store.quads_for_pattern(None, None, None, NamedNode(graph))), None)
        is not None
    }
    if not before:
        return
    removed = set(change.removed)
    refilled = {q.graph_name.value for q in change.added if isinstance(q.graph_name, NamedNode)}
    after = {
        graph
        for graph in before
        if graph in refilled
        or any(
            q not in removed for q in store.quads_for_pattern(None, None, None, NamedNode(graph))
        )
    }
    after -= change.dropped - refilled
    refuse_curated_removal(before, after, shapes.curated, allowed=False)
