"""Content negotiation honours q-values, wildcards, synonyms and the format parameter."""

from __future__ import annotations

import pytest

from graph.core.errors import NotAcceptable
from graph.http.negotiate import choose, jsonld_profile

RESULTS = [
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/sparql-results+json"),
        ("", "application/sparql-results+json"),
        ("*/*", "application/sparql-results+json"),
        ("text/csv", "text/csv"),
        ("text/csv;q=0.2, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
        ("text/*", "text/csv"),
        ("application/json", "application/sparql-results+json"),
        ("application/xml", "application/sparql-results+xml"),
        ("text/tab-separated-values, */*;q=0.1", "text/tab-separated-values"),
    ],
)
def test_accept_header(accept: str | None, expected: str) -> None:
    assert choose(accept, RESULTS) == expected


def test_nothing_acceptable() -> None:
    with pytest.raises(NotAcceptable, match="image/png"):
        choose("image/png", RESULTS)


def test_q_zero_excludes() -> None:
    assert choose("application/sparql-results+json;q=0, */*", RESULTS) == RESULTS[1]


def test_format_parameter_wins() -> None:
    assert choose("text/csv", RESULTS, format_param="json") == RESULTS[0]
    assert choose(None, ["text/turtle", "application/ld+json"], format_param="jsonld") == (
        "application/ld+json"
    )
    with pytest.raises(NotAcceptable, match="'ttl'"):
        choose(None, RESULTS, format_param="ttl")


# Issue 17: Werkzeug 3 matches a range's parameters exactly; ours match by type and subtype.
@pytest.mark.parametrize(
    ("accept", "offered", "expected"),
    [
        ("text/turtle; charset=utf-8", ["application/ld+json", "text/turtle"], "text/turtle"),
        ("text/turtle;charset=UTF-8", ["application/ld+json", "text/turtle"], "text/turtle"),
        ("application/sparql-results+json; charset=utf-8", RESULTS[::-1], RESULTS[0]),
        (
            'application/ld+json; profile="http://www.w3.org/ns/json-ld#compacted"',
            ["text/turtle", "application/ld+json"],
            "application/ld+json",
        ),
        # Another charset cannot be served: that range drops out, the next one wins.
        (
            "text/turtle; charset=latin-1, application/ld+json; q=0.1",
            ["text/turtle", "application/ld+json"],
            "application/ld+json",
        ),
        ("text/csv; q=0.5; charset=utf-8, text/tab-separated-values; q=0.4", RESULTS, "text/csv"),
    ],
)
def test_ranges_with_parameters(accept: str, offered: list[str], expected: str) -> None:
    assert choose(accept, offered) == expected


def test_another_charset_is_refused() -> None:
    with pytest.raises(NotAcceptable, match="charset=iso-8859-1"):
        choose("text/turtle; charset=iso-8859-1", ["text/turtle"])


@pytest.mark.parametrize(
    ("accept", "form"),
    [
        (None, None),
        ("application/ld+json", None),
        ('application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded"', "expanded"),
        ('application/ld+json; profile="http://www.w3.org/ns/json-ld#flattened"', "flattened"),
        ('application/ld+json; profile="http://www.w3.org/ns/json-ld#compacted"', "compacted"),
        # A list of profiles (JSON-LD 1.1, section 9.1): the first form named counts.
        (
            'application/ld+json; profile="http://example.org/x '
            'http://www.w3.org/ns/json-ld#flattened"',
            "flattened",
        ),
        # The most preferred range decides.
        (
            'application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded";q=0.5, '
            'application/ld+json;profile="http://www.w3.org/ns/json-ld#flattened"',
            "flattened",
        ),
        ('application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded";q=0', None),
    ],
)
def test_jsonld_profile(accept: str | None, form: str | None) -> None:
    assert jsonld_profile(accept) == form
