"""The embedded Oxigraph store: the only module that imports pyoxigraph.

A store on disk is published as a symbolic link (``var/store``) to a generation directory
(``var/store.gen/<id>``). A build writes a new generation and swaps the link with one atomic
rename, so a failed or killed build never touches the graph that is being served.
"""

from __future__ import annotations

import csv
import io
import itertools
import queue
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import pyoxigraph
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Store,
    Triple,
    Variable,
)

from graph.generations import discard_generation, new_generation, publish_generation
from graph.namespaces import CANONICAL_BASE, rebase

if TYPE_CHECKING:
    from graph.remote import RemoteStore

__all__ = [
    "BlankNode",
    "DefaultGraph",
    "Literal",
    "NamedNode",
    "Quad",
    "QueryBoolean",
    "QueryResultsFormat",
    "QuerySolutions",
    "QueryTriples",
    "RdfFormat",
    "RdfSyntaxError",
    "Store",
    "Triple",
    "Variable",
    "discard_generation",
    "new_generation",
    "publish_generation",
]

#: A term a query variable can be bound to before evaluation.
Term = NamedNode | BlankNode | Literal


@dataclass(frozen=True)
class RdfSyntaxError(Exception):
    """An RDF file that does not parse, with where it breaks."""

    file: str
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: syntax error: {self.message}"


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


def serialize_quads(
    quads: Iterable[Quad], fmt: RdfFormat, prefixes: dict[str, str] | None = None
) -> bytes:
    """Serialize quads (or their triples, for graph formats) with Oxigraph's own writer."""
    if not fmt.supports_datasets:
        return pyoxigraph.serialize((q.triple for q in quads), format=fmt, prefixes=prefixes) or b""
    return pyoxigraph.serialize(quads, format=fmt, prefixes=prefixes) or b""


def memory_store(quads: Iterable[Quad] = ()) -> Store:
    """Return an in-memory store holding ``quads``."""
    store = Store()
    store.extend(quads)
    return store


def is_remote(location: str | Path) -> bool:
    """True when a store setting names an external SPARQL store (an http(s) URL), not a path.

    >>> is_remote("http://127.0.0.1:7878"), is_remote("var/store")
    (True, False)
    """
    return isinstance(location, str) and location.startswith(("http://", "https://"))


def open_store(
    location: str | Path, *, read_only: bool = False, options: Mapping[str, Any] | None = None
) -> Store | RemoteStore:
    """Open the store published at ``location``: a path, or the URL of an external SPARQL store.

    ``options`` are the resolved settings a remote store reads (kind, endpoints, credentials).

    :raises FileNotFoundError: if nothing has been built at a local ``location`` or it is not
        a store.
    """
    if is_remote(location):
        from graph.remote import RemoteStore

        return RemoteStore.from_settings(str(location), options, read_only=read_only)
    path = Path(location)
    if not path.exists():
        raise FileNotFoundError(f"no store at {path}: run `kg build --store {path}` first")
    real = path.resolve()
    if not (real / "CURRENT").is_file():
        raise FileNotFoundError(f"{path} is not an Oxigraph store (it has no CURRENT file)")
    return Store.read_only(str(real)) if read_only else Store(str(real))


def load_generation(directory: Path, quads: Iterable[Quad]) -> int:
    """Bulk-load ``quads`` into a fresh store in ``directory``; return how many were loaded."""
    store = Store(str(directory))
    count = 0

    def counted() -> Iterator[Quad]:
        nonlocal count
        for quad in quads:
            count += 1
            yield quad

    store.bulk_extend(counted())
    store.flush()
    store.optimize()
    del store
    return count


def load_dataset_file(directory: Path, source: Path) -> int:
    """Bulk-load a dataset file (N-Quads, TriG) as it is into a new store in ``directory``.

    :raises RdfSyntaxError: naming the file, line and column where parsing failed.
    """
    try:
        quads = pyoxigraph.parse(path=str(source), format=rdf_format_for(source))
        return load_generation(directory, quads)
    except SyntaxError as error:
        raise RdfSyntaxError(str(source), error.lineno, error.offset, error.msg) from None


