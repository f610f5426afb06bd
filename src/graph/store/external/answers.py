"""An external store's answer (SPARQL results or RDF) read into pyoxigraph's objects, checked
whole before anyone reads it: an answer that cannot be read is the store's fault (503), never
the client's syntax error, and never a failure half-way through a client's answer.

pyoxigraph parses the rows of SPARQL results lazily, as they are read: a row that does not
parse after good ones would raise the parser's ``SyntaxError`` wherever the answer is read (a
response being written, a page, a dump). So the whole body is parsed once here, by the same
parser (Oxigraph writes the rows into a sink, no Python per row), and only then handed out,
parsed again from the same bytes: the parser is deterministic, so the second reading cannot
fail where the first did not.
"""

from __future__ import annotations

from typing import IO, cast

from pyoxigraph import QueryBoolean, QueryResultsFormat, QuerySolutions, QueryTriples, RdfFormat

from graph.core.errors import StoreUnavailable
from graph.store.results import solutions_from_bytes, triples_from_bytes

QueryResult = QuerySolutions | QueryBoolean | QueryTriples

SOLUTIONS_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.8"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"


def read_answer(content: bytes, media_type: str, *, ask: bool = False) -> QueryResult:
    """The store's answer as pyoxigraph's objects, every row of it checked; ``ask``: the answer
    to an ASK query (Virtuoso answers some with a row, see :func:`_ask_answer`).

    >>> body = b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"bnode"}}]}}'
    >>> read_answer(body, "application/sparql-results+json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    graph.core.errors.StoreUnavailable: the external store answered application/sparql-results+json that cannot be read: ...

    :raises graph.core.errors.StoreUnavailable: if the answer is no results or RDF that parse,
        to its last row.
    """  # noqa: E501
    try:
        if RdfFormat.from_media_type(media_type) is not None:
            return triples_from_bytes(content, media_type)
        _check_rows(content, media_type)
        result = solutions_from_bytes(content, media_type)
    except (SyntaxError, ValueError) as error:
        given = media_type or "a body without Content-Type"
        raise StoreUnavailable(
            f"the external store answered {given} that cannot be read: {error}"
        ) from None
    return _ask_answer(result) if ask else result


def _check_rows(content: bytes, media_type: str) -> None:
    """Parse every row of SPARQL results, so that reading them later cannot fail.

    :raises SyntaxError: if a row (or the head) does not parse.
    :raises ValueError: if the media type is not a SPARQL results format.
    """
    parsed = solutions_from_bytes(content, media_type)
    try:
        if isinstance(parsed, QuerySolutions):
            parsed.serialize(cast(IO[bytes], _Discard()), format=QueryResultsFormat.TSV)
    finally:
        # Not kept by the traceback: the error may be raised again on another thread, and
        # pyoxigraph's answers must die on the thread that made them.
        del parsed


class _Discard:
    """A binary sink that keeps nothing (what Oxigraph writes while checking rows)."""

    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        return None


def _ask_answer(result: QuerySolutions | QueryBoolean) -> QuerySolutions | QueryBoolean:
    """Virtuoso 7.2 answers ASK with one row binding ``__ASK_RETVAL`` to 1 (or no row)."""
    if isinstance(result, QueryBoolean):
        return result
    rows = [row["__ASK_RETVAL"] for row in result]
    found = any(value is not None and value.value == "1" for value in rows)
    payload = b'{"head":{},"boolean":%s}' % (b"true" if found else b"false")
    return solutions_from_bytes(payload, "application/sparql-results+json")
