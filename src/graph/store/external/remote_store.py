"""An external SPARQL 1.1 store behind the subset of pyoxigraph.Store's API the application uses.

``RemoteStore`` answers ``query`` with pyoxigraph's own QuerySolutions, QueryBoolean and
QueryTriples (parsed from the store's SPARQL results or RDF), so views, exports and the
command line work unchanged whichever store ``get_store()`` returns. Nothing is kept between
requests except a short-lived list of the graph's named graphs, so several application
instances can serve one store. The store's answers are read by graph.store.external.answers,
the writes are graph.store.external.writing's and the dumps graph.store.external.dumping's.

The default graph as the union of the named graphs (``use_default_graph_as_union=True``) is
asked for portably, through the protocol's dataset parameters: ``default-graph-uri`` and
``named-graph-uri`` list the named graphs under ``{base}graph/``
(https://www.w3.org/TR/sparql11-protocol/#dataset). That keeps a store's own graphs (Virtuoso's
system graphs) and a build's staging graphs out of every answer, on every kind of store.

Neither Oxigraph nor Virtuoso merges several default graphs into a set, so a triple stated by
two graphs would count twice; ``kg build --store URL`` therefore also writes the set of every
triple into one graph outside the scope (:func:`default_set_iri`), and that graph is the default
graph when it exists (issue 17, as graph.store.default_graph does on the embedded store). Its
blank nodes are not those of the named graphs: the store names them afresh for each graph.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QuerySolutions,
    RdfFormat,
    Variable,
)

from graph.core import settings
from graph.core.errors import QueryTimeout
from graph.core.namespaces import graph_iri
from graph.store.external import dumping
from graph.store.external.answers import (
    GRAPH_ACCEPT,
    SOLUTIONS_ACCEPT,
    QueryResult,
    read_answer,
)
from graph.store.external.endpoints import Endpoints, endpoints_from_settings
from graph.store.external.query_text import (
    bound_for,
    canonical_booleans,
    query_form,
    with_prefixes,
    with_values,
)
from graph.store.external.transport import Credentials, Params, Transport
from graph.store.external.writing import RemoteWrites
from graph.store.rdfio import sparql_term
from graph.store.results import quads_from_solutions

Term = NamedNode | BlankNode | Literal

#: An IRI no graph has, sent as the default graph while the graph has no named graph yet.
EMPTY_GRAPH = "urn:x-alliance-graph:empty"


def default_set_iri(graph_scope: str) -> str:
    """The graph holding the default graph's set of triples for the graph under ``graph_scope``.

    >>> default_set_iri("https://w3id.org/alliance-graph/graph/")
    'urn:x-alliance-graph:default:https://w3id.org/alliance-graph/graph/'
    """
    return f"urn:x-alliance-graph:default:{graph_scope}"


class RemoteStore(RemoteWrites):
    """An external SPARQL 1.1 store with pyoxigraph.Store's names and semantics (a subset);
    its writes are :class:`graph.store.external.writing.RemoteWrites`'s."""

    def __init__(
        self,
        endpoints: Endpoints,
        credentials: Credentials,
        *,
        graph_scope: str,
        timeout: float = 10.0,
        graph_ttl: float = 2.0,
        read_only: bool = False,
        max_answer_bytes: int = 0,
    ) -> None:
        self.endpoints = endpoints
        #: Named graphs whose IRI starts with this prefix make up the graph.
        self.graph_scope = graph_scope
        self.timeout = timeout
        self.read_only = read_only
        self._graph_ttl = graph_ttl
        self._graphs: tuple[float, list[str]] | None = None
        self._has_set = False
        #: The graph holding the default graph as a set (:func:`default_set_iri`).
        self.default_set = default_set_iri(graph_scope)
        self._http = Transport(credentials, max_answer_bytes=max_answer_bytes)

    @classmethod
    def from_settings(
        cls, url: str, values: Mapping[str, Any] | None = None, *, read_only: bool = False
    ) -> RemoteStore:
        """A store at ``url`` configured from resolved settings (defaults: the environment)."""
        merged = settings.resolve(values)
        endpoints = endpoints_from_settings(url, merged)
        credentials = Credentials(
            merged["store_user"],
            merged["store_password"],
            merged["store_authorization"],
            endpoints.auth_scheme,
        )
        return cls(
            endpoints,
            credentials,
            graph_scope=graph_iri("", merged["base_iri"]),
            timeout=float(merged["query_timeout"]),
            graph_ttl=float(merged["store_graph_ttl"]),
            read_only=read_only,
            max_answer_bytes=int(merged["query_memory_mb"]) * 2**20,
        )

    def query(
        self,
        query: str,
        *,
        base_iri: str | None = None,
        use_default_graph_as_union: bool = False,
        default_graph: NamedNode | Sequence[NamedNode] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
        substitutions: Mapping[Variable, Term] | None = None,
        prefixes: Mapping[str, str] | None = None,
    ) -> QueryResult:
        """Evaluate a SPARQL query on the store, as ``pyoxigraph.Store.query`` does.

        ``substitutions`` become a VALUES block, ``prefixes`` PREFIX declarations
        (graph.store.external.query_text).

        :raises graph.store.QuerySyntaxError: if the store rejects the query (400).
        :raises ValueError: if a substitution cannot be placed (``CONSTRUCT WHERE``).
        :raises graph.core.errors.QueryTimeout: at the time limit.
        :raises graph.core.errors.StoreUnavailable: if the store cannot be reached or answers
            what cannot be read.
        """
        text = with_values(query, {v.value: t for v, t in (substitutions or {}).items()})
        text = with_prefixes(text, prefixes or {})
        text = f"BASE <{base_iri}>\n{text}" if base_iri else text
        form = query_form(text)
        accept = GRAPH_ACCEPT if form in ("CONSTRUCT", "DESCRIBE") else SOLUTIONS_ACCEPT
        if form is None:
            accept = f"{SOLUTIONS_ACCEPT}, {GRAPH_ACCEPT}"
        params: list[tuple[str, str]] = [
            ("query", text),
            *self._dataset(use_default_graph_as_union, default_graph, named_graphs),
            *self._timeout_param(),
        ]
        response = self._http.send(
            "POST",
            self.endpoints.query,
            timeout=self.timeout,
            data=params,
            headers={"Accept": accept},
        )
        # Virtuoso's "anytime" queries answer 200 with partial results at the time limit.
        if response.headers.get("X-SQL-State") == "S1TAT":
            raise QueryTimeout(f"the external store stopped the query after {self.timeout:g} s")
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        content = response.content
        if self.endpoints.kind == "virtuoso":
            content = canonical_booleans(content, media_type)
        return read_answer(content, media_type, ask=form == "ASK")

    def _dataset(
        self,
        union: bool,
        default_graph: NamedNode | Sequence[NamedNode] | None,
        named_graphs: Sequence[NamedNode] | None,
    ) -> Params:
        defaults: list[str] = []
        named: list[str] = []
        if default_graph is not None:
            graphs = [default_graph] if isinstance(default_graph, NamedNode) else default_graph
            defaults = [g.value for g in graphs]
        if named_graphs is not None:
            named = [g.value for g in named_graphs]
        if union and default_graph is None:
            scoped = self.scoped_graphs()
            defaults = [self.default_set] if self._has_set else scoped or [EMPTY_GRAPH]
            named = named or scoped or [EMPTY_GRAPH]
        return [
            *(("default-graph-uri", g) for g in defaults),
            *(("named-graph-uri", g) for g in named),
        ]

    def _timeout_param(self) -> Params:
        if self.endpoints.timeout_param is None:
            return []
        value = round(self.timeout / self.endpoints.timeout_unit)
        return [(self.endpoints.timeout_param, str(value))]

    def scoped_graphs(self) -> list[str]:
        """IRIs of the named graphs under the graph scope (cached for ``store_graph_ttl`` s)."""
        now = time.monotonic()
        if self._graphs is not None and now - self._graphs[0] < self._graph_ttl:
            return self._graphs[1]
        text = (
            "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
            f"FILTER(STRSTARTS(STR(?g), {_string(self.graph_scope)}) || ?g = <{self.default_set}>)"
            " } ORDER BY ?g"
        )
        result = self.query(text)
        assert isinstance(result, QuerySolutions)
        found = [row["g"].value for row in result if row["g"] is not None]
        graphs = [g for g in found if g != self.default_set]
        self._has_set = len(graphs) < len(found)
        self._graphs = (now, graphs)
        return graphs

    def _scope_nodes(self) -> list[NamedNode]:
        return [NamedNode(g) for g in self.scoped_graphs() or [EMPTY_GRAPH]]

    def named_graphs(self) -> Iterator[NamedNode]:
        """The graph's non-empty named graphs (those under the scope; stores drop empty ones)."""
        return iter([NamedNode(g) for g in self.scoped_graphs()])

    def contains_named_graph(self, graph_name: NamedNode) -> bool:
        """True if the named graph holds a triple."""
        result = self.query(f"ASK {{ GRAPH {sparql_term(graph_name)} {{ ?s ?p ?o }} }}")
        return bool(result)

    def quads_for_pattern(
        self,
        subject: Term | None,
        predicate: NamedNode | None,
        object: Term | None,
        graph_name: NamedNode | DefaultGraph | None = None,
    ) -> Iterator[Quad]:
        """Quads matching a pattern; ``graph_name=None`` means any of the graph's named graphs."""
        s = "?s" if subject is None else sparql_term(subject)
        p = "?p" if predicate is None else sparql_term(predicate)
        o = "?o" if object is None else sparql_term(object)
        pattern = f"{{ {s} {p} {o} }} {bound_for(s, p, o)}"
        if isinstance(graph_name, DefaultGraph):
            # The store's own default graph is not part of the graph (Virtuoso's is the union
            # of every graph it holds, its system graphs included): the set a build wrote is.
            self.scoped_graphs()
            default = self.default_set if self._has_set else EMPTY_GRAPH
            result = self.query(
                f"SELECT ?s ?p ?o WHERE {{ {pattern} }}", default_graph=NamedNode(default)
            )
        elif isinstance(graph_name, NamedNode):
            graph = sparql_term(graph_name)
            result = self.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH {graph} {pattern} }}")
        else:
            result = self.query(
                f"SELECT ?s ?p ?o ?g WHERE {{ GRAPH ?g {pattern} }}",
                named_graphs=self._scope_nodes(),
            )
        assert isinstance(result, QuerySolutions)
        return quads_from_solutions(result, graph_name)

    def __len__(self) -> int:
        """Number of quads in the graph's named graphs."""
        result = self.query(
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
            named_graphs=self._scope_nodes(),
        )
        assert isinstance(result, QuerySolutions)
        return sum(int(row["n"].value) for row in result if row["n"] is not None)

    def dump(
        self,
        output: str | Path | IO[bytes] | None = None,
        format: RdfFormat | None = None,
        *,
        from_graph: NamedNode | DefaultGraph | None = None,
        prefixes: Mapping[str, str] | None = None,
    ) -> bytes | None:
        """Serialize the graph (or one named graph) as ``pyoxigraph.Store.dump`` does, one
        named graph at a time for line-based formats (graph.store.external.dumping)."""
        return dumping.dump(self, output, format, from_graph=from_graph, prefixes=prefixes)


def _string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
