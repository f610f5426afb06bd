"""Lexical facts about SPARQL text that more than one module needs, declared once."""

from __future__ import annotations

import re

#: Strings (long and short), IRIs and comments, in the order SPARQL's lexer would see them
#: (https://www.w3.org/TR/sparql11-query/#grammarTerminals): text in them is not the query's
#: own syntax, so keywords and braces inside them must be ignored.
NOISE = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r"|<[^<>\"{}|^`\\\s]*>"
    r"|#[^\n]*",
    re.DOTALL,
)


def may_call_service(text: str) -> bool:
    """False only when the engine cannot read a SERVICE keyword in ``text``: no backslash (so
    no escape of any kind) and no ``service`` in any ASCII case. The engine matches keywords
    ASCII-case-insensitively (with a long s or a dotted capital I it is a syntax error:
    tests/answering/test_guard.py), so without these letters in a row there is no keyword.

    >>> may_call_service('SELECT * WHERE { ?s ?p ?o }')
    False
    >>> may_call_service('SELECT * WHERE { ?s ?p "a\\\\b" }')
    True
    """
    return "\\" in text or "service" in text.lower()


def may_call_out(text: str) -> bool:
    """False only when evaluating ``text`` (a query or an update) cannot make the engine reach
    another server: no SERVICE keyword (:func:`may_call_service`) and no ``load`` in any ASCII
    case (an update's LOAD). Read without parsing SPARQL, so a superset: a word in a literal
    counts too.

    >>> may_call_out('INSERT DATA { <a> <b> "c" }')
    False
    >>> may_call_out('LOAD <http://example.org/data.ttl>')
    True
    """
    return may_call_service(text) or "load" in text.lower()
