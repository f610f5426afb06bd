"""Curated graphs are not removed over HTTP by accident (issue 12, item 6).

A curated graph is one a file of the project provides (``data/sources/x.ttl`` is loaded into
``graph/x``, the ontology into ``graph/ontology``): ``kg build`` loads it, and the file is its
source of truth. An empty store conforms to every shape, so validation alone lets ``DROP ALL``,
``CLEAR GRAPH``, a ``DELETE WHERE`` that matches everything or a Graph Store ``DELETE`` take
a curated graph away. Such a write is refused with 409 unless the ``allow_curated_removal``
setting is on; edits that leave the graph with triples stay allowed (the next build puts the
file's version back: see the README, "HTTP writes and the files in data/").

The write path calls :func:`refuse_curated_removal` once it has applied the change to its staged
state and before it commits::

    refuse_curated_removal(
        graphs_with_triples(live), graphs_with_triples(staged), curated, allowed=allowed
    )

with ``curated = curated_graphs(project_dir, base_iri)`` and ``allowed`` the setting.
"""

from __future__ import annotations

from collections.abc import Set
from functools import lru_cache
from pathlib import Path

from graph.core.errors import CuratedGraphProtected
from graph.sources.files import provided_graphs
from graph.store import NamedNode, Store


@lru_cache(maxsize=4)
def curated_graphs(project_dir: str, base: str) -> frozenset[str]:
    """The IRIs of the graphs the project's files provide, under ``base`` (once per process).

    :raises graph.store.RdfSyntaxError: if a dataset file (.nq, .trig) does not parse.
    """
    return frozenset(provided_graphs(Path(project_dir), base))


def graphs_with_triples(store: Store) -> set[str]:
    """The IRIs of the named graphs of ``store`` that hold at least one triple."""
    return {
        name.value
        for name in store.named_graphs()
        if isinstance(name, NamedNode)
        and next(iter(store.quads_for_pattern(None, None, None, name)), None) is not None
    }


def refuse_curated_removal(
    before: Set[str], after: Set[str], curated: Set[str], *, allowed: bool
) -> None:
    """Refuse a write that takes a curated graph from holding triples (``before``) to none.

    ``before`` and ``after`` are the graphs holding triples before and after the write
    (:func:`graphs_with_triples` of the live and the staged store).

    :raises CuratedGraphProtected: naming the graphs, unless ``allowed``.
    """
    removed = sorted((before - after) & curated)
    if removed and not allowed:
        shown = ", ".join(f"<{graph}>" for graph in removed)
        raise CuratedGraphProtected(
            f"the write would remove {shown}, loaded by `kg build` from a file under data/ (a"
            " curated graph); nothing was changed. Retire a curated graph by removing its file"
            " and rebuilding, or start the server with KG_ALLOW_CURATED_REMOVAL=1"
        )
