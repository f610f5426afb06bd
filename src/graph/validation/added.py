"""Validate added source documents against a built store, in time proportional to the documents.

The added files go into a small in-memory store together with the neighbourhood they touch in
the published store: the ontology, then the descriptions of the focus nodes and of the nodes
two hops out from them (enough for sh:class on values and one level of sh:node), whichever
graph describes them. The compiled checks then run only on the focus nodes: whatever the files
describe or point to (incoming links count for inverse paths and sh:targetObjectsOf), whatever
the graphs they replace described, the nodes linking to those, and the shapes' sh:targetNode
nodes. So the verdict is full validation's (issue 12, item 5), found in a neighbourhood.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rdflib import Graph, URIRef

from graph.core.namespaces import SH, graph_iri
from graph.sources.files import Progress, SourceFile, no_progress
from graph.store import Literal, NamedNode, Quad, QuerySolutions, Store, bulk_load_file, run_query
from graph.validation.checks import CHUNK_SIZE
from graph.validation.in_store import validate_store
from graph.validation.report import Report

#: Hops followed outwards from the focus nodes when copying context from the published store.
HOPS_OUT = 2


def validate_added(
    published: Store,
    added: Sequence[SourceFile],
    shapes: Graph,
    base: str,
    track: Progress = no_progress,
) -> Report:
    """Validate ``added`` files as if loaded into ``published`` (replacing their own graphs)."""
    work = Store()
    for source in added:
        bulk_load_file(work, source.path, source.graph(base), base)
    replaced = {source.graph(base) for source in added}
    # Only nodes the files describe (or described, in the graphs they replace) gain or lose
    # statements, so only their referrers can change: a node the files merely point to leaves
    # its referrers alone (hubs stay cheap).
    described = _described(work, replaced) | _described(published, replaced)
    focus = sorted(
        described
        | _linking(published, described, replaced)
        | _values(work, replaced)
        | target_nodes(shapes)
    )
    _copy_graph(published, work, graph_iri("ontology", base))
    frontier = {n for n in focus if not n.startswith('"')}
    seen: set[str] = set()
    for _ in range(HOPS_OUT + 1):
        frontier -= seen
        seen |= frontier
        _copy_descriptions(published, work, sorted(frontier), replaced)
        # The next hop starts from every value the frontier has now, whether it came from the
        # added files or from the published store.
        frontier = {n for n in _values_of(work, sorted(frontier)) if not n.startswith('"')}
    return validate_store(work, shapes, added, base, focus=focus, track=track)


def added_nodes(store: Store, added: Sequence[SourceFile], base: str, shapes: Graph) -> set[str]:
    """The focus nodes of ``added`` files loaded into ``store`` (see the module docstring)."""
    graphs = {s.graph(base) for s in added}
    described = _described(store, graphs)
    return (
        described
        | _linking(store, described, graphs)
        | _values(store, graphs)
        | (target_nodes(shapes))
    )


def target_nodes(shapes: Graph) -> set[str]:
    """The IRIs the shapes name with ``sh:targetNode``: focus nodes whatever the data says."""
    return {
        str(n) for n in shapes.objects(None, URIRef(SH + "targetNode")) if isinstance(n, URIRef)
    }


def _described(store: Store, graphs: Iterable[str]) -> set[str]:
    """The IRIs ``store`` describes in ``graphs`` (subjects of their statements)."""
    found: set[str] = set()
    for graph in sorted(graphs):
        text = f"SELECT DISTINCT ?n WHERE {{ GRAPH <{graph}> {{ ?n ?p ?o }} }}"
        found |= _terms(store, text)
    return found


def _values(store: Store, graphs: Iterable[str]) -> set[str]:
    """The IRIs and literals ``store`` holds as values in ``graphs``."""
    found: set[str] = set()
    for graph in sorted(graphs):
        text = f"SELECT DISTINCT ?n WHERE {{ GRAPH <{graph}> {{ ?s ?p ?n }} }}"
        found |= _terms(store, text)
    return found


def _terms(store: Store, text: str) -> set[str]:
    """The first column of a SELECT: IRIs as they are, literals in N-Triples syntax."""
    result = run_query(store, text, union_default_graph=True)
    if not isinstance(result, QuerySolutions):
        raise TypeError("expected a SELECT query")
    found: set[str] = set()
    for row in result:
        if isinstance(row[0], NamedNode):
            found.add(row[0].value)
        elif isinstance(row[0], Literal):
            found.add(str(row[0]))
    return found


def _linking(published: Store, nodes: set[str], replaced: set[str]) -> set[str]:
    """IRIs that link to one of ``nodes`` in graphs other than the replaced ones."""
    found: set[str] = set()
    ordered = sorted(n for n in nodes if not n.startswith('"'))
    skip = ", ".join(f"<{g}>" for g in sorted(replaced)) or "<urn:none>"
    for start in range(0, len(ordered), CHUNK_SIZE):
        values = " ".join(f"<{n}>" for n in ordered[start : start + CHUNK_SIZE])
        found |= {
            n
            for n in _terms(
                published,
                f"SELECT DISTINCT ?s WHERE {{ VALUES ?n {{ {values} }} GRAPH ?g {{ ?s ?p ?n }}"
                f" FILTER(?g NOT IN ({skip})) }}",
            )
            if not n.startswith('"')
        }
    return found


def _copy_graph(published: Store, work: Store, graph: str) -> None:
    work.extend(published.quads_for_pattern(None, None, None, NamedNode(graph)))


def _values_of(work: Store, nodes: Sequence[str]) -> set[str]:
    """The IRIs ``work`` holds as values of ``nodes``, in any graph."""
    found: set[str] = set()
    for node in nodes:
        for quad in work.quads_for_pattern(NamedNode(node), None, None, None):
            if isinstance(quad.object, NamedNode):
                found.add(quad.object.value)
    return found


def _copy_descriptions(
    published: Store, work: Store, nodes: Sequence[str], replaced: set[str]
) -> None:
    """Copy what ``published`` says about ``nodes``, except in the ``replaced`` graphs."""
    quads: list[Quad] = []
    for node in nodes:
        for quad in published.quads_for_pattern(NamedNode(node), None, None, None):
            graph = quad.graph_name
            # The published default graph's copy may hold what the replaced graphs said: the
            # work store gets its own (graph.store.default_graph), made by validate_store.
            if not isinstance(graph, NamedNode) or graph.value in replaced:
                continue
            quads.append(quad)
    work.extend(quads)
