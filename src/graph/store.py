"""The embedded Oxigraph store: the only module that imports pyoxigraph.

A store on disk is published as a symbolic link (``var/store``) to a generation directory
(``var/store.gen/<id>``). A build writes a new generation and swaps the link with one atomic
rename, so a failed or killed build never touches the graph that is being served.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import struct
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

from graph.namespaces import rebase

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

#: Keep the generation published before the current one (a server may still be reading it).
KEEP_PREVIOUS_GENERATION = True


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

    :raises FileNotFoundError: if nothing has been built at ``path`` or it is not a store.
    """
    if not path.exists():
        raise FileNotFoundError(f"no store at {path}: run `kg build --store {path}` first")
    real = path.resolve()
    if not (real / "CURRENT").is_file():
        raise FileNotFoundError(f"{path} is not an Oxigraph store (it has no CURRENT file)")
    return Store.read_only(str(real)) if read_only else Store(str(real))


def new_generation(path: Path) -> Path:
    """Create and return an empty directory for the next generation of the store at ``path``.

    :raises FileExistsError: if ``path`` exists and is not a store link (checked first, so
        nothing is created beside a file that is not ours).
    """
    _check_link(path)
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
    """Point ``path`` at ``directory`` in one atomic rename, then prune old generations.

    The generation the link pointed at before is kept (a server may still be reading it); every
    other generation is removed unless the build that is writing it is still running.
    """
    _check_link(path)
    previous = path.resolve() if path.is_symlink() else None
    _remove_stale_links(path)
    link = path.parent / f".{path.name}.link-{os.getpid()}"
    if link.is_symlink():
        link.unlink()
    link.symlink_to(os.path.relpath(directory, path.parent))
    os.replace(link, path)
    _fsync_directory(path.parent)
    _prune(directory, previous)


def _check_link(path: Path) -> None:
    if path.exists() and not path.is_symlink():
        raise FileExistsError(f"{path} exists and is not a store link made by `kg build`")


def _fsync_directory(directory: Path) -> None:
    # The rename is atomic for other processes at once; fsync makes it survive a power cut too.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _other_live_process(pid_text: str) -> bool:
    """True if ``pid_text`` names a running process other than this one.

    >>> _other_live_process(str(os.getpid())), _other_live_process("not-a-pid")
    (False, False)
    """
    if not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_links(path: Path) -> None:
    """Remove ``.store.link-PID`` links left by a publish that was killed before its rename."""
    for link in path.parent.glob(f".{path.name}.link-*"):
        pid = link.name.rsplit("-", 1)[-1]
        if pid != str(os.getpid()) and not _other_live_process(pid):
            link.unlink(missing_ok=True)


def _prune(current: Path, previous: Path | None) -> None:
    """Remove generations other than ``current``, ``previous`` and those still being written.

    A generation left half-written by a killed build is removed here, by the next publish.
    Generation names are ``{time}-{pid}-{ns}`` (see :func:`new_generation`).
    """
    keep = {current.resolve()}
    if previous is not None and KEEP_PREVIOUS_GENERATION:
        keep.add(previous)
    for other in current.parent.iterdir():
        writer = other.name.split("-")[1] if other.name.count("-") >= 2 else ""
        if other.resolve() in keep or _other_live_process(writer):
            continue
        shutil.rmtree(other, ignore_errors=True)


def discard_generation(directory: Path) -> None:
    """Remove a generation that was never published."""
    shutil.rmtree(directory, ignore_errors=True)


def writer_pid(path: Path) -> int | None:
    """The id of a process holding the store at ``path`` open for writing, if any.

    RocksDB takes a POSIX lock on the store's ``LOCK`` file; F_GETLK asks who holds it without
    taking it, so the check never gets in a writer's way.
    """
    lock_file = path.resolve() / "LOCK"
    if not lock_file.exists():
        return None
    # struct flock on Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid
    request = struct.pack("@hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    fd = os.open(lock_file, os.O_RDWR)
    try:
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, request)
    finally:
        os.close(fd)
    lock_type, _, _, _, pid = struct.unpack("@hhqqi4x", answer)
    return None if lock_type == fcntl.F_UNLCK else int(pid)


