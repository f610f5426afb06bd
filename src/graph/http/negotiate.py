"""Content negotiation: one tested function picks the response format for every route.

It relies on Werkzeug's Accept parser (q-values, wildcards, specificity) rather than its own.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from graph.core.errors import NotAcceptable

#: Short names a browser or a link can pass as ``?format=`` or as a file suffix.
FORMAT_ALIASES: dict[str, str] = {
    "json": "application/sparql-results+json",
    "srj": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "srx": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "ttl": "text/turtle",
    "turtle": "text/turtle",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "nq": "application/n-quads",
    "nquads": "application/n-quads",
    "trig": "application/trig",
    "rdf": "application/rdf+xml",
    "rdfxml": "application/rdf+xml",
    "xmlrdf": "application/rdf+xml",
    "jsonld": "application/ld+json",
    "json-ld": "application/ld+json",
    "html": "text/html",
}

#: Media types some clients send that mean one of ours.
SYNONYMS: dict[str, str] = {
    "application/json": "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
    "text/xml": "application/sparql-results+xml",
    "application/x-turtle": "text/turtle",
    "text/plain": "application/n-triples",
    "application/x-trig": "application/trig",
    "text/x-nquads": "application/n-quads",
    "application/json-ld": "application/ld+json",
}


def choose(accept: str | None, offered: Sequence[str], format_param: str | None = None) -> str:
    """Pick the media type to answer with, out of ``offered`` (most preferred first).

    ``format_param`` (a ``?format=`` value: an alias like ``ttl`` or a media type) wins over the
    Accept header. With no Accept header the first offered type is used.

    >>> choose("text/turtle;q=0.5, application/ld+json", ["text/turtle", "application/ld+json"])
    'application/ld+json'
    >>> choose("*/*", ["application/sparql-results+json", "text/csv"])
    'application/sparql-results+json'
    >>> choose(None, ["text/csv"], format_param="csv")
    'text/csv'

    :raises NotAcceptable: if nothing offered is acceptable.
    """
    if format_param:
        wanted = FORMAT_ALIASES.get(format_param.lower(), format_param.lower())
        wanted = SYNONYMS.get(wanted, wanted)
        if wanted in offered:
            return wanted
        raise NotAcceptable(
            f"format {format_param!r} is not available here; choose one of: {', '.join(offered)}"
        )
    if not accept or not accept.strip():
        return offered[0]
    return _best_match(accept, tuple(offered))


# Clients send the same few Accept headers over and over; parsing one costs more than a lookup.
@functools.lru_cache(maxsize=512)
def _best_match(accept: str, offered: tuple[str, ...]) -> str:
    parsed = parse_accept_header(accept, MIMEAccept)
    # Offer synonyms too, so that Accept: application/json finds SPARQL JSON results.
    candidates = list(offered) + [s for s, t in SYNONYMS.items() if t in offered]
    best = parsed.best_match(candidates)
    if best is None:
        raise NotAcceptable(
            f"none of the types in Accept: {accept} is available; offered: {', '.join(offered)}"
        )
    return SYNONYMS.get(best, best) if best not in offered else best
