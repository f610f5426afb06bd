"""SPARQL answers as bytes and back: written by Oxigraph's own writers, their rows counted
against a limit without Python touching each one, and an external store's answer read back into
pyoxigraph's objects (graph.store.external)."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator

import pyoxigraph
from pyoxigraph import (
    DefaultGraph,
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
)

from graph.core.errors import ResultTooLarge
from graph.store.evaluation import evaluating
from graph.store.handles import memory_store  # noqa: F401  (used by the doctests)
from graph.store.rdfio import FORMATS_WITHOUT_TRIPLE_TERMS, writable_statements
from graph.store.sparql import QueryResult
from graph.store.xmlterms import check_results_xml


class TooManyResults(ResultTooLarge):
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


@evaluating()
def serialize_limited(result: QueryResult, media_type: str, limit: int) -> bytes:
    """Serialize ``result`` like :func:`serialize_results`, refusing more than ``limit`` rows.

    Rows are counted exactly without Python touching every solution: the answer is written
    once by Oxigraph in the format asked for; when its length alone proves it holds at most
    ``limit`` rows (the usual case) nothing is counted, otherwise the rows are counted in the
    body (TSV lines, or the body parsed back by Oxigraph and written as TSV). CONSTRUCT
    triples are counted while they are collected.

    >>> from graph.store.sparql import run_query
    >>> rows = run_query(memory_store(), "SELECT ?x { VALUES ?x {1 2} }")
    >>> serialize_limited(rows, "text/csv", 2).split()
    [b'x', b'1', b'2']

    :raises TooManyResults: if the result is over ``limit``.
    :raises NotAcceptable: if the format cannot write the result (graph.store.xmlterms).
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
        writable_statements(triples, rdf_format)
        return pyoxigraph.serialize(triples, format=rdf_format) or b""
    results_format = QueryResultsFormat.from_media_type(media_type)
    if results_format is None:
        raise ValueError(f"{media_type} is not a SPARQL results format")
    body = result.serialize(format=results_format) or b""
    if results_format == QueryResultsFormat.XML:
        check_results_xml(body)
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


@evaluating()
def serialize_results(result: QueryResult, media_type: str) -> bytes:
    """Serialize query results with Oxigraph's own writers, in the format ``media_type`` names.

    :raises ValueError: if the media type does not fit the kind of result.
    :raises NotAcceptable: if the format cannot write the result (graph.store.xmlterms).
    """
    if isinstance(result, QueryTriples):
        rdf_format = RdfFormat.from_media_type(media_type)
        if rdf_format is None:
            raise ValueError(f"{media_type} is not an RDF format")
        if rdf_format in FORMATS_WITHOUT_TRIPLE_TERMS:  # written whole in memory anyway
            triples = writable_statements(result, rdf_format)
            return pyoxigraph.serialize(triples, format=rdf_format) or b""
        return result.serialize(format=rdf_format) or b""
    results_format = QueryResultsFormat.from_media_type(media_type)
    if results_format is None:
        raise ValueError(f"{media_type} is not a SPARQL results format")
    body = result.serialize(format=results_format) or b""
    if results_format == QueryResultsFormat.XML:
        check_results_xml(body)
    return body


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
    store = pyoxigraph.Store()
    store.extend(pyoxigraph.parse(data, format=fmt))
    result = store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    assert isinstance(result, QueryTriples)
    return result


def quads_from_solutions(
    solutions: QuerySolutions, graph: NamedNode | DefaultGraph | None
) -> Iterator[pyoxigraph.Quad]:
    """Turn ``?s ?p ?o ?g`` solutions into quads (``graph`` when ``?g`` is not selected)."""
    for row in solutions:
        name = row["g"] if graph is None else graph
        yield pyoxigraph.Quad(
            row["s"], row["p"], row["o"], name if name is not None else DefaultGraph()
        )
