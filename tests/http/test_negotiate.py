"""Content negotiation honours q-values, wildcards, synonyms and the format parameter."""

from __future__ import annotations

import pytest

from graph.core.errors import NotAcceptable
from graph.http.negotiate import choose

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
