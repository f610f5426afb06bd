"""Exports of the graph (or of a CONSTRUCT's result) for graph tools and RDF tools.

Graph formats (GEXF for Gephi, GraphML, Cytoscape JSON, Graphviz DOT) are written by networkx
from a property graph in which IRIs and blank nodes are nodes, literals are node attributes and
``rdf:type`` gives a node its class; every node and edge carries ``label``, ``class`` and
``iri``. RDF formats (JSON-LD, N-Quads, TriG) are written by Oxigraph.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import networkx as nx

from graph.answering import labels, queries
from graph.core.links import compact, prefixes
from graph.core.namespaces import RDF
from graph.store import (
    BlankNode,
    Literal,
    NamedNode,
    Quad,
    QueryTriples,
    RdfFormat,
    Store,
    Triple,
    dump_dataset,
    run_query,
    serialize_quads,
)

if TYPE_CHECKING:
    from graph.store.external.remote_store import RemoteStore


@dataclass(frozen=True)
class ExportFormat:
    """A format ``kg export`` and ``/export/{format}`` write: its media type and file suffix."""

    name: str
    media_type: str
    suffix: str
    rdf: bool = False


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat("gexf", "application/gexf+xml", "gexf"),
        ExportFormat("graphml", "application/graphml+xml", "graphml"),
        ExportFormat("cytoscape", "application/vnd.cytoscape+json", "cyjs"),
        ExportFormat("dot", "text/vnd.graphviz", "dot"),
        ExportFormat("jsonld", "application/ld+json", "jsonld", rdf=True),
        ExportFormat("nquads", "application/n-quads", "nq", rdf=True),
        ExportFormat("trig", "application/trig", "trig", rdf=True),
    )
}

GEXF_NS = "http://www.gexf.net/1.2draft"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"


class ExportError(ValueError):
    """An export that cannot be made (unknown format, a query that is not a CONSTRUCT)."""


class ExportTooLarge(ExportError):
    """An export over the most triples the caller allows (the web has a limit, kg export none)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the graph has more than {limit} triples")
        self.limit = limit


def select_triples(
    store: Store | RemoteStore,
    query: str | None,
    *,
    limit: int | None = None,
    prefixes: Mapping[str, str] | None = None,
) -> list[Triple]:
    """The triples to export: the result of ``query`` (a CONSTRUCT or DESCRIBE) or everything.
    ``prefixes`` are declared for ``query`` (its own declarations win).

    With ``limit``, reading stops one triple past it: time and memory stay bounded whatever
    the store's size.

    :raises ExportError: if ``query`` is not a CONSTRUCT or DESCRIBE query.
    :raises ExportTooLarge: if it gives more than ``limit`` triples.
    :raises graph.store.QuerySyntaxError: if it does not parse.
    """
    result = run_query(store, query or queries.ALL_TRIPLES, prefixes=prefixes)
    if not isinstance(result, QueryTriples):
        raise ExportError(
            "a graph needs a CONSTRUCT or DESCRIBE query (a SELECT or ASK answers with a table)"
        )
    if limit is None:
        return list(result)
    triples = list(itertools.islice(result, limit + 1))
    if len(triples) > limit:
        raise ExportTooLarge(limit)
    return triples


def node_id(term: NamedNode | BlankNode | Triple) -> str:
    """The node identifier of an IRI (itself), a blank node (``_:id``) or an RDF 1.2 triple
    term (as SPARQL writes it: ``<<( s p o )>>``, which no IRI or ``_:`` id can be).

    >>> t = Triple(NamedNode("http://e.org/a"), NamedNode("http://e.org/p"), BlankNode("b"))
    >>> node_id(t)
    '<<( <http://e.org/a> <http://e.org/p> _:b )>>'
    """
    if isinstance(term, Triple):
        return f"<<( {term} )>>"
    return term.value if isinstance(term, NamedNode) else f"_:{term.value}"