@dataclass(frozen=True)
class QuerySyntaxError(Exception):
    """A SPARQL query or update that does not parse, with the line and column where it breaks."""

    message: str

    @classmethod
    def from_oxigraph(cls, error: SyntaxError) -> QuerySyntaxError:
        """Reword Oxigraph's ``error at L:C: ...`` as ``line L, column C: ...``.

        >>> str(QuerySyntaxError.from_oxigraph(SyntaxError("error at 1:25: expected one of X")))
        'SPARQL syntax error at line 1, column 25: expected one of X'
        """
        text = str(error)
        match = re.match(r"error at (\d+):(\d+): (.*)", text, re.DOTALL)
        if not match:
            return cls(text)
        line, column, rest = match.groups()
        return cls(f"at line {line}, column {column}: {_shorten_expected(rest)}")

    def __str__(self) -> str:
        return f"SPARQL syntax error {self.message}"


def _shorten_expected(message: str, keep: int = 8) -> str:
    """Cut the parser's list of expected tokens (it can run to hundreds of characters).

    >>> _shorten_expected('expected one of "a", "b", "c"', keep=2)
    'expected one of "a", "b", ...'
    """
    prefix = "expected one of "
    if not message.startswith(prefix):
        return message
    tokens = message[len(prefix) :].split(", ")
    if len(tokens) <= keep:
        return message
    return prefix + ", ".join(tokens[:keep]) + ", ..."


#: Deepest nesting of (, { and [ a query may use. Oxigraph's SPARQL parser recurses, and a few
#: thousand levels overflow an 8 MiB thread stack and kill the process (SIGSEGV); real queries
#: stay far below this, and a worker thread's stack may be smaller than the main thread's.
MAX_QUERY_NESTING = 200


