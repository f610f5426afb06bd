"""Writes to an external store: SPARQL updates, and a named graph's triples replaced through the
store's Graph Store endpoint when it has one (INSERT DATA in chunks otherwise)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from pyoxigraph import DefaultGraph, NamedNode, Quad

from graph.core.errors import BadRequest, Forbidden
from graph.store.external.endpoints import Endpoints
from graph.store.external.query_text import has_blank_node, insert_data
from graph.store.external.transport import Transport
from graph.store.rdfio import ntriples, sparql_data_block, sparql_term

#: Triples per INSERT DATA request when a store has no Graph Store endpoint.
INSERT_CHUNK = 5000
#: Seconds a write (update, Graph Store PUT) may take.
WRITE_TIMEOUT = 600.0


class RemoteWrites:
    """The writing half of :class:`graph.store.external.remote_store.RemoteStore`, with
    pyoxigraph.Store's names; every write forgets the cached list of named graphs."""

    endpoints: Endpoints
    read_only: bool
    _http: Transport
    _graphs: tuple[float, list[str]] | None

    def update(self, update: str, *, base_iri: str | None = None) -> None:
        """Run a SPARQL update on the store.

        :raises graph.core.errors.Forbidden: if the store was opened read-only.
        :raises graph.store.QuerySyntaxError: if the store rejects the update (400).
        """
        self._writable()
        text = f"BASE <{base_iri}>\n{update}" if base_iri else update
        self._http.send(
            "POST",
            self.endpoints.update,
            timeout=WRITE_TIMEOUT,
            data=text.encode(),
            headers={"Content-Type": "application/sparql-update; charset=utf-8"},
        )
        self._graphs = None

    def extend(self, quads: Iterable[Quad]) -> None:
        """Add quads with INSERT DATA, in chunks (blank nodes are joined within a chunk only)."""
        for chunk in _chunks(quads, INSERT_CHUNK):
            self.update(insert_data(chunk))

    def add(self, quad: Quad) -> None:
        """Add one quad."""
        self.extend([quad])

    def remove(self, quad: Quad) -> None:
        """Remove one quad."""
        self.update(f"DELETE DATA {{\n{sparql_data_block([quad])}\n}}")

    def add_graph(self, graph_name: NamedNode) -> None:
        """Create a named graph (stores that drop empty graphs forget it until it holds data)."""
        self.update(f"CREATE SILENT GRAPH {sparql_term(graph_name)}")

    def clear_graph(self, graph_name: NamedNode | DefaultGraph) -> None:
        """Remove every triple of a graph."""
        target = (
            "DEFAULT"
            if isinstance(graph_name, DefaultGraph)
            else (f"GRAPH {sparql_term(graph_name)}")
        )
        self.update(f"CLEAR SILENT {target}")

    def remove_graph(self, graph_name: NamedNode | DefaultGraph) -> None:
        """Remove a named graph and its triples (the default graph is cleared)."""
        if isinstance(graph_name, DefaultGraph):
            self.clear_graph(graph_name)
        else:
            self.update(f"DROP SILENT GRAPH {sparql_term(graph_name)}")

    def put_graph(self, graph_name: NamedNode, quads: Sequence[Quad]) -> None:
        """Replace a named graph's triples: Graph Store PUT, or DROP then INSERT DATA chunks.

        A graph holding blank nodes goes in one request, so its blank nodes stay joined.
        """
        self._writable()
        if self.endpoints.gsp is not None:
            self._http.send(
                "PUT",
                self.endpoints.gsp,
                timeout=WRITE_TIMEOUT,
                params=[(self.endpoints.gsp_graph_param, graph_name.value)],
                data=ntriples(quads),
                headers={"Content-Type": "text/turtle; charset=utf-8"},
                rejected=BadRequest,  # the store refused triples, not SPARQL text
            )
            self._graphs = None
            return
        size = len(quads) if has_blank_node(quads) else INSERT_CHUNK
        self.remove_graph(graph_name)
        for chunk in _chunks(quads, max(size, 1)):
            self.update(insert_data(chunk))

    def _writable(self) -> None:
        if self.read_only:
            raise Forbidden("the external store is opened read-only")


def _chunks(quads: Iterable[Quad], size: int) -> Iterator[list[Quad]]:
    chunk: list[Quad] = []
    for quad in quads:
        chunk.append(quad)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
