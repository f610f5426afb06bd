"""Content negotiation: one tested function picks the response format for every route.

It relies on Werkzeug's Accept parser (q-values, wildcards, specificity) rather than its own.
Werkzeug 3 compares a media range's parameters exactly, so ``text/turtle; charset=utf-8``
would match nothing offered here; each range is therefore matched by its type and subtype,
with the parameters that mean something to us honoured (issue 17):

* ``charset``: every textual answer here is UTF-8, so ``charset=utf-8`` matches and a range
  asking for another charset matches nothing (RFC 9110, section 8.3.2);
* JSON-LD's ``profile`` (https://www.w3.org/TR/json-ld11/#iana-considerations) picks the
  compacted, expanded or flattened form: :func:`jsonld_profile`.

Any other parameter is ignored, as RFC 9110 lets a server do with parameters it does not know.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header, parse_options_header

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
    >>> choose("text/turtle; charset=utf-8", ["application/ld+json", "text/turtle"])
    'text/turtle'

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


def prefers_html(accept: str | None) -> bool:
    """True when ``accept`` names HTML and prefers it to data (a browser's does); ``*/*`` alone
    (curl, SPARQL libraries) is not a preference for a page.

    >>> prefers_html("text/html,application/xhtml+xml,*/*;q=0.8")
    True
    >>> prefers_html("*/*"), prefers_html(None), prefers_html("application/json, text/html;q=0.5")
    (False, False, False)
    """
    if not accept or "html" not in accept:
        return False
    try:
        best = choose(accept, ["text/html", "application/json", "text/turtle"])
    except NotAcceptable:
        return False
    return best == "text/html"


# Clients send the same few Accept headers over and over; parsing one costs more than a lookup.
@functools.lru_cache(maxsize=512)
def _best_match(accept: str, offered: tuple[str, ...]) -> str:
    parsed = MIMEAccept([(media, q) for media, _, q in _ranges(accept)])
    # Offer synonyms too, so that Accept: application/json finds SPARQL JSON results.
    candidates = list(offered) + [s for s, t in SYNONYMS.items() if t in offered]
    best = parsed.best_match(candidates)
    if best is None:
        raise NotAcceptable(
            f"none of the types in Accept: {accept} is available; offered: {', '.join(offered)}"
        )
    return SYNONYMS.get(best, best) if best not in offered else best


JSONLD = "application/ld+json"
#: The JSON-LD forms a ``profile`` parameter can ask for (JSON-LD 1.1, section 9.1).
JSONLD_FORMS = {
    "http://www.w3.org/ns/json-ld#compacted": "compacted",
    "http://www.w3.org/ns/json-ld#expanded": "expanded",
    "http://www.w3.org/ns/json-ld#flattened": "flattened",
}
_UTF8 = ("utf-8", "utf8")


@functools.lru_cache(maxsize=512)
def _ranges(accept: str) -> tuple[tuple[str, dict[str, str], float], ...]:
    """The media ranges of an Accept header as (type/subtype, parameters, q), keeping only those
    whose charset we can answer in.

    >>> _ranges("text/turtle; charset=UTF-8; q=0.5, text/csv; charset=latin-1")
    (('text/turtle', {'charset': 'UTF-8'}, 0.5),)
    """
    ranges = []
    for value, quality in parse_accept_header(accept, MIMEAccept):
        media, params = parse_options_header(value)
        if params.get("charset", "utf-8").lower() not in _UTF8:
            continue
        ranges.append((media.lower(), params, quality))
    return tuple(ranges)


def jsonld_profile(accept: str | None) -> str | None:
    """The JSON-LD form (``compacted``, ``expanded`` or ``flattened``) the client asks for with
    the ``profile`` parameter of its most preferred ``application/ld+json`` range; None when it
    names none of them.

    >>> jsonld_profile('application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded"')
    'expanded'
    >>> jsonld_profile("application/ld+json, text/turtle") is None
    True
    """
    if not accept:
        return None
    best: tuple[float, str] | None = None
    for media, params, quality in _ranges(accept):
        if media != JSONLD or quality <= 0:
            continue
        # The profile is a space-separated list of IRIs; the first form named wins.
        forms = [JSONLD_FORMS[i] for i in params.get("profile", "").split() if i in JSONLD_FORMS]
        if forms and (best is None or quality > best[0]):
            best = (quality, forms[0])
    return best[1] if best else None
