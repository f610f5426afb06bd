"""The default graph as a set of triples, kept in the store's own default graph (issue 17).

Queries see one default graph: every triple that any named graph states, once, whatever the
number of graphs stating it, plus the triples written to the default graph itself. Oxigraph's
``use_default_graph_as_union`` is not a set (a triple stated by two source documents comes out
twice), so the set is materialized: the store's own default graph holds it, and queries read
that graph. The named graphs are unchanged: each still holds what its document states (the
provenance). bench/README.md ("The default graph as a set") has what it costs.

The invariant, kept by every build (:func:`materialize`) and every write (:func:`maintained`):

    default graph = (the triples of every named graph) + (triples written to the default graph)

so a triple a named graph states cannot be removed from the default graph alone: it leaves
when its last named graph lets go of it. A triple written only to the default graph is the
store's own, and ``DELETE``/``CLEAR DEFAULT``/Graph Store ``DELETE ?default`` remove those.

Being the default graph's own is not remembered: the store holds the set, not where each of
its triples came from. A triple the default graph holds of its own loses that status once a
named graph states it; when the last named graph stating it lets go of it, it leaves the
default graph like any other (issue 17's design: two writes, or two operations of one update,
cannot tell it was ever the default graph's own; see
``test_updates_on_named_graphs_commit_what_the_engine_makes_of_the_whole_text`` in
tests/answering/test_update_plan.py, and :func:`maintained`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyoxigraph
from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Quad, RdfFormat, Store

from graph.store.change import Change

DEFAULT = DefaultGraph()
#: Named graphs written out and read back at once while materializing.
GRAPHS_PER_READ = 500


def _in_default(quad: Quad) -> Quad:
    return Quad(quad.subject, quad.predicate, quad.object, DEFAULT)


def materialize(store: Store) -> None:
    """Put the triple of every quad of a named graph into the default graph (idempotent).

    Bulk-loaded, outside a transaction: for a generation being built, not for a live store.

    >>> s = Store()
    >>> a, p = NamedNode("http://e.org/a"), NamedNode("http://e.org/p")
    >>> s.extend([Quad(a, p, a, NamedNode("http://e.org/g1")), Quad(a, p, a, NamedNode("http://e.org/g2"))])
    >>> materialize(s)
    >>> len(list(s.quads_for_pattern(None, None, None, DEFAULT)))
    1
    """
    # Oxigraph writes each named graph as N-Triples and reads it back, blank node labels kept
    # (1.5-2x faster than copying quads through Python), into one bulk load: its loader writes
    # a batch on other threads while the next graphs are dumped, where bulk loads of 100,000
    # quads one after the other waited for each (3M triples: 32 s against 50 s, the same peak
    # memory; docs/scaling.md, "The copy, split"). The store's iterators are open meanwhile:
    # their snapshot does not see what the loader adds.
    store.bulk_extend(_reparsed(store, list(store.named_graphs())))


def _reparsed(store: Store, graphs: list[NamedNode | BlankNode]) -> Iterator[Quad]:
    """The triples of ``graphs``, as quads of the default graph, blank node labels kept, a few
    graphs at a time."""
    for start in range(0, len(graphs), GRAPHS_PER_READ):
        data = b"".join(
            store.dump(format=RdfFormat.N_TRIPLES, from_graph=graph) or b""
            for graph in graphs[start : start + GRAPHS_PER_READ]
        )
        yield from pyoxigraph.parse(data, format=RdfFormat.N_TRIPLES, rename_blank_nodes=False)


def is_materialized(store: Store) -> bool:
    """False for a store built before the default graph held the set: its named graphs hold
    triples and its default graph none (which the invariant rules out)."""
    if next(iter(store.quads_for_pattern(None, None, None, DEFAULT)), None) is not None:
        return True
    return next(iter(store), None) is None


def stated_quads(store: Store) -> Iterator[Quad]:
    """The quads the dataset states: every named graph's, and the default graph's own triples
    (not its copy of the named graphs'). Dumps and exports write these, as before the default
    graph held the set; loading them back (``kg restore``) makes the copy again."""
    for graph in store.named_graphs():
        yield from store.quads_for_pattern(None, None, None, graph)
    own = store.query(f"SELECT ?s ?p ?o WHERE {{ {OWN_PATTERN} }}")
    for row in own:  # type: ignore[union-attr]
        yield Quad(row[0], row[1], row[2], DEFAULT)


#: The default graph's triples that no named graph states.
OWN_PATTERN = "?s ?p ?o FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } }"


def stated_count(store: Store) -> int:
    """How many quads :func:`stated_quads` gives: the store's, less the default graph's copy."""
    copy = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER EXISTS { GRAPH ?g { ?s ?p ?o } } }"
    rows = store.query(copy)
    return len(store) - int(next(iter(rows))["n"].value)  # type: ignore[arg-type]


def has_own_triples(store: Store) -> bool:
    """True if the default graph holds a triple that no named graph states (one written to
    the default graph itself)."""
    return bool(store.query(f"ASK {{ {OWN_PATTERN} }}"))


def maintained(
    store: Store, removed: Iterable[Quad], added: Iterable[Quad]
) -> tuple[set[Quad], set[Quad]]:
    """``removed`` and ``added`` with what the default graph must lose and gain with them.

    A triple added to a named graph is added to the default graph; a triple removed from its
    last named graph leaves the default graph (unless the change adds it to the default graph
    itself); a triple still stated by a named graph stays in the default graph even if the
    change removes it from there.

    A triple of the default graph's own, stated by a named graph and then let go of by it,
    leaves the default graph (the module's docstring says why):

    >>> s = Store()
    >>> a, p, g = NamedNode("http://e.org/a"), NamedNode("http://e.org/p"), NamedNode("http://e.org/g")
    >>> s.add(Quad(a, p, a, DEFAULT))  # the default graph's own
    >>> s.extend(maintained(s, [], [Quad(a, p, a, g)])[1])  # a named graph states it too
    >>> sorted(str(q.graph_name) for q in maintained(s, [Quad(a, p, a, g)], [])[0])
    ['<http://e.org/g>', 'DEFAULT']
    """
    removed, added = set(removed), set(added)
    named_added = {_in_default(q) for q in added if isinstance(q.graph_name, NamedNode)}
    named_removed = {_in_default(q) for q in removed if isinstance(q.graph_name, NamedNode)}
    for triple in named_added:
        removed.discard(triple)
        if triple not in store:
            added.add(triple)
    for triple in [q for q in removed if isinstance(q.graph_name, DefaultGraph)]:
        if _stated_after(store, triple, removed):
            removed.discard(triple)
    for triple in named_removed - named_added:
        if triple not in added and triple in store and not _stated_after(store, triple, removed):
            removed.add(triple)
    return removed, added


def maintain_change(store: Store, change: Change) -> Change:
    """``change`` with the default graph's share of it (:func:`maintained`): what the write
    path validates and commits, so that the check sees a removed triple gone from the default
    graph too."""
    removed, added = maintained(store, change.removed, change.added)
    return Change(removed, added, set(change.created), set(change.dropped))


def _stated_after(store: Store, triple: Quad, removed: set[Quad]) -> bool:
    """True if a named graph of ``store`` states ``triple`` and keeps it after ``removed``."""
    return any(
        isinstance(q.graph_name, NamedNode) and q not in removed
        for q in store.quads_for_pattern(triple.subject, triple.predicate, triple.object, None)
    )
