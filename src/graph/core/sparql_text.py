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
