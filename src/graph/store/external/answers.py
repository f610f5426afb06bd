"""An external store's answer (SPARQL results or RDF) read into pyoxigraph's objects: one that
cannot be read is the store's fault (503), never the client's syntax error."""

from __future__ import annotations

from pyoxigraph import QueryBoolean, QuerySolutions, QueryTriples, RdfFormat

from graph.core.errors import StoreUnavailable
from graph.store.results import solutions_from_bytes, triples_from_bytes

QueryResult = QuerySolutions | QueryBoolean | QueryTriples

SOLUTIONS_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.8"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"


def read_answer(content: bytes, media_type: str, *, ask: bool = False) -> QueryResult:
    """The store's answer as pyoxigraph's objects; ``ask``: the answer to an ASK query
    (Virtuoso answers some with a row, see :func:`_ask_answer`). The rows of a SELECT answer
    are read lazily, as the client's answer is written, so only its start is checked here.

    :raises graph.core.errors.StoreUnavailable: if the answer is no results or RDF that parse.
    """
    try:
        if RdfFormat.from_media_type(media_type) is not None:
            return triples_from_bytes(content, media_type)
        result = solutions_from_bytes(content, media_type)
    except (SyntaxError, ValueError) as error:
        given = media_type or "a body without Content-Type"
        raise StoreUnavailable(
            f"the external store answered {given} that cannot be read: {error}"
        ) from None
    return _ask_answer(result) if ask else result


def _ask_answer(result: QuerySolutions | QueryBoolean) -> QuerySolutions | QueryBoolean:
    """Virtuoso 7.2 answers ASK with one row binding ``__ASK_RETVAL`` to 1 (or no row)."""
    if isinstance(result, QueryBoolean):
        return result
    rows = [row["__ASK_RETVAL"] for row in result]
    found = any(value is not None and value.value == "1" for value in rows)
    payload = b'{"head":{},"boolean":%s}' % (b"true" if found else b"false")
    return solutions_from_bytes(payload, "application/sparql-results+json")
