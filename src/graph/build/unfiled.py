"""Graphs of the store that no project file provides: written over HTTP (issue 12, item 1).

The files under ``data/`` are the source of truth: a build loads each into its named graph and
publishes a new generation holding nothing else. A graph a client wrote with the token (a
SPARQL update, a Graph Store PUT/POST) exists only in the store, so a build would drop it.
Before it publishes, a build looks for such graphs in the generation it replaces and refuses
while there are any, unless told to drop them; ``kg save-graphs`` writes them out as Turtle
files under ``data/sources/``, where the next build loads them like any curated file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from graph.core.namespaces import PREFIXES, graph_iri
from graph.store import NamedNode, RdfFormat, Store, has_own_triples, serialize_quads
from graph.store.backup import open_snapshot

#: How the store's own default graph (``/store?default``) is named in messages.
DEFAULT = "the default graph"
#: A graph name that can be a file stem under data/sources/ (see data/README.md).
FILE_STEM = re.compile(r"^[a-z0-9][a-z0-9-]{0,120}$")


class UnfiledGraphs(Exception):
    """The store holds graphs no project file provides; a build would drop them."""

    def __init__(self, store: Path, graphs: list[str]) -> None:
        shown = ", ".join(g if g == DEFAULT else f"<{g}>" for g in graphs)
        super().__init__(
            f"{store} holds {len(graphs)} graph(s) that no file under data/ provides (written"
            f" over HTTP, or loaded from a file since removed): {shown}; a build would drop"
            f" them. Run `kg save-graphs --store {store}` to keep them as files in"
            " data/sources/, or `kg build --drop-unfiled` to drop them"
        )
        self.graphs = graphs


@dataclass(frozen=True)
class SavedGraph:
    """One graph written out by :func:`save_graphs`."""

    graph: str
    path: Path
    triples: int


def unfiled_graphs(store_path: Path, loaded: Iterable[str]) -> list[str]:
    """The non-empty graphs of the store published at ``store_path`` not among ``loaded``.

    ``loaded`` are the IRIs of the graphs the build loads from files, and :data:`DEFAULT` if
    a file states triples in the default graph (an N-Quads line without a graph). The store's
    own default graph counts when it holds triples and no file provides it. Nothing published:
    no graph.
    """
    previous = _published(store_path)
    if previous is None:
        return []
    files = set(loaded)
    found = sorted(
        name.value
        for name in previous.named_graphs()
        if isinstance(name, NamedNode)
        and name.value not in files
        and _holds_triples(previous, name)
    )
    # Its own triples, not the copy of the named graphs' (issue 17).
    if DEFAULT not in files and has_own_triples(previous):
        found.append(DEFAULT)
    return found


def save_graphs(
    store_path: Path, project_dir: Path, base: str, loaded: Iterable[str]
) -> list[SavedGraph]:
    """Write every graph :func:`unfiled_graphs` finds as ``data/sources/{name}.ttl``.

    ``{name}`` is the graph's name under ``{base}graph/`` (the graph a file of that stem is
    loaded into), so the next build loads each file back into the same graph.

    :raises ValueError: naming a graph that cannot become a file (the default graph, an IRI
        outside ``{base}graph/``, a name that is not a file stem) or a file that exists;
        nothing is written then.
    """
    graphs = unfiled_graphs(store_path, loaded)
    targets = [(graph, _file_for(graph, project_dir, base)) for graph in graphs]
    store = _published(store_path)
    saved: list[SavedGraph] = []
    for graph, path in targets:
        assert store is not None  # graphs were found in it
        quads = list(store.quads_for_pattern(None, None, None, NamedNode(graph)))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(serialize_quads(quads, RdfFormat.TURTLE, dict(PREFIXES)))
        saved.append(SavedGraph(graph, path, len(quads)))
    return saved


def _file_for(graph: str, project_dir: Path, base: str) -> Path:
    prefix = graph_iri("", base)
    name = graph[len(prefix) :] if graph.startswith(prefix) else ""
    if graph == DEFAULT or not FILE_STEM.match(name):
        raise ValueError(
            f"{graph} cannot be saved as a file: only graphs named {prefix}NAME (NAME in"
            " lowercase letters, digits and hyphens) map to data/sources/NAME.ttl; move its"
            " triples into such a graph, or drop it with `kg build --drop-unfiled`"
        )
    path = project_dir / "data" / "sources" / f"{name}.ttl"
    if path.exists():
        raise ValueError(f"{path} exists already; a curated file is never overwritten")
    return path


def _published(store_path: Path) -> Store | None:
    """The published store (a link made by a build), read-only; None if nothing is published.

    :raises graph.store.generations.StoreBusy: while a process writes it (see open_snapshot).
    """
    return open_snapshot(store_path) if store_path.is_symlink() else None


def _holds_triples(store: Store, graph: NamedNode) -> bool:
    return next(iter(store.quads_for_pattern(None, None, None, graph)), None) is not None
