"""Build the graph into an external SPARQL store: validate locally, stage, then switch.

1. Parse and validate the project locally, exactly as the embedded build does; nothing is sent
   unless the data conforms.
2. Load every named graph into a staging graph (``urn:x-alliance-graph:staging:<build>:<n>``)
   with Graph Store PUT (or DROP + INSERT DATA chunks). Staging graphs are outside the graph's
   scope, so queries never see them. A failure here drops the staging graphs and leaves the
   published graphs untouched.
3. Switch with one SPARQL update: ``MOVE`` each staging graph onto its final name and ``DROP``
   the graphs the project no longer has (https://www.w3.org/TR/sparql11-update/#move). One
   more graph holds the default graph as a set, every triple once
   (graph.store.external.remote_store.default_set_iri, issue 17).
   A store that runs an update request in one transaction (Oxigraph) switches atomically;
   others (Virtuoso) apply the operations one by one, so for the length of that request a
   reader may see some graphs new and some old. That is the residual window.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from graph.build.embedded import ValidationFailed, validate_project
from graph.core.errors import GraphError
from graph.sources.files import ParsedFile, SourceFile, Track, discover, no_progress, parse_sources
from graph.store import NamedNode, Quad
from graph.store.external.remote_store import RemoteStore

STAGING_PREFIX = "urn:x-alliance-graph:staging:"


@dataclass(frozen=True)
class RemoteBuildResult:
    """What a successful remote build published."""

    quads: int
    graphs: int
    files: int
    removed: int


def graphs_of(parsed: Sequence[ParsedFile], base: str) -> dict[str, list[Quad]]:
    """The quads of each named graph the store holds (ontology and data, not shapes)."""
    graphs: dict[str, list[Quad]] = {}
    for file in parsed:
        if file.source.role != "shapes":
            graphs.setdefault(file.source.graph(base), []).extend(file.quads)
    return graphs


def build_remote(
    project_dir: Path,
    store: RemoteStore,
    base: str,
    track: Track[SourceFile] = no_progress,
    track_graphs: Track[str] = no_progress,
) -> RemoteBuildResult:
    """Parse, validate and publish the project into an external store.

    :raises graph.store.RdfSyntaxError: if a file does not parse.
    :raises ValidationFailed: if the data breaks the shapes (nothing is sent to the store).
    """
    files = discover(project_dir)
    parsed = parse_sources(files, base, track)
    report = validate_project(parsed)
    if not report.conforms:
        raise ValidationFailed(report)
    graphs = graphs_of(parsed, base)
    named = len(graphs)
    graphs[store.default_set] = default_set(graphs.values())
    build_id = uuid.uuid4().hex
    staging = {name: f"{STAGING_PREFIX}{build_id}:{n}" for n, name in enumerate(sorted(graphs))}
    try:
        for name in track_graphs(sorted(graphs), "Loading", len(graphs)):
            store.put_graph(NamedNode(staging[name]), _restaged(graphs[name], staging[name]))
        stale = [g for g in store.scoped_graphs() if g not in graphs]
        store.update(switch_update(staging, stale))
    except BaseException:
        _drop_quietly(store, list(staging.values()))
        raise
    quads = sum(len(q) for g, q in graphs.items() if g != store.default_set)
    return RemoteBuildResult(quads, named, len(files), len(stale))


def default_set(graphs: Iterable[list[Quad]]) -> list[Quad]:
    """Every triple of ``graphs`` once, in the default graph."""
    triples = {(q.subject, q.predicate, q.object) for quads in graphs for q in quads}
    return [Quad(s, p, o) for s, p, o in triples]


def switch_update(staging: dict[str, str], stale: Sequence[str]) -> str:
    """One update moving each staging graph onto its final name and dropping stale graphs.

    >>> print(switch_update({"http://x/g": "urn:s:0"}, ["http://x/old"]))
    MOVE SILENT GRAPH <urn:s:0> TO GRAPH <http://x/g> ;
    DROP SILENT GRAPH <http://x/old>
    """
    moves = [f"MOVE SILENT GRAPH <{tmp}> TO GRAPH <{final}>" for final, tmp in staging.items()]
    drops = [f"DROP SILENT GRAPH <{graph}>" for graph in stale]
    return " ;\n".join(moves + drops)


def _restaged(quads: list[Quad], graph: str) -> list[Quad]:
    target = NamedNode(graph)
    return [Quad(q.subject, q.predicate, q.object, target) for q in quads]


def _drop_quietly(store: RemoteStore, graphs: Iterable[str]) -> None:
    """Remove staging graphs after a failure; a second failure must not hide the first."""
    for graph in graphs:
        try:
            store.remove_graph(NamedNode(graph))
        except GraphError:
            return