def check_query_text(text: str) -> None:
    """Refuse a query or update that is not UTF-8 text or is nested too deep, before parsing it.

    A command-line argument with bytes that are not UTF-8 arrives as lone surrogates.

    >>> check_query_text("ASK { ?s ?p '\\udcff' }")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    graph.store.QuerySyntaxError: ... at line 1, column 14: not UTF-8 text (byte 0xff)
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        line = text.count("\n", 0, error.start) + 1
        column = error.start - (text.rfind("\n", 0, error.start) + 1) + 1
        byte = ord(text[error.start]) & 0xFF
        raise QuerySyntaxError(
            f"at line {line}, column {column}: not UTF-8 text (byte {byte:#x})"
        ) from None
    check_nesting(text)


def check_nesting(text: str) -> None:
    """Refuse a query or update nested deeper than :data:`MAX_QUERY_NESTING` before parsing it.

    Every bracket counts, even in a string or a comment: skipping those would need a second
    SPARQL lexer, and one that disagreed with Oxigraph's could be used to hide real nesting.

    >>> check_nesting("SELECT * WHERE { FILTER(1) }")
    >>> check_nesting("ASK {" + "(" * 300 + "}")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    graph.store.QuerySyntaxError: ... at line 1, column 205: nested deeper than 200 levels
    """
    depth, line, column = 0, 1, 0
    for char in text:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
        elif char in "({[":
            depth += 1
            if depth > MAX_QUERY_NESTING:
                where = f"at line {line}, column {column}"
                raise QuerySyntaxError(f"{where}: nested deeper than {MAX_QUERY_NESTING} levels")
        elif char in ")}]":
            depth -= 1


QueryResult = QuerySolutions | QueryBoolean | QueryTriples


def run_query(
    store: Store | RemoteStore,
    text: str,
    *,
    union_default_graph: bool = True,
    default_graphs: Sequence[str] = (),
    named_graphs: Sequence[str] = (),
    bindings: Mapping[str, Term] | None = None,
    prefixes: Mapping[str, str] | None = None,
) -> QueryResult:
    """Evaluate a SPARQL query; the default graph is the union of the named graphs unless asked.

    ``default_graphs``/``named_graphs`` (IRIs) set the dataset as the protocol's
    ``default-graph-uri``/``named-graph-uri`` do; unknown graphs are simply empty.
    ``bindings`` fixes variables before evaluation (SEP-0007 substitution), so that an IRI from
    a request never has to be pasted into query text. ``prefixes`` are declared for the query.

    >>> store = memory_store()
    >>> bool(run_query(store, "ASK { }"))
    True
    >>> rows = run_query(store, "SELECT ?x { }", bindings={"x": NamedNode("http://e.org/a")})
    >>> [row["x"].value for row in rows]
    ['http://e.org/a']

    :raises QuerySyntaxError: if the query does not parse (the message gives line:column).
    """
    options: dict[str, object] = {}
    if default_graphs:
        options["default_graph"] = [NamedNode(iri) for iri in default_graphs]
    else:
        options["use_default_graph_as_union"] = union_default_graph
    if named_graphs:
        options["named_graphs"] = [NamedNode(iri) for iri in named_graphs]
    elif default_graphs:
        options["named_graphs"] = [NamedNode(iri) for iri in default_graphs]
    if bindings:
        options["substitutions"] = {Variable(name): term for name, term in bindings.items()}
    if prefixes:
        options["prefixes"] = dict(prefixes)
    check_query_text(text)
    try:
        return store.query(text, **options)  # type: ignore[arg-type]
    except SyntaxError as error:
        raise QuerySyntaxError.from_oxigraph(error) from None


class TooManyResults(Exception):
    """A result with more rows or triples than allowed."""


#: Fewest bytes one solution takes in each results format (an empty row: TSV "\\n", CSV
#: "\\r\\n", JSON "{}", XML "<result/>"), so a body shorter than ``limit`` times this cannot
#: hold more than ``limit`` rows.
_MIN_ROW_BYTES = {
    QueryResultsFormat.TSV: 1,
    QueryResultsFormat.CSV: 2,
    QueryResultsFormat.JSON: 2,
    QueryResultsFormat.XML: 9,
}


def serialize_limited(result: QueryResult, media_type: str, limit: int) -> bytes:
    """Serialize ``result`` like :func:`serialize_results`, refusing more than ``limit`` rows.

    Rows are counted exactly without Python touching every solution: the answer is written
    once by Oxigraph in the format asked for; when its length alone proves it holds at most
    ``limit`` rows (the usual case) nothing is counted, otherwise the rows are counted in the
    body (TSV lines, or the body parsed back by Oxigraph and written as TSV). CONSTRUCT
    triples are counted while they are collected.

    >>> store = memory_store()
    >>> rows = run_query(store, "SELECT ?x { VALUES ?x {1 2} }")
    >>> serialize_limited(rows, "text/csv", 2).split()
    [b'x', b'1', b'2']

    :raises TooManyResults: if the result is over ``limit``.
    """
    if isinstance(result, QueryBoolean):
        return serialize_results(result, media_type)
    if isinstance(result, QueryTriples):
        triples = list(itertools.islice(result, limit + 1))
        if len(triples) > limit:
            raise TooManyResults(f"more than {limit} triples")
        rdf_format = RdfFormat.from_media_type(media_type)
        if rdf_format is None:
            raise ValueError(f"{media_type} is not an RDF format")
        return pyoxigraph.serialize(triples, format=rdf_format) or b""
    results_format = QueryResultsFormat.from_media_type(media_type)
    if results_format is None:
        raise ValueError(f"{media_type} is not a SPARQL results format")
    body = result.serialize(format=results_format) or b""
    if len(body) // _MIN_ROW_BYTES[results_format] > limit and _rows(body, results_format) > limit:
        raise TooManyResults(f"more than {limit} rows")
    return body


def _rows(body: bytes, results_format: QueryResultsFormat) -> int:
    """The number of solutions in a serialized SELECT answer.

    >>> body = b'x,y\\r\\n"a\\r\\nb",1\\r\\n,\\r\\n'
    >>> _rows(body, QueryResultsFormat.CSV)
    2
    """
    if results_format == QueryResultsFormat.CSV:
        # Oxigraph cannot read CSV back (it is lossy); fields with line breaks are quoted.
        return sum(1 for _ in csv.reader(io.StringIO(body.decode(), newline=""))) - 1
    if results_format != QueryResultsFormat.TSV:
        parsed = pyoxigraph.parse_query_results(body, format=results_format)
        if isinstance(parsed, QueryBoolean):
            return 1
        body = parsed.serialize(format=QueryResultsFormat.TSV) or b""
    # TSV escapes line breaks inside terms: one line per row after the header.
    return body.count(b"\n") - 1


def serialize_results(result: QueryResult, media_type: str) -> bytes:
    """Serialize query results with Oxigraph's own writers, in the format ``media_type`` names.

    :raises ValueError: if the media type does not fit the kind of result.
    """
    if isinstance(result, QueryTriples):
        rdf_format = RdfFormat.from_media_type(media_type)
        if rdf_format is None:
            raise ValueError(f"{media_type} is not an RDF format")
        return result.serialize(format=rdf_format) or b""
    results_format = QueryResultsFormat.from_media_type(media_type)
    if results_format is None:
        raise ValueError(f"{media_type} is not a SPARQL results format")
    return result.serialize(format=results_format) or b""


def select_rows(store: Store | RemoteStore, text: str) -> list[dict[str, str]]:
    """Run a SELECT query and return its rows as plain strings (unbound variables left out).

    >>> select_rows(memory_store(), "SELECT ?x WHERE { VALUES ?x { 1 } }")
    [{'x': '1'}]
    """
    result = run_query(store, text)
    if not isinstance(result, QuerySolutions):
        raise ValueError("select_rows needs a SELECT query")
    names = [v.value for v in result.variables]
    return [{name: row[name].value for name in names if row[name] is not None} for row in result]


class UpdateFailed(Exception):
    """A SPARQL update that parses but cannot run, e.g. ``DROP GRAPH`` of a missing graph."""


def run_update(store: Store, text: str) -> None:
    """Run a SPARQL update in one transaction: either all of it is applied or nothing is.

    :raises QuerySyntaxError: if the update does not parse (the message gives line:column).
    :raises UpdateFailed: if an operation fails (nothing was written).
    """
    check_query_text(text)
    try:
        store.update(text)
    except SyntaxError as error:
        raise QuerySyntaxError.from_oxigraph(error) from None
    except RuntimeError as error:
        raise UpdateFailed(str(error)) from None


def graph_exists(store: Store, graph: str | None) -> bool:
    """True if ``graph`` names a graph of the store; the default graph (None) always exists."""
    return graph is None or store.contains_named_graph(NamedNode(graph))


def graph_content(store: Store, graph: str | None) -> list[Quad]:
    """The quads of one graph (None: the store's own default graph, not the union)."""
    name = NamedNode(graph) if graph else DefaultGraph()
    return list(store.quads_for_pattern(None, None, None, name))


def copy_to_memory(store: Store) -> Store:
    """An in-memory copy of ``store``: every quad and every (possibly empty) named graph."""
    scratch = Store()
    scratch.extend(store)
    for name in store.named_graphs():
        scratch.add_graph(name)
    return scratch


def dump_nquads(store: Store) -> bytes:
    """The whole store as N-Quads, sorted line by line (a stable snapshot for comparisons)."""
    text = pyoxigraph.serialize(store, format=RdfFormat.N_QUADS) or b""
    return b"".join(sorted(text.splitlines(keepends=True)))


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

    :raises ValueError: naming what is wrong with it.
    """
    node = NamedNode(value)
    if ":" not in node.value:
        raise ValueError(f"{value!r} is not an absolute IRI")
    return node.value


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
    return pyoxigraph.serialize(triples, format=rdf_format, prefixes=dict(prefixes or {})) or b""


def dataset_format(media_type: str) -> RdfFormat:
    """The RDF dataset format (N-Quads, TriG, JSON-LD) that ``media_type`` names.

    :raises ValueError: for an unknown type or one that cannot hold named graphs.
    """
    rdf_format = RdfFormat.from_media_type(media_type)
    if rdf_format is None or not rdf_format.supports_datasets:
        raise ValueError(f"{media_type} is not an RDF dataset format")
    return rdf_format


class _QueueWriter:
    """A binary file-like object whose writes go into a bounded queue (a stream's producer)."""

    def __init__(self, chunks: queue.Queue[bytes | None], cancelled: threading.Event) -> None:
        self.chunks = chunks
        self.cancelled = cancelled

    def write(self, data: bytes) -> int:
        while not self.cancelled.is_set():
            try:
                self.chunks.put(bytes(data), timeout=0.5)
                return len(data)
            except queue.Full:
                continue
        raise OSError("the reader of the dump went away")

    def flush(self) -> None:
        """Nothing is buffered here."""


def stream_dump(
    store: Store, media_type: str, prefixes: Mapping[str, str] | None = None
) -> Iterator[bytes]:
    r"""Yield the whole dataset serialized by Oxigraph, chunk by chunk, in bounded memory.

    Oxigraph writes into a queue from a thread while the caller reads; closing the iterator
    early (a client that disconnects) stops the writer.

    >>> s = memory_store([Quad(NamedNode("http://e.org/a"), NamedNode("http://e.org/p"),
    ...                        Literal("1"), NamedNode("http://e.org/g"))])
    >>> b"".join(stream_dump(s, "application/n-quads")).decode()
    '<http://e.org/a> <http://e.org/p> "1" <http://e.org/g> .\n'
    """
    rdf_format = dataset_format(media_type)
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=64)
    cancelled = threading.Event()
    failure: list[OSError] = []

    def produce() -> None:
        try:
            writer = cast(IO[bytes], _QueueWriter(chunks, cancelled))
            store.dump(writer, rdf_format, prefixes=dict(prefixes or {}))
        except OSError as error:
            failure.append(error)
        finally:
            if not cancelled.is_set():
                chunks.put(None)

    writer = threading.Thread(target=produce, name="kg-dump", daemon=True)
    writer.start()
    try:
        while (chunk := chunks.get()) is not None:
            yield chunk
    finally:
        cancelled.set()
        writer.join()
    if failure:
        raise failure[0]


# Helpers for graph.remote: turning an external store's HTTP answers into pyoxigraph's own
# result objects, so code written against the embedded store cannot tell the difference.


def solutions_from_bytes(data: bytes, media_type: str) -> QuerySolutions | QueryBoolean:
    """Parse SPARQL results (JSON, XML or TSV) into pyoxigraph's QuerySolutions or QueryBoolean.

    >>> bool(solutions_from_bytes(b'{"head":{},"boolean":true}', "application/sparql-results+json"))
    True

    :raises ValueError: if the media type is not a SPARQL results format.
    :raises SyntaxError: if the payload does not parse.
    """
    fmt = QueryResultsFormat.from_media_type(media_type)
    if fmt is None:
        raise ValueError(f"{media_type!r} is not a SPARQL results format")
    return pyoxigraph.parse_query_results(data, format=fmt)


def triples_from_bytes(data: bytes, media_type: str) -> QueryTriples:
    """Parse an RDF graph (a CONSTRUCT or DESCRIBE answer) into pyoxigraph's QueryTriples.

    QueryTriples cannot be built directly, so the triples go through an in-memory store and a
    ``CONSTRUCT WHERE`` that keeps blank nodes (only template blank nodes are renamed).

    :raises ValueError: if the media type is not an RDF format.
    :raises SyntaxError: if the payload does not parse.
    """
    fmt = RdfFormat.from_media_type(media_type)
    if fmt is None:
        raise ValueError(f"{media_type!r} is not an RDF format")
    store = Store()
    store.extend(pyoxigraph.parse(data, format=fmt))
    result = store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    assert isinstance(result, QueryTriples)
    return result


def quads_from_solutions(
    solutions: QuerySolutions, graph: NamedNode | DefaultGraph | None
) -> Iterator[Quad]:
    """Turn ``?s ?p ?o ?g`` solutions into quads (``graph`` when ``?g`` is not selected)."""
    for row in solutions:
        name = row["g"] if graph is None else graph
        yield Quad(row["s"], row["p"], row["o"], name if name is not None else DefaultGraph())


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


def open_generation(directory: Path) -> Store:
    """Open a new generation's store for writing (bulk loads, then validation queries)."""
    return Store(str(directory))


def bulk_load_file(store: Store, path: Path, graph: str, base: str) -> None:
    """Stream one RDF file into ``store``, in ``graph`` (dataset formats keep their own graphs).

    With the canonical base the file goes straight from disk into the store in Rust; another
    base needs every IRI rewritten, which streams the quads through Python.

    :raises RdfSyntaxError: naming the file, line and column where parsing failed.
    """
    fmt = rdf_format_for(path)
    target = None if fmt.supports_datasets else NamedNode(graph)
    try:
        if base == CANONICAL_BASE:
            store.bulk_load(path=str(path), format=fmt, to_graph=target)
        else:
            parser = pyoxigraph.parse(path=str(path), format=fmt)
            store.bulk_extend(_rebased(q, target or q.graph_name, base) for q in parser)
    except SyntaxError as error:
        raise RdfSyntaxError(str(path), error.lineno, error.offset, error.msg) from None


def finish_generation(store: Store) -> int:
    """Flush and compact a loaded generation; return how many quads it holds."""
    store.flush()
    store.optimize()
    return len(store)
