"""An update evaluated operation by operation, each into the change it makes (issue 12).

An update is split into its operations (graph.answering.update_dataset's tokenizer); each
operation's change is computed by the engine itself, on what it can read:

* ``INSERT DATA`` / ``DELETE DATA``: run as sent on a small store holding the quads it names;
* ``DELETE``/``INSERT`` ... ``WHERE`` (with WITH, USING, USING NAMED): its pattern runs once
  over its dataset, its templates on those solutions (graph.answering.update_delta);
* ``CLEAR``, ``DROP``, ``CREATE``, ``ADD``, ``MOVE``, ``COPY``, ``LOAD``: run as sent on a small
  store holding the graphs it names (the whole store for ``NAMED`` and ``ALL``).

The split only decides what each operation reads; what it changes is the engine's answer. An
operation read otherwise than expected runs on a copy of what it can see, whole: slower, exact.

Several operations run in order on a scratch copy of the store (graph.store.on_scratch_copy:
a RocksDB checkpoint, whose cost does not grow with the store): each operation's change, with
the default graph's share (graph.store.default_graph.maintained), is applied there, so the next
one sees it, and the changes add up to the net change the write path validates and commits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from graph.answering.update_dataset import Token, operations
from graph.answering.update_delta import (
    Dataset,
    modify_delta,
    read_modify,
    resolve_iris,
    split_prologue,
)
from graph.store import (
    BlankNode,
    Change,
    NamedNode,
    Quad,
    QuerySyntaxError,
    Store,
    UpdateFailed,
    apply_change,
    copy_to_memory,
    graph_content,
    graph_exists,
    maintain_change,
    on_scratch_copy,
    run_update,
)

T = TypeVar("T")

GRAPH_OPERATIONS = ("CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "LOAD")


@dataclass(frozen=True)
class Operation:
    """One operation of an update: the prologue in force (every PREFIX and BASE so far) and
    its own tokens after its own PREFIX and BASE."""

    update: str
    prologue: str
    tokens: list[Token]

    @property
    def text(self) -> str:
        """The operation, with the prologue in force, as the engine can run it alone."""
        last = self.tokens[-1]
        body = self.update[self.tokens[0].start : last.start + len(last.text)]
        return f"{self.prologue} {body}"

    @property
    def kind(self) -> str:
        """``data``, ``modify``, ``graph``, or ``other`` (left to the engine)."""
        first = self.tokens[0].keyword
        second = self.tokens[1].keyword if len(self.tokens) > 1 else ""
        if first in ("INSERT", "DELETE") and second == "DATA":
            return "data"
        if first in ("INSERT", "DELETE", "WITH"):
            return "modify"
        return "graph" if first in GRAPH_OPERATIONS else "other"


def split(update: str) -> list[Operation]:
    """The operations of ``update``, each with the prologue in force where it starts."""
    prologue: list[str] = []
    found = []
    for op in operations(update):
        declared, body = split_prologue(update, op)
        prologue.extend(declared)
        if body:
            found.append(Operation(update, " ".join(prologue), body))
    return found


def plan_change(
    store: Store,
    update: str,
    *,
    base_iri: str | None = None,
    protocol: Dataset | None = None,
    near: Path | None = None,
) -> Change:
    """The net change ``update`` makes to ``store``, each operation seeing the earlier ones.

    ``protocol`` is the request's update dataset; ``near`` a folder on the store's file
    system for the scratch checkpoint of a several-operation update.

    :raises BadRequest: for a syntax error (with line:column) or an operation that fails.
    """
    ops = split(update)
    try:
        if not ops:  # nothing but a prologue, or nothing at all
            run_update(Store(), update, base_iri=base_iri)
            return Change()
        if len(ops) == 1:
            return _evaluated(store, ops[0], base_iri, protocol)
        return on_scratch_copy(
            store, near, lambda scratch: _accumulate(scratch, ops, base_iri, protocol)
        )
    except _Unreadable as unreadable:
        return _syntax_error_or_whole(store, update, unreadable.op, base_iri)


class _Unreadable(Exception):
    """An operation that did not parse as it was split out of its update."""

    def __init__(self, op: Operation) -> None:
        super().__init__(op.text)
        self.op = op


def _evaluated(
    store: Store, op: Operation, base_iri: str | None, protocol: Dataset | None
) -> Change:
    try:
        return operation_change(store, op, base_iri, protocol)
    except QuerySyntaxError:
        raise _Unreadable(op) from None


def _syntax_error_or_whole(
    store: Store, update: str, op: Operation, base_iri: str | None
) -> Change:
    """The engine's own syntax error, with its line:column in ``update``; or, if the update
    up to ``op`` parses after all (it was split wrongly), its change run whole on a copy.

    The engine parses an update whole before it runs any of it, so the text up to the failing
    operation, run on an empty store, shows the error and runs nothing.
    """
    last = op.tokens[-1]
    with contextlib.suppress(UpdateFailed):
        run_update(Store(), update[: last.start + len(last.text)], base_iri=base_iri)
    copy = copy_to_memory(store)
    run_update(copy, update, base_iri=base_iri)
    return _diff(store, copy)


def _diff(before: Store, after: Store) -> Change:
    had, has = _graph_names(before), _graph_names(after)
    return Change(
        removed={q for q in before if q not in after},
        added={q for q in after if q not in before},
        created=has - had,
        dropped=had - has,
    )


def _accumulate(
    scratch: Store, ops: list[Operation], base_iri: str | None, protocol: Dataset | None
) -> Change:
    net = Change(maintained=True)
    for op in ops:
        change = maintain_change(scratch, _evaluated(scratch, op, base_iri, protocol))
        apply_change(
            scratch,
            change.removed,
            change.added,
            created=change.created,
            dropped=change.dropped,
            as_is=True,
        )
        _add_up(net, change)
    return net


def _add_up(net: Change, change: Change) -> None:
    """Fold ``change`` (made after ``net``) into ``net``: a quad added then removed, or a graph
    created then dropped, is no change at all."""
    for quad in change.removed:
        _toggle(net.added, net.removed, quad)
    for quad in change.added:
        _toggle(net.removed, net.added, quad)
    for graph in change.dropped:
        _toggle(net.created, net.dropped, graph)
    for graph in change.created:
        _toggle(net.dropped, net.created, graph)


def _toggle(undone: set[T], done: set[T], item: T) -> None:
    if item in undone:
        undone.discard(item)
    else:
        done.add(item)


def operation_change(
    store: Store, op: Operation, base_iri: str | None, protocol: Dataset | None
) -> Change:
    """The change ``op`` makes to ``store`` (without the default graph's share).

    :raises QuerySyntaxError: if the operation does not parse.
    :raises UpdateFailed: if it fails (a DROP of a missing graph without SILENT, ...).
    """
    if op.kind == "data":
        quads = _data_quads(op, base_iri)
        if quads is not None:
            return _run_on(store, op, base_iri, [q for q in quads if q in store], ())
    elif op.kind == "modify":
        modify = read_modify(op.update, op.tokens, op.prologue)
        delta = None if modify is None else modify_delta(store, modify, base_iri, protocol)
        if delta is not None:
            removed, added = delta
            graphs = {q.graph_name.value for q in added if isinstance(q.graph_name, NamedNode)}
            return Change(removed, added, {g for g in graphs if not graph_exists(store, g)})
    elif op.kind == "graph":
        names = _named_graphs(op, base_iri)
        if names is not None:
            return _run_on_graphs(store, op, base_iri, names)
    # Read otherwise than expected (or NAMED, ALL): run it on the whole store, after an empty
    # store has shown any syntax error at no cost (not for LOAD: it would fetch twice).
    if op.tokens[0].keyword != "LOAD":
        with contextlib.suppress(UpdateFailed):
            run_update(Store(), op.text, base_iri=base_iri)
    return run_on_whole(store, op, base_iri)


def run_on_whole(store: Store, op: Operation, base_iri: str | None) -> Change:
    """``op``'s change, run as sent on a copy of the whole store (in memory): exact, and what
    NAMED and ALL cost anyway; for anything else, the slow path this module avoids."""
    return _run_on(store, op, base_iri, store, store.named_graphs())


def _data_quads(op: Operation, base_iri: str | None) -> set[Quad] | None:
    """The quads an ``INSERT DATA``/``DELETE DATA`` names, read by the engine as an INSERT
    DATA on an empty store; None if it does not read so."""
    last = op.tokens[-1]
    body = op.update[op.tokens[1].start + len(op.tokens[1].text) : last.start + len(last.text)]
    probe = Store()
    try:
        run_update(probe, f"{op.prologue} INSERT DATA {body}", base_iri=base_iri)
    except (QuerySyntaxError, UpdateFailed):
        return None
    return set(probe)


def _named_graphs(op: Operation, base_iri: str | None) -> list[str | None] | None:
    """The graphs a graph operation reads or writes (None in the list: the default graph);
    None if it names every graph (NAMED, ALL) or reads otherwise than expected."""
    words = op.tokens[1:]
    if words[:1] and words[0].keyword == "SILENT":
        words = words[1:]
    if op.tokens[0].keyword == "LOAD":
        words = words[1:]  # the document loaded, not a graph of the store
    written: list[str] = []
    default = False
    for token in words:
        if token.keyword in ("GRAPH", "TO", "INTO"):
            continue
        if token.keyword == "DEFAULT":
            default = True
        elif token.kind == "iri" or (token.kind == "word" and ":" in token.text):
            written.append(token.text)
        else:
            return None
    iris = resolve_iris(op.prologue, written, base_iri)
    if iris is None:
        return None
    return [*iris, *([None] if default else [])]


def _run_on_graphs(
    store: Store, op: Operation, base_iri: str | None, graphs: list[str | None]
) -> Change:
    quads = [q for graph in set(graphs) if graph_exists(store, graph) for q in
             graph_content(store, graph)]  # fmt: skip
    existing = [NamedNode(g) for g in set(graphs) if g is not None and graph_exists(store, g)]
    return _run_on(store, op, base_iri, quads, existing)


def _run_on(
    store: Store,
    op: Operation,
    base_iri: str | None,
    quads: Iterable[Quad],
    graphs: Iterable[NamedNode | BlankNode],
) -> Change:
    """Run ``op`` as sent on a small store holding ``quads`` and the (possibly empty) named
    ``graphs``; what changed there is its change to ``store``."""
    small = Store()
    small.extend(quads)
    for graph in graphs:
        small.add_graph(graph)
    before, had = set(small), _graph_names(small)
    run_update(small, op.text, base_iri=base_iri)
    after, has = set(small), _graph_names(small)
    return Change(
        removed={q for q in before - after if q in store},
        added={q for q in after - before if q not in store},
        created={g for g in has - had if not graph_exists(store, g)},
        dropped=had - has,
    )


def _graph_names(store: Store) -> set[str]:
    return {g.value for g in store.named_graphs() if isinstance(g, NamedNode)}
