"""Opening, loading, copying and dumping stores, and the generations they live in."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

import pyoxigraph
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,  # noqa: F401  (used by the doctests)
    NamedNode,
    Quad,
    RdfFormat,
    Store,
)

from graph.core.errors import GraphError
from graph.core.namespaces import CANONICAL_BASE
from graph.store.default_graph import maintained, materialize, stated_count, stated_quads
from graph.store.evaluation import store_failed
from graph.store.rdfio import (
    RdfSyntaxError,
    _rebased,
    dataset_format,
    rdf_format_for,
    sparql_data_block,
)

if TYPE_CHECKING:
    from graph.store.external.remote_store import RemoteStore

log = logging.getLogger("kg")


def memory_store(quads: Iterable[Quad] = ()) -> Store:
    """Return an in-memory store holding ``quads``, its default graph the set of their triples
    (graph.store.default_graph)."""
    store = Store()
    store.extend(quads)
    materialize(store)
    return store


def is_remote(location: str | Path) -> bool:
    """True when a store setting names an external SPARQL store (an http(s) URL), not a path.

    >>> is_remote("http://127.0.0.1:7878"), is_remote("var/store")
    (True, False)
    """
    return isinstance(location, str) and location.startswith(("http://", "https://"))


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
    materialize(store)
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


def graph_exists(store: Store, graph: str | None) -> bool:
    """True if ``graph`` names a graph of the store; the default graph (None) always exists."""
    return graph is None or store.contains_named_graph(NamedNode(graph))


def graph_content(store: Store, graph: str | None) -> list[Quad]:
    """The quads of one graph (None: the store's own default graph, not the union)."""
    name = NamedNode(graph) if graph else DefaultGraph()
    return list(store.quads_for_pattern(None, None, None, name))


def dump_dataset(
    store: Store,
    output: IO[bytes] | str | None,
    fmt: RdfFormat,
    prefixes: Mapping[str, str] | None = None,
) -> bytes | None:
    """Write what the dataset states (graph.store.default_graph.stated_quads) in the dataset
    format ``fmt`` to ``output`` (a file, a path, or None: returned)."""
    return pyoxigraph.serialize(
        stated_quads(store), output, format=fmt, prefixes=dict(prefixes or {})
    )


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
    store: Store | RemoteStore, media_type: str, prefixes: Mapping[str, str] | None = None
) -> Iterator[bytes]:
    r"""Yield the whole dataset serialized by Oxigraph, chunk by chunk, in bounded memory.

    Oxigraph writes into a queue from a thread while the caller reads; closing the iterator
    early (a client that disconnects) stops the writer. A dump that fails part-way (the store
    cannot be read, an external store stops answering) raises the domain's error after the
    chunks written so far, never ends as if it were whole: a WSGI server that already sent the
    head then drops the connection, so the client sees the answer cut off (PEP 3333).

    >>> s = memory_store([Quad(NamedNode("http://e.org/a"), NamedNode("http://e.org/p"),
    ...                        Literal("1"), NamedNode("http://e.org/g"))])
    >>> b"".join(stream_dump(s, "application/n-quads")).decode()
    '<http://e.org/a> <http://e.org/p> "1" <http://e.org/g> .\n'

    :raises graph.core.errors.StoreUnavailable: if the store fails the dump part-way (logged).
    :raises graph.core.errors.QueryTimeout: if an external store stops answering in time.
    """
    rdf_format = dataset_format(media_type)
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=64)
    cancelled = threading.Event()
    failure: list[GraphError] = []

    def produce() -> None:
        try:
            writer = cast(IO[bytes], _QueueWriter(chunks, cancelled))
            if isinstance(store, Store):
                dump_dataset(store, writer, rdf_format, prefixes)
            else:  # an external store writes its named graphs
                store.dump(writer, rdf_format, prefixes=dict(prefixes or {}))
        except (OSError, RuntimeError) as error:  # the engine's, or the reader went away
            if not cancelled.is_set():  # a dump reads no client's text: the store failed it
                failure.append(store_failed(error))
        except GraphError as error:  # an external store's (graph.store.external.transport)
            # Raised again on the reader's thread: without the frames that hold this thread's
            # pyoxigraph answers, which must die where they were made.
            error.__context__ = None
            failure.append(error.with_traceback(None))
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
        log.warning("a dump stopped part-way, its reader gets it cut off: %s", failure[0])
        raise failure[0]


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
    """Make a loaded generation's default graph the set of its triples, flush and compact it;
    return how many quads it states (the default graph's copy of the named graphs' triples not
    counted: graph.store.default_graph).

    Compacted, the generation answers the lookups of validation as fast as it scans.
    """
    # Counted before the copy exists: then the count looks up only the default graph's own
    # triples, after it every triple (1M: 0.7 s against 25 s; docs/scaling.md, issue 12).
    count = stated_count(store)
    materialize(store)
    store.flush()
    store.optimize()
    return count


def apply_change(
    store: Store,
    removed: Iterable[Quad],
    added: Iterable[Quad],
    *,
    created: Iterable[str] = (),
    dropped: Iterable[str] = (),
    as_is: bool = False,
) -> None:
    """Remove ``removed``, add ``added``, create and drop named graphs, in one transaction.

    ``as_is``: the change already holds the default graph's share (graph.store.Change's
    ``maintained``), which is then not worked out again.

    The change travels as one SPARQL update (DELETE DATA, INSERT DATA, CREATE, DROP), which
    Oxigraph applies atomically; the default graph gains and loses the triples that keep it the
    set of every triple (graph.store.default_graph). Blank nodes cannot be written in DATA
    blocks with their identity kept (SPARQL 1.1 Update, section 3.1.1), so quads holding one are
    removed and added through the store's own methods just after: those steps are atomic each,
    not together.
    """
    # The default graph follows the named graphs (graph.store.default_graph).
    removed_set, added_set = (
        (set(removed), set(added)) if as_is else maintained(store, removed, added)
    )
    removed, added = list(removed_set), list(added_set)
    plain_removed = [q for q in removed if not _has_blank_node(q)]
    plain_added = [q for q in added if not _has_blank_node(q)]
    steps = [f"DROP SILENT GRAPH <{g}>" for g in dropped]
    if plain_removed:
        steps.append(f"DELETE DATA {{ {sparql_data_block(plain_removed)} }}")
    steps += [f"CREATE SILENT GRAPH <{g}>" for g in created]
    if plain_added:
        steps.append(f"INSERT DATA {{ {sparql_data_block(plain_added)} }}")
    if steps:
        store.update(" ;\n".join(steps))
    for quad in removed:
        if _has_blank_node(quad):
            store.remove(quad)
    store.extend(q for q in added if _has_blank_node(q))


def _has_blank_node(quad: Quad) -> bool:
    return isinstance(quad.subject, BlankNode) or isinstance(quad.object, BlankNode)