def open_snapshot(path: Path) -> Store:
    """Open the store at ``path`` read-only for a consistent copy, even while a server reads it.

    :raises StoreBusy: if another process has it open for writing (reading it read-only then is
        undefined behaviour in RocksDB, so a consistent copy cannot be promised).
    :raises FileNotFoundError: if nothing has been built at ``path``.
    """
    if not path.exists():
        raise FileNotFoundError(f"no store at {path}: run `kg build --store {path}` first")
    pid = writer_pid(path)
    if pid is not None:
        raise StoreBusy(f"{path} is open for writing by process {pid}; stop it and try again")
    return open_store(path, read_only=True)


class StoreBusy(Exception):
    """Another process holds the store open for writing."""


def checkpoint(store: Store, target: Path) -> None:
    """Copy ``store`` into a new store directory ``target`` (hard links where possible)."""
    store.backup(str(target))


def dump_dataset(store: Store, target: Path, fmt: RdfFormat) -> None:
    """Write every quad of ``store`` to the file ``target`` in the dataset format ``fmt``."""
    store.dump(str(target), format=fmt)


def load_dataset_file(directory: Path, source: Path) -> int:
    """Bulk-load a dataset file (N-Quads, TriG) as it is into a new store in ``directory``.

    :raises RdfSyntaxError: naming the file, line and column where parsing failed.
    """
    try:
        quads = pyoxigraph.parse(path=str(source), format=rdf_format_for(source))
        return load_generation(directory, quads)
    except SyntaxError as error:
        raise RdfSyntaxError(str(source), error.lineno, error.offset, error.msg) from None


def count_quads(store: Store) -> int:
    """How many quads ``store`` holds."""
    return len(store)


def canonical_nquads(store: Store) -> list[str]:
    """Every quad of ``store`` as an N-Quads line, sorted: equal lists mean equal data.

    Blank node labels are kept as stored, so this compares stores copied from one another.
    """
    return sorted(str(quad) + " ." for quad in store)


@dataclass(frozen=True)
class QuerySyntaxError(Exception):
    """A SPARQL query or update that does not parse, with Oxigraph's line:column position."""

    message: str

    def __str__(self) -> str:
        # Oxigraph's messages start "error at line:column: ..."
        return f"SPARQL syntax {self.message}"


#: Deepest nesting of (, { and [ a query may use. Oxigraph's SPARQL parser recurses, and a few
#: thousand levels overflow an 8 MiB thread stack and kill the process (SIGSEGV); real queries
#: stay far below this, and a worker thread's stack may be smaller than the main thread's.
MAX_QUERY_NESTING = 200


def check_query_text(text: str) -> None:
    """Refuse a query or update that is not UTF-8 text or is nested too deep, before parsing it.

    A command-line argument with bytes that are not UTF-8 arrives as lone surrogates.

    >>> check_query_text("ASK { ?s ?p '\\udcff' }")
    Traceback (most recent call last):
    graph.store.QuerySyntaxError: SPARQL syntax error at 1:14: not UTF-8 text (byte 0xff)
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        line = text.count("\n", 0, error.start) + 1
        column = error.start - (text.rfind("\n", 0, error.start) + 1) + 1
        byte = ord(text[error.start]) & 0xFF
        raise QuerySyntaxError(
            f"error at {line}:{column}: not UTF-8 text (byte {byte:#x})"
        ) from None
    check_nesting(text)


def check_nesting(text: str) -> None:
    """Refuse a query or update nested deeper than :data:`MAX_QUERY_NESTING` before parsing it.

    Every bracket counts, even in a string or a comment: skipping those would need a second
    SPARQL lexer, and one that disagreed with Oxigraph's could be used to hide real nesting.

    >>> check_nesting("SELECT * WHERE { FILTER(1) }")
    >>> check_nesting("ASK {" + "(" * 300 + "}")
    Traceback (most recent call last):
    graph.store.QuerySyntaxError: SPARQL syntax error at 1:205: nested deeper than 200 levels
    """
    depth, line, column = 0, 1, 0
    for char in text:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
        elif char in "({[":
            depth += 1
            if depth > MAX_QUERY_NESTING:
                raise QuerySyntaxError(
                    f"error at {line}:{column}: nested deeper than {MAX_QUERY_NESTING} levels"
                )
        elif char in ")}]":
            depth -= 1


QueryResult = QuerySolutions | QueryBoolean | QueryTriples


def run_query(store: Store, text: str, *, union_default_graph: bool = True) -> QueryResult:
    """Evaluate a SPARQL query; the default graph is the union of the named graphs unless asked.

    >>> store = memory_store()
    >>> bool(run_query(store, "ASK { }"))
    True

    :raises QuerySyntaxError: if the query does not parse (the message gives line:column).
    """
    check_query_text(text)
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
