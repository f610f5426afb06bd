"""The embedded Oxigraph store: the only module that imports pyoxigraph.

A store on disk is published as a symbolic link (``var/store``) to a generation directory
(``var/store.gen/<id>``). A build writes a new generation and swaps the link with one atomic
rename, so a failed or killed build never touches the graph that is being served.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

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
)

from graph.namespaces import CANONICAL_BASE, rebase

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
]

#: How many earlier generations to keep beside the current one (a server may still read them).
KEEP_GENERATIONS = 1


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
        parser = pyoxigraph.parse(path=str(path), format=fmt)
        quads = [_rebased(quad, target, base) for quad in parser]
    except SyntaxError as error:
        raise RdfSyntaxError(str(path), error.lineno, error.offset, error.msg) from None
    return quads, dict(parser.prefixes)


def parse_bytes(data: bytes, fmt: RdfFormat, graph: str | None, base: str) -> list[Quad]:
    """Parse an RDF payload (e.g. an HTTP body) into quads in ``graph``.

    :raises RdfSyntaxError: with the line and column where parsing failed.
    """
    target = NamedNode(graph) if graph else DefaultGraph()
    try:
        return [_rebased(q, target, base) for q in pyoxigraph.parse(data, format=fmt)]
    except SyntaxError as error:
        raise RdfSyntaxError("request body", error.lineno, error.offset, error.msg) from None


def _rebased(quad: Quad, graph: NamedNode | DefaultGraph, base: str) -> Quad:
    subject, predicate, obj = quad.subject, quad.predicate, quad.object
    if isinstance(subject, NamedNode):
        subject = _iri(subject, base)
    if isinstance(obj, NamedNode):
        obj = _iri(obj, base)
    return Quad(subject, _iri(predicate, base), obj, graph)


def _iri(node: NamedNode, base: str) -> NamedNode:
    moved = rebase(node.value, base)
    return node if moved == node.value else NamedNode(moved)


def serialize_quads(quads: Iterable[Quad], fmt: RdfFormat) -> bytes:
    """Serialize quads (or their triples, for graph formats) with Oxigraph's own writer."""
    if not fmt.supports_datasets:
        return pyoxigraph.serialize((q.triple for q in quads), format=fmt) or b""
    return pyoxigraph.serialize(quads, format=fmt) or b""


def memory_store(quads: Iterable[Quad] = ()) -> Store:
    """Return an in-memory store holding ``quads``."""
    store = Store()
    store.extend(quads)
    return store


def open_store(path: Path, *, read_only: bool = False) -> Store:
    """Open the store published at ``path`` (following its generation link).

    :raises FileNotFoundError: if nothing has been built at ``path``.
    """
    if not path.exists():
        raise FileNotFoundError(f"no store at {path}: run `kg build --store {path}` first")
    real = str(path.resolve())
    return Store.read_only(real) if read_only else Store(real)


def new_generation(path: Path) -> Path:
    """Create and return an empty directory for the next generation of the store at ``path``."""
    generations = path.parent / (path.name + ".gen")
    generations.mkdir(parents=True, exist_ok=True)
    directory = (
        generations / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns()}"
    )
    directory.mkdir()
    return directory


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


def publish_generation(path: Path, directory: Path) -> None:
    """Point ``path`` at ``directory`` in one atomic rename, then prune old generations."""
    if path.exists() and not path.is_symlink():
        raise FileExistsError(f"{path} exists and is not a store link made by `kg build`")
    link = path.parent / f".{path.name}.link-{os.getpid()}"
    if link.is_symlink():
        link.unlink()
    link.symlink_to(os.path.relpath(directory, path.parent))
    os.replace(link, path)
    _prune(directory)


def _prune(current: Path) -> None:
    others = sorted((d for d in current.parent.iterdir() if d != current), key=lambda d: d.name)
    for stale in others[: max(0, len(others) - KEEP_GENERATIONS)]:
        shutil.rmtree(stale, ignore_errors=True)


def discard_generation(directory: Path) -> None:
    """Remove a generation that was never published."""
    shutil.rmtree(directory, ignore_errors=True)


@dataclass(frozen=True)
class QuerySyntaxError(Exception):
    """A SPARQL query or update that does not parse, with Oxigraph's line:column position."""

    message: str

    def __str__(self) -> str:
        return f"SPARQL syntax error {self.message}"


QueryResult = QuerySolutions | QueryBoolean | QueryTriples


def run_query(store: Store, text: str, *, union_default_graph: bool = True) -> QueryResult:
    """Evaluate a SPARQL query; the default graph is the union of the named graphs unless asked.

    >>> store = memory_store()
    >>> bool(run_query(store, "ASK { }"))
    True

    :raises QuerySyntaxError: if the query does not parse (the message gives line:column).
    """
    try:
        return store.query(text, use_default_graph_as_union=union_default_graph)
    except SyntaxError as error:
        raise QuerySyntaxError(str(error)) from None


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


def select_rows(store: Store, text: str) -> list[dict[str, str]]:
    """Run a SELECT query and return its rows as plain strings (unbound variables left out).

    >>> select_rows(memory_store(), "SELECT ?x WHERE { VALUES ?x { 1 } }")
    [{'x': '1'}]
    """
    result = run_query(store, text)
    if not isinstance(result, QuerySolutions):
        raise ValueError("select_rows needs a SELECT query")
    names = [v.value for v in result.variables]
    return [{name: row[name].value for name in names if row[name] is not None} for row in result]


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
