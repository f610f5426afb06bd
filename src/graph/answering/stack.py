"""Thread stacks large enough for any query the server accepts, and the size limit behind it.

Oxigraph's SPARQL parser, evaluator and the drop of its trees recurse once per repetition of a
flat chain (``1+1+…``, ``!!!…``, ``{} UNION {} …``, ``:p|:p|…``, many BINDs): a long enough
query overflows any fixed stack and kills the process with SIGSEGV (issue 11, item 1). A
regex cannot tell which shapes recurse, but every repetition takes at least one byte of text,
so the stack a query can need is bounded by its length: :data:`STACK_PER_BYTE` bytes of stack
per byte of query, measured by ``bench/stack_probe.py`` (figures in docs/reliability.md).

So a visitor's query longer than the ``max_query_bytes`` setting is refused before anything
parses it (:func:`check_query_size`), and every evaluation of a visitor's query runs on a
thread whose stack holds :func:`stack_for` its length: a helper thread created with that
stack (graph.answering.deadline.with_deadline).
"""

from __future__ import annotations

import ctypes
import functools
import threading
from collections.abc import Iterable

from graph.core.errors import BadRequest

#: Stack bytes per byte of query text. The deepest measured (bench/stack_probe.py, pyoxigraph
#: 0.5): 3195 for an RDF collection ``(1 1 1 …)``, 1915 for nested braces ``{{{…}}}`` (which
#: the nesting check also caps at 200 levels), 1597 for objects ``:p 1,1,…``, 891 for ``!!!…``,
#: 610 for ``1+1+…``. 6 KiB is about twice the deepest.
STACK_PER_BYTE = 6144
#: Stack for everything but the query's repetitions: what a thread gets by default (glibc gives
#: RLIMIT_STACK, 8 MiB on Linux), which the Python work around the query was written for
#: (Flask, serialization, pyshacl for writes); Oxigraph's frames for a short query take <64 KiB.
STACK_BASE = 8 << 20


def stack_for(query_bytes: int) -> int:
    """The thread stack, in bytes, that parsing and evaluating a query this long may need.

    >>> stack_for(65536) >> 20
    392
    """
    needed = STACK_BASE + STACK_PER_BYTE * max(query_bytes, 0)
    return (needed + 0xFFFF) & ~0xFFFF  # whole 64 KiB, a size every platform takes


def query_bytes(text: str) -> int:
    """The length of ``text`` in UTF-8 bytes (lone surrogates count as three, as encoded).

    >>> query_bytes("ASK { FILTER('é') }")
    20
    """
    return len(text.encode("utf-8", "surrogatepass"))


def check_query_size(text: str, limit: int, dataset: Iterable[str] = ()) -> int:
    """Refuse a query or update over ``limit`` bytes, counted with the IRIs of its
    ``dataset`` (``default-graph-uri``, ``named-graph-uri`` and the update's ``using-``
    parameters, which are FROM clauses by another name); return the text's length in bytes.

    Oxigraph takes about 8 KiB of memory per dataset IRI on an on-disk store: 100,000 of
    them, a 2.9 MB form, made a worker grow by 793 MiB (h11o).

    >>> check_query_size("ASK {}", 6)
    6
    >>> check_query_size("ASK { }", 6)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    graph.core.errors.BadRequest: the query is 7 bytes long, over the limit of 6 bytes (setting ...)
    >>> check_query_size("ASK {}", 12, ["urn:a", "urn:b"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    graph.core.errors.BadRequest: the query and its 2 dataset IRIs are 16 bytes long, over ...

    :raises BadRequest: when the text and the dataset are longer than ``limit`` bytes.
    """
    size = query_bytes(text)
    graphs = list(dataset)
    total = size + sum(query_bytes(iri) for iri in graphs)
    if total > limit:
        what = f"the query and its {len(graphs)} dataset IRIs are" if graphs else "the query is"
        raise BadRequest(
            f"{what} {total} bytes long, over the limit of {limit} bytes (setting max_query_bytes)"
        )
    return size


def current_stack_size() -> int:
    """The size of the calling thread's stack in bytes (0 when it cannot be known).

    Threads started by Rust (granian's) or by Python alike: glibc's ``pthread_getattr_np``
    reports the mapping of any thread (for the main thread, its stack limit).
    """
    libc = _libc()
    if libc is None:
        return 0
    attr = ctypes.create_string_buffer(256)  # pthread_attr_t is 56 bytes on x86-64 glibc
    if libc.pthread_getattr_np(ctypes.c_ulong(libc.pthread_self()), attr) != 0:
        return 0
    try:
        address, size = ctypes.c_void_p(), ctypes.c_size_t()
        if libc.pthread_attr_getstack(attr, ctypes.byref(address), ctypes.byref(size)) != 0:
            return 0
        return int(size.value)
    finally:
        libc.pthread_attr_destroy(attr)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(None)  # the symbols already loaded in this process: libc's
        libc.pthread_getattr_np  # noqa: B018 (glibc only: absent on musl and macOS)
    except (OSError, AttributeError):
        return None
    libc.pthread_self.restype = ctypes.c_ulong
    return libc


_start_lock = threading.Lock()


def start_thread(thread: threading.Thread, stack: int) -> None:
    """Start ``thread`` with a stack of ``stack`` bytes (threading's size is process-wide,
    so it is set and put back under a lock)."""
    with _start_lock:
        previous = threading.stack_size(stack)
        try:
            thread.start()
        finally:
            threading.stack_size(previous)
