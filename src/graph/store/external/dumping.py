"""An external store's graph serialized as ``pyoxigraph.Store.dump`` does, from the quads its
queries return (graph.store.external.remote_store)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pyoxigraph import DefaultGraph, NamedNode, RdfFormat

from graph.store.rdfio import serialize_quads

if TYPE_CHECKING:
    from graph.store.external.remote_store import RemoteStore


def dump(
    store: RemoteStore,
    output: str | Path | IO[bytes] | None,
    format: RdfFormat | None,
    *,
    from_graph: NamedNode | DefaultGraph | None,
    prefixes: Mapping[str, str] | None,
) -> bytes | None:
    """``store``'s graph (or one named graph) in ``format``, written to ``output`` (a path or a
    binary file) or returned when ``output`` is None.

    Line-based formats (N-Quads, N-Triples) are fetched and written one named graph at a
    time, so a dump of the whole graph holds one graph in memory, not all of them.
    """
    if format is None:
        raise ValueError("dump needs a format")
    if from_graph is None and not format.supports_datasets:
        raise ValueError(f"{format.name} holds one graph: give from_graph")
    if output is None:
        buffer = io.BytesIO()
        _write(store, buffer, format, from_graph, prefixes)
        return buffer.getvalue()
    if isinstance(output, str | Path):
        with Path(output).open("wb") as file:
            _write(store, file, format, from_graph, prefixes)
    else:
        _write(store, output, format, from_graph, prefixes)
    return None


def _write(
    store: RemoteStore,
    output: IO[bytes],
    format: RdfFormat,
    from_graph: NamedNode | DefaultGraph | None,
    prefixes: Mapping[str, str] | None,
) -> None:
    if from_graph is None and format in (RdfFormat.N_QUADS, RdfFormat.N_TRIPLES):
        for graph in store.named_graphs():
            quads = store.quads_for_pattern(None, None, None, graph)
            output.write(serialize_quads(quads, format))
        return
    everything = store.quads_for_pattern(None, None, None, from_graph)
    output.write(serialize_quads(everything, format, dict(prefixes) if prefixes else None))