def property_graph(
    triples: Iterable[Triple], base: str, store: Store | RemoteStore | None = None
) -> nx.MultiDiGraph:
    """The property graph of ``triples``: literals and types become attributes of their node.

    A node's ``label`` is its best label (graph.answering.labels) among the triples, else, with
    ``store``, in the store, else its compact IRI.
    """
    graph = nx.MultiDiGraph(name="Alliance Graph")
    literals: dict[str, dict[str, list[str]]] = {}
    types: dict[str, list[str]] = {}
    candidates: dict[str, list[labels.Candidate]] = {}
    for triple in triples:
        subject, predicate, obj = triple.subject, triple.predicate.value, triple.object
        source = node_id(subject)
        graph.add_node(source)
        if isinstance(obj, Literal):
            literals.setdefault(source, {}).setdefault(compact(predicate, base), []).append(
                obj.value
            )
            if predicate in labels.LABEL_PROPERTIES:
                candidates.setdefault(source, []).append(
                    labels.Candidate(obj.value, obj.language or "", predicate)
                )
        elif predicate == RDF + "type" and isinstance(obj, NamedNode):
            types.setdefault(source, []).append(compact(obj.value, base))
        else:
            target = node_id(obj)
            graph.add_node(target)
            graph.add_edge(
                source,
                target,
                label=compact(predicate, base),
                iri=predicate,
                **{"class": compact(predicate, base)},
            )
    named = {node: text for node, found in candidates.items() if (text := labels.best(found))}
    if store is not None:
        unnamed = [node for node in graph.nodes if node not in named and not node.startswith("_:")]
        named.update(labels.best_labels(store, unnamed, base))
    for node, data in graph.nodes(data=True):
        data.update({key: " | ".join(values) for key, values in literals.get(node, {}).items()})
        data["label"] = named.get(node) or compact(node, base)
        data["iri"] = node
        data["class"] = _main_class(types.get(node, []))
    return graph


def _main_class(classes: list[str]) -> str:
    """One class to colour a node by: the project's own (ag:) first, then any, else none."""
    ours = sorted(c for c in classes if c.startswith("ag:"))
    return (ours or sorted(classes) or ["(untyped)"])[0]


