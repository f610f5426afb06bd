"""Validate added source documents against a built store, in time proportional to the documents.

The added files go into a small in-memory store together with the neighbourhood they touch in
the published store: the ontology, the descriptions of every node they name, of the nodes that
link to those, and two hops out from them (enough for sh:class on values and one level of
sh:node). The compiled checks then run only on the file's nodes and the nodes linking to them.
"""

from __future__ import annotations

from collections.abc import Sequence

from rdflib import Graph

from graph.core.namespaces import graph_iri
from graph.sources.files import Progress, SourceFile, no_progress
from graph.store import NamedNode, Quad, QuerySolutions, Store, bulk_load_file, run_query
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
    # Only nodes the files describe can change another node's conformance: a node they merely
    # point to gains no statement, so its referrers are left alone (hubs stay cheap).
    named = _iris(work, "SELECT DISTINCT ?n WHERE { ?n ?p ?o }")
    linking = _linking(published, named, replaced)
    focus = sorted(named | linking)
    _copy_graph(published, work, graph_iri("ontology", base))
    frontier = set(focus)
    seen: set[str] = set()
    for _ in range(HOPS_OUT + 1):
        frontier -= seen
        seen |= frontier
        frontier = _copy_descriptions(published, work, sorted(frontier), replaced)
    return validate_store(work, shapes, added, base, focus=focus, track=track)


def added_nodes(store: Store, added: Sequence[SourceFile], base: str) -> set[str]:
    """The IRIs the added files describe, and the IRIs that link to them in other graphs."""
    nodes: set[str] = set()
    for source in added:
        nodes |= _iris(
            store,
            f"SELECT DISTINCT ?n WHERE {{ GRAPH <{source.graph(base)}> {{ ?n ?p ?o }} }}",
        )
    return nodes | _linking(store, nodes, {s.graph(base) for s in added})


def _iris(store: Store, text: str) -> set[str]:
    result = run_query(store, text)
    if not isinstance(result, QuerySolutions):
        raise TypeError("expected a SELECT query")
    return {row[0].value for row in result if isinstance(row[0], NamedNode)}


def _values(nodes: Sequence[str]) -> str:
    return " ".join(f"<{n}>" for n in nodes)


def _linking(published: Store, nodes: set[str], replaced: set[str]) -> set[str]:
    """IRIs that link to one of ``nodes`` in graphs other than the replaced ones."""
    found: set[str] = set()
    ordered = sorted(nodes)
    skip = _values(sorted(replaced))
    for start in range(0, len(ordered), CHUNK_SIZE):
        values = _values(ordered[start : start + CHUNK_SIZE])
        found |= _iris(
            published,
            f"SELECT DISTINCT ?s WHERE {{ VALUES ?n {{ {values} }} GRAPH ?g {{ ?s ?p ?n }}"
            f" FILTER(?g NOT IN ({', '.join(skip.split()) or '<urn:none>'})) }}",
        )
    return found


def _copy_graph(published: Store, work: Store, graph: str) -> None:
    work.extend(published.quads_for_pattern(None, None, None, NamedNode(graph)))


def _copy_descriptions(
    published: Store, work: Store, nodes: Sequence[str], replaced: set[str]
) -> set[str]:
    """Copy what ``published`` says about ``nodes``; return the IRIs those statements point to."""
    objects: set[str] = set()
    quads: list[Quad] = []
    for node in nodes:
        for quad in published.quads_for_pattern(NamedNode(node), None, None, None):
            graph = quad.graph_name
            if isinstance(graph, NamedNode) and graph.value in replaced:
                continue
            quads.append(quad)
            if isinstance(quad.object, NamedNode):
                objects.add(quad.object.value)
    work.extend(quads)
    return objects
