"""RDF files and payloads: parsing with located errors, serializing with Oxigraph."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pyoxigraph
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    RdfFormat,
    Triple,
)

from graph.core.errors import BadRequest, NotAcceptable
from graph.core.namespaces import rebase
from graph.store.xmlcheck import check_xml
from graph.store.xmlterms import check_rdf_xml

if TYPE_CHECKING:
    pass


#: A statement: a triple or a quad.
S = TypeVar("S", Triple, Quad)

#: A term a query variable can be bound to before evaluation.
Term = NamedNode | BlankNode | Literal


class RdfSyntaxError(BadRequest):
    """An RDF file or payload that does not parse, with where it breaks (the engine's
    SyntaxError, as the domain's error: a 400 for an upload).

    >>> str(RdfSyntaxError("data/x.ttl", 3, 7, "expected '.'"))
    "data/x.ttl:3:7: syntax error: expected '.'"
    """

    def __init__(self, file: str, line: int | None, column: int | None, message: str) -> None:
        self.file, self.line, self.column, self.message = file, line, column, message
        where = file
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: syntax error: {message}")


def rdf_format_for(path: Path) -> RdfFormat:
    """Return the RDF format a file's extension names.

    >>> rdf_format_for(Path("data/x.ttl")).name
    'Turtle'
    """
    fmt = RdfFormat.from_extension(path.suffix.lstrip("."))
    if fmt is None:
        raise ValueError(f"{path}: unknown RDF file extension {path.suffix!r}")
    return fmt


def parse_file(path: Path, graph: str | None, base: str) -> tuple[list[Quad], dict[str, str]]:
    """Parse one RDF file into quads in ``graph`` (None: the default graph), IRIs moved to ``base``.

    Also returns the file's prefix declarations, used to point at lines in error reports.

    :raises RdfSyntaxError: naming the file, line and column where parsing failed.
    """
    fmt = rdf_format_for(path)
    target = NamedNode(graph) if graph else DefaultGraph()
    try:
        if fmt == RdfFormat.JSON_LD:
            check_json_nesting(path.read_bytes())
        parser = pyoxigraph.parse(path=str(path), format=fmt)
        quads = [_rebased(quad, target, base) for quad in parser]
    except SyntaxError as error:
        raise RdfSyntaxError(str(path), error.lineno, error.offset, error.msg) from None
    return quads, dict(parser.prefixes)


def parse_bytes(
    data: bytes,
    fmt: RdfFormat,
    graph: str | None,
    base: str,
    *,
    base_iri: str | None = None,
    source: str = "request body",
) -> list[Quad]:
    """Parse an RDF payload (e.g. an HTTP body) into quads in ``graph``.

    Relative IRIs resolve against ``base_iri``; blank nodes get fresh identifiers, so two payloads
    merged into one graph never share a blank node by accident (RDF 1.1 Semantics, section 5.2).

    :raises RdfSyntaxError: naming ``source`` with the line and column where parsing failed.
    """
    target = NamedNode(graph) if graph else DefaultGraph()
    try:
        if fmt == RdfFormat.JSON_LD:
            check_json_nesting(data)
        if fmt == RdfFormat.RDF_XML:
            check_xml(data)
        parser = pyoxigraph.parse(data, format=fmt, base_iri=base_iri, rename_blank_nodes=True)
        return [_rebased(q, target, base) for q in parser]
    except SyntaxError as error:
        raise RdfSyntaxError(source, error.lineno, error.offset, error.msg) from None


#: Deepest JSON nesting of objects and arrays parsed. Oxigraph's JSON-LD parser recurses and
#: killed the process with SIGSEGV at about 4000 nested objects (a 40 kB body).
MAX_JSON_NESTING = 200


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"{}[]")


def check_json_nesting(data: bytes) -> None:
    """Raise SyntaxError (as the parser would) for JSON nested deeper than MAX_JSON_NESTING.

    >>> check_json_nesting(b'{"a": [{"b": "{{{{"}]}')
    >>> check_json_nesting(b"[" * 201)
    Traceback (most recent call last):
    SyntaxError: objects and arrays nested deeper than 200 levels
    """
    brackets = _JSON_STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        depth += 1 if byte in b"{[" else -1
        if depth > MAX_JSON_NESTING:
            raise SyntaxError(f"objects and arrays nested deeper than {MAX_JSON_NESTING} levels")


def _rebased(quad: Quad, graph: NamedNode | DefaultGraph, base: str) -> Quad:
    subject, predicate, obj = quad.subject, quad.predicate, quad.object
    if isinstance(obj, Triple):
        # Oxigraph reads RDF 1.2 (triple terms, ``~`` reifiers); the graph and its validator are
        # RDF 1.1, and rdflib cannot read such a term back. Raised as the parser's own error.
        raise SyntaxError(f"RDF 1.2 triple terms are not accepted (found {obj}); use RDF 1.1")
    if isinstance(subject, NamedNode):
        subject = _iri(subject, base)
    if isinstance(obj, NamedNode):
        obj = _iri(obj, base)
    return Quad(subject, _iri(predicate, base), obj, graph)


def _iri(node: NamedNode, base: str) -> NamedNode:
    moved = rebase(node.value, base)
    return node if moved == node.value else NamedNode(moved)


#: Formats whose Oxigraph writer cannot write an RDF 1.2 triple term (pyoxigraph 0.5.13:
#: "JSON-LD does not support RDF 1.2 yet", raised as an OSError, which reads as a store error).
FORMATS_WITHOUT_TRIPLE_TERMS = frozenset({RdfFormat.JSON_LD})


def writable_statements(statements: Iterable[S], fmt: RdfFormat) -> Iterable[S]:
    """``statements`` (triples or quads), refused if ``fmt`` cannot write one of them: a
    CONSTRUCT can make RDF 1.2 triple terms (``<<( s p o )>>``), which JSON-LD cannot hold.

    >>> a, p = NamedNode("http://e.org/a"), NamedNode("http://e.org/p")
    >>> len(list(writable_statements([Triple(a, p, a)], RdfFormat.JSON_LD)))
    1
    >>> list(writable_statements([Triple(a, p, Triple(a, p, a))], RdfFormat.JSON_LD))
    Traceback (most recent call last):
    graph.core.errors.NotAcceptable: the result holds an RDF 1.2 triple term, which JSON-LD ...

    RDF/XML cannot write some predicates nor characters XML 1.0 cannot hold
    (graph.store.xmlterms).

    :raises NotAcceptable: naming the format and those that can.
    """
    if fmt not in FORMATS_WITHOUT_TRIPLE_TERMS and fmt != RdfFormat.RDF_XML:
        return statements
    kept = list(statements)
    if fmt == RdfFormat.RDF_XML:
        check_rdf_xml(kept)
    elif any(isinstance(s.object, Triple) for s in kept):
        raise NotAcceptable(
            f"the result holds an RDF 1.2 triple term, which {fmt.name} cannot write:"
            " ask for Turtle, N-Triples, TriG, N-Quads or RDF/XML"
        )
    return kept


def serialize_quads(
    quads: Iterable[Quad], fmt: RdfFormat, prefixes: dict[str, str] | None = None
) -> bytes:
    """Serialize quads (or their triples, for graph formats) with Oxigraph's own writer.

    :raises NotAcceptable: if ``fmt`` cannot write one of them (:func:`writable_statements`).
    """
    quads = writable_statements(quads, fmt)
    if not fmt.supports_datasets:
        return pyoxigraph.serialize((q.triple for q in quads), format=fmt, prefixes=prefixes) or b""
    return pyoxigraph.serialize(quads, format=fmt, prefixes=prefixes) or b""


def sparql_data_block(quads: Iterable[Quad]) -> str:
    """Quads written as the body of ``INSERT DATA { ... }`` (N-Triples terms are SPARQL terms)."""
    by_graph: dict[str, list[str]] = {}
    for quad in quads:
        graph = "" if isinstance(quad.graph_name, DefaultGraph) else str(quad.graph_name)
        by_graph.setdefault(graph, []).append(f"{quad.subject} {quad.predicate} {quad.object} .")
    blocks = []
    for graph, triples in by_graph.items():
        body = "\n".join(triples)
        blocks.append(f"GRAPH {graph} {{\n{body}\n}}" if graph else body)
    return "\n".join(blocks)


def check_iri(value: str) -> str:
    """Return ``value`` if it is an absolute IRI.

    >>> check_iri("https://w3id.org/alliance-graph/graph/x")
    'https://w3id.org/alliance-graph/graph/x'

    >>> check_iri("relative/path")
    Traceback (most recent call last):
    graph.core.errors.BadRequest: No scheme found in an absolute IRI

    :raises BadRequest: naming what is wrong with it (the engine's reading of IRIs), which the
        caller words for the parameter it came in.
    """
    try:
        node = NamedNode(value)
    except ValueError as error:
        raise BadRequest(str(error)) from None
    if ":" not in node.value:
        raise BadRequest(f"{value!r} is not an absolute IRI")
    return node.value


def named_node(value: str) -> NamedNode | None:
    """The engine's node for the IRI ``value``, or None if the engine does not take it as one
    (a space, a quote, a blank node's id): no statement can mention it. For values that are
    looked up, not refused (:func:`check_iri` words the refusal of a client's parameter).

    >>> named_node("http://e.org/a b") is None
    True
    >>> named_node("http://e.org/a")
    <NamedNode value=http://e.org/a>
    """
    try:
        return NamedNode(value)
    except ValueError:
        return None


def rdf_format_of(media_type: str) -> RdfFormat | None:
    """The RDF format a media type names, or None."""
    return RdfFormat.from_media_type(media_type)


def rdf_format_of_extension(extension: str) -> RdfFormat | None:
    """The RDF format a file extension (without the dot) names, or None."""
    return RdfFormat.from_extension(extension)


def serialize_triples(
    triples: Iterable[Triple], media_type: str, prefixes: Mapping[str, str] | None = None
) -> bytes:
    r"""Serialize triples in the RDF format ``media_type`` names, with ``prefixes`` where it can.

    >>> t = Triple(NamedNode("http://e.org/a"), NamedNode("http://e.org/p"), Literal("1"))
    >>> serialize_triples([t], "text/turtle", {"e": "http://e.org/"}).decode()
    '@prefix e: <http://e.org/> .\ne:a e:p "1" .\n'

    :raises ValueError: if the media type is not an RDF format.
    """
    rdf_format = RdfFormat.from_media_type(media_type)
    if rdf_format is None:
        raise ValueError(f"{media_type} is not an RDF format")
    triples = writable_statements(triples, rdf_format)
    return pyoxigraph.serialize(triples, format=rdf_format, prefixes=dict(prefixes or {})) or b""


def dataset_format(media_type: str) -> RdfFormat:
    """The RDF dataset format (N-Quads, TriG, JSON-LD) that ``media_type`` names.

    :raises ValueError: for an unknown type or one that cannot hold named graphs.
    """
    rdf_format = RdfFormat.from_media_type(media_type)
    if rdf_format is None or not rdf_format.supports_datasets:
        raise ValueError(f"{media_type} is not an RDF dataset format")
    return rdf_format


def sparql_term(term: NamedNode | BlankNode | Literal | DefaultGraph) -> str:
    """A term in SPARQL syntax (N-Triples syntax is a subset of it).

    >>> sparql_term(Literal("a \\"b\\"", language="en"))
    '"a \\\\"b\\\\""@en'
    """
    if isinstance(term, BlankNode | DefaultGraph):
        raise ValueError(f"{term} cannot be sent to a remote store as a pattern term")
    return str(term)


def ntriples(quads: Iterable[Quad]) -> bytes:
    """The triples of ``quads`` as N-Triples (also valid Turtle), for Graph Store PUT."""
    return serialize_quads(quads, RdfFormat.N_TRIPLES)


def nquads(quads: Iterable[Quad]) -> bytes:
    """``quads`` as N-Quads, blank nodes by their own labels (see :func:`read_nquads`)."""
    return serialize_quads(quads, RdfFormat.N_QUADS)


def read_nquads(data: bytes) -> list[Quad]:
    """The quads of N-Quads ``data`` as written by :func:`nquads`, blank nodes keeping their
    labels: a copy made in another process names the same nodes (``Store.load`` would rename
    them).

    >>> quad = Quad(BlankNode("b1"), NamedNode("http://e.org/p"), Literal("x"))
    >>> read_nquads(nquads([quad])) == [quad]
    True
    """
    return list(pyoxigraph.parse(data, format=RdfFormat.N_QUADS))