#: What XML 1.0 cannot hold (https://www.w3.org/TR/xml/#charsets): C0 controls but tab, LF
#: and CR, lone surrogates, U+FFFE and U+FFFF. RDF literals may hold them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    r"""``value`` with each character XML 1.0 cannot hold replaced by U+FFFD.

    >>> xml_text("a\x00b\x1fc\td") == "a\ufffdb\ufffdc\td"
    True
    """
    return _NOT_XML.sub("\ufffd", value)


def _xml_safe(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """``graph`` with its attribute values made XML text (GEXF and GraphML are XML 1.0)."""
    for _node, data in graph.nodes(data=True):
        data.update({k: xml_text(v) for k, v in data.items() if isinstance(v, str)})
    for _source, _target, data in graph.edges(data=True):
        data.update({k: xml_text(v) for k, v in data.items() if isinstance(v, str)})
    return graph


def write_graph(graph: nx.MultiDiGraph, name: str) -> bytes:
    """Serialize a property graph in a graph tool's format (``gexf``, ``graphml``, ...).

    In the XML formats (GEXF, GraphML) a character XML 1.0 cannot hold (a NUL in a literal)
    becomes U+FFFD (:func:`xml_text`); the other formats keep it (JSON and DOT escape it).
    """
    if name == "gexf":
        return _gexf(_xml_safe(graph))
    if name == "graphml":
        buffer = io.BytesIO()
        nx.write_graphml(_xml_safe(graph), buffer, encoding="utf-8")
        return buffer.getvalue()
    if name == "cytoscape":
        return json.dumps(nx.cytoscape_data(graph), ensure_ascii=False, indent=1).encode("utf-8")
    if name == "dot":
        return _dot(graph)
    raise ExportError(f"unknown graph format {name!r}")


def _gexf(graph: nx.MultiDiGraph) -> bytes:
    """GEXF 1.2 from networkx, made schema-valid.

    networkx writes ``<graph name="">``, an attribute the GEXF 1.2 schema does not declare
    (gexf.xsd, graph-content): the graph's name goes into ``<meta><description>`` instead.
    """
    buffer = io.BytesIO()
    nx.write_gexf(graph, buffer, version="1.2draft")
    ET.register_namespace("", GEXF_NS)
    ET.register_namespace("xsi", XSI_NS)
    ET.register_namespace("viz", "http://www.gexf.net/1.2draft/viz")
    root = ET.fromstring(buffer.getvalue())
    element = root.find(f"{{{GEXF_NS}}}graph")
    assert element is not None
    element.attrib.pop("name", None)
    meta = root.find(f"{{{GEXF_NS}}}meta")
    if meta is not None:
        ET.SubElement(meta, f"{{{GEXF_NS}}}description").text = str(graph.graph.get("name", ""))
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _dot(graph: nx.MultiDiGraph) -> bytes:
    """Graphviz DOT via pydot; nodes are renamed n0, n1... (IRIs hold ':', a DOT port
    separator) and keep their IRI as an attribute."""
    names = {node: f"n{index}" for index, node in enumerate(graph.nodes)}
    renamed = nx.relabel_nodes(graph, names)
    simple = nx.MultiDiGraph(name="alliance_graph")
    for node, data in renamed.nodes(data=True):
        simple.add_node(node, **{key: dot_string(data[key]) for key in ("label", "iri", "class")})
    for source, target, data in renamed.edges(data=True):
        simple.add_edge(
            source, target, label=dot_string(data["label"]), iri=dot_string(data["iri"])
        )
    return str(nx.nx_pydot.to_pydot(simple).to_string()).encode("utf-8")


def dot_string(value: str) -> str:
    r"""``value`` as a quoted DOT string, which pydot writes as it is.

    pydot leaves a value in ``<...>`` unquoted, which DOT reads as an HTML-like label, and a
    value ending in a backslash would escape its closing quote: a literal "<b>" or "a\" from
    the data would break the file (https://graphviz.org/doc/info/lang.html).

    >>> print(dot_string('<b>"x"</b> \\'))
    "<b>\"x\"</b> \\"
    """
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_rdf(store: Store | RemoteStore, triples: list[Triple] | None, name: str) -> bytes:
    """Serialize the whole dataset (``triples`` None) or a query's triples in an RDF format."""
    fmt = RdfFormat.from_media_type(FORMATS[name].media_type)
    assert fmt is not None
    if triples is None:
        if isinstance(store, Store):  # what the dataset states, not the default graph's copy
            return bytes(dump_dataset(store, None, fmt) or b"")
        return bytes(store.dump(format=fmt) or b"")
    return serialize_quads((Quad(t.subject, t.predicate, t.object) for t in triples), fmt)


def export(
    store: Store | RemoteStore,
    name: str,
    base: str,
    query: str | None = None,
    *,
    limit: int | None = None,
) -> bytes:
    """The graph (or ``query``'s result) in the export format ``name``.

    ``limit`` bounds the triples read (a query's, or the whole graph's in a graph format).

    :raises ExportError: for an unknown format or a query that does not give triples.
    :raises ExportTooLarge: for more than ``limit`` triples.
    """
    if name not in FORMATS:
        raise ExportError(f"unknown export format {name!r}; choose one of: {', '.join(FORMATS)}")
    declared = prefixes(base)
    if FORMATS[name].rdf:
        chosen = select_triples(store, query, limit=limit, prefixes=declared) if query else None
        return write_rdf(store, chosen, name)
    triples = select_triples(store, query, limit=limit, prefixes=declared)
    return write_graph(property_graph(triples, base, store), name)
