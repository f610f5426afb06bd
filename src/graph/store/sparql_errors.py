"""Oxigraph's SPARQL syntax errors said in words a query writer understands, with a position.

The engine's parser (rust-peg) reports the farthest position it reached and the set of tokens
it would have accepted there, e.g. ``error at 1:35: expected one of Prefix not found, ['%'],
...``. That set names the cause when a semantic check failed (an undeclared prefix, a variable
selected twice) and is noise otherwise. :func:`explain` turns it into one short sentence and a
line and column in the user's own text (issue 14, item 3).

The text is read here only to choose the words and the place of a message for a query the
engine has already refused: nothing here decides what is accepted or evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from graph.core.sparql_text import NOISE


@dataclass(frozen=True)
class Diagnosis:
    """Why a query does not parse, and where (1-based line and column, in characters)."""

    message: str
    line: int | None = None
    column: int | None = None


_ENGINE = re.compile(r"error at (\d+):(\d+): (.*)", re.DOTALL)

#: Checks the engine makes while parsing, which it reports among the expected tokens.
_SEMANTIC = (
    ("Duplicated variable name in SELECT", "a variable is selected twice"),
    (
        "The SELECT contains a variable that is unbound",
        "SELECT names a variable that GROUP BY does not group: group by it or aggregate it"
        " (SAMPLE, COUNT ...)",
    ),
    (
        "The SELECT overrides an existing variable using an expression",
        "(... AS ?x) assigns a variable that the pattern already binds",
    ),
)


def explain(engine_message: str, text: str, declared: Collection[str] = ()) -> Diagnosis:
    """A short message and position for the engine's error about ``text``; ``declared`` names
    the prefixes declared for it outside its text.

    >>> explain("error at 1:35: expected one of Prefix not found, ['%']",
    ...         "SELECT ?x WHERE { ?x a ag:Alliance }")
    Diagnosis(message='prefix ag: is not declared', line=1, column=24)
    >>> explain("error at 1:25: expected one of LATERAL, SERVICE, [_]", "SELECT * WHERE { ?s ?p }")
    Diagnosis(message='a triple pattern needs an object after ?p', line=1, column=24)
    """
    match = _ENGINE.match(engine_message)
    if not match:
        return Diagnosis(engine_message.strip())
    line, column, expected = int(match[1]), int(match[2]), match[3]
    offset = _offset(text, line, column)
    if "Prefix not found" in expected:
        start = _name_start(text, offset)
        name = text[start:offset].partition(":")[0]
        return _at(text, start, f"prefix {name}: is not declared")
    if "IRI parsing failed" in expected:
        start = text.rfind("<", 0, offset)
        iri = text[start:offset].strip() if start >= 0 else ""
        return _at(text, max(start, 0), f"{iri or 'this'} is not a valid absolute IRI")
    for token, message in _SEMANTIC:
        if token in expected:
            return Diagnosis(message, line, column)
    for found in (
        _query_form_problem(text),
        undeclared_prefix(text, declared),
        triple_shape_problem(text),
        _open_string(text, offset, expected),
    ):
        if found is not None:
            return _at(text, found[0], found[1])
    return _at(text, *_unexpected(text, offset, expected))


def _offset(text: str, line: int, column: int) -> int:
    """The index in ``text`` of a 1-based line and column (clamped to the text)."""
    start = 0
    for _ in range(line - 1):
        found = text.find("\n", start)
        if found < 0:
            return len(text)
        start = found + 1
    return min(start + column - 1, len(text))


def _at(text: str, offset: int, message: str) -> Diagnosis:
    line = text.count("\n", 0, offset) + 1
    return Diagnosis(message, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


_NAME_CHAR = re.compile(r"[\w\-.:%\u00b7\u0300-\u036f\u203f\u2040]")


def _name_start(text: str, end: int) -> int:
    """Where the prefixed name that ends at ``end`` starts."""
    start = end
    while start > 0 and _NAME_CHAR.match(text[start - 1]):
        start -= 1
    return start


#: What the engine says it expected, reduced to keywords and punctuation a person types
#: (character classes such as ``['A' ..= 'Z' | ...]`` dropped).
_WORDS = re.compile(r'\b[A-Z]{2,}\b|"[^"\\\s]{1,3}"')
_CLASSES = re.compile(r"\[[^\]]*\]")


def _unexpected(text: str, offset: int, expected: str) -> tuple[int, str]:
    balance = _unbalanced(text)
    rest = text[offset:].strip()
    if not rest:
        surplus = _surplus_closing(text)
        if surplus is not None:
            return surplus, f"this '{text[surplus]}' closes nothing ({balance})"
        return offset, f"the query ends early: {balance}" if balance else "the query ends early"
    while 0 < offset < len(text) and text[offset].isalnum() and text[offset - 1].isalnum():
        offset -= 1  # the engine may point inside a word
    found = re.match(r"\S+", text[offset:])
    word = found[0][:30] if found else rest[:1]
    words = list(dict.fromkeys(m[0] for m in _WORDS.finditer(_CLASSES.sub("", expected))))
    said = f"unexpected {word!r}"
    if balance:
        said += f" ({balance})"
    if len(words) == 1:
        said += f"; expected {words[0]}"
    elif 1 < len(words) <= 12:
        said += f"; expected one of {', '.join(words)}"
    return offset, said


def _unbalanced(text: str) -> str:
    """Which brackets are left open or closed once too often, outside strings, IRIs and
    comments: ``"1 '{' not closed"``."""
    masked = NOISE.sub(lambda m: " " * len(m[0]), text)
    said = []
    for opening, closing in ("{}", "()"):
        open_count = masked.count(opening) - masked.count(closing)
        if open_count > 0:
            said.append(f"{open_count} '{opening}' not closed")
        elif open_count < 0:
            said.append(f"{-open_count} '{closing}' too many")
    return ", ".join(said)


def _surplus_closing(text: str) -> int | None:
    """Where the first '}' or ')' that closes nothing is."""
    masked = NOISE.sub(lambda m: " " * len(m[0]), text)
    depth = {"}": 0, ")": 0}
    for index, char in enumerate(masked):
        if char in "{(":
            depth["}" if char == "{" else ")"] += 1
        elif char in "})":
            depth[char] -= 1
            if depth[char] < 0:
                return index
    return None


_FORMS = {"SELECT", "CONSTRUCT", "ASK", "DESCRIBE"}
_UPDATES = {"INSERT", "DELETE", "WITH", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD"}


def _query_form_problem(text: str) -> tuple[int, str] | None:
    """A query whose first word after its PREFIX and BASE declarations is no query form."""
    tokens = [t for t in _TOKEN.finditer(text) if not t[0].startswith("#")]
    index = 0
    while index < len(tokens) and tokens[index][0].upper() in ("PREFIX", "BASE"):
        index += 3 if tokens[index][0].upper() == "PREFIX" else 2
    if index >= len(tokens) or not tokens[index][0].isalpha():
        return None
    word = tokens[index][0]
    if word.upper() in _FORMS or word.upper() in _UPDATES:
        return None
    forms = "SELECT, CONSTRUCT, ASK or DESCRIBE (after PREFIX and BASE)"
    return tokens[index].start(), f"a query starts with {forms}, not {word}"


def undeclared_prefix(text: str, declared: Collection[str] = ()) -> tuple[int, str] | None:
    """The first prefixed name whose prefix neither ``text`` nor ``declared`` declares.

    >>> undeclared_prefix("PREFIX ex: <http://e/> ASK { ex:a ag:b ?c }", ["rdf"])
    (34, 'prefix ag: is not declared')
    """
    names = set(declared) | {"_"}
    tokens = [t for t in _TOKEN.finditer(text) if not t[0].startswith("#")]
    for index, token in enumerate(tokens):
        word = token[0]
        if index and tokens[index - 1][0].upper() == "PREFIX":
            names.add(word.partition(":")[0])
        elif ":" in word and word[0] not in "<\"'?$" and word.partition(":")[0] not in names:
            return token.start(), f"prefix {word.partition(':')[0]}: is not declared"
    return None


def _open_string(text: str, offset: int, expected: str) -> tuple[int, str] | None:
    """A string left open: the engine, at the end of the text, still expects its quote."""
    if text[offset:].strip() or not ('"\\""' in expected or '"\'"' in expected):
        return None
    start = max(text.rfind('"'), text.rfind("'"))
    return (start, "a string is not closed") if start >= 0 else None


#: One token of SPARQL text. A run of name characters is one token (a prefixed name, a number,
#: a keyword), read once: alternatives that each rescanned such a run from every position in
#: it made a 64 KiB query take minutes.
_TOKEN = re.compile(
    NOISE.pattern
    + r"|[?$][\w\u00b7\u0300-\u036f\u203f\u2040]+"  # variables
    + r"|@[A-Za-z]+(?:-[A-Za-z0-9]+)*"  # language tags
    + r"|\^\^"
    + r"|[\w\-:%+](?:[\w\-.:%]*[\w\-:%])?"  # names, numbers, keywords (no final '.')
    + r"|\[\s*\]|\S",
    re.DOTALL,
)
_TERM_WORDS = {"a", "true", "false"}


@dataclass
class _Group:
    """The triple being read inside one pair of braces."""

    terms: int = 0
    checking: bool = True  # False after anything but plain terms, until the next '.' or '}'
    data: bool = False  # a VALUES block: rows of terms, not triples
    values_next: bool = False
    after_semicolon: bool = False


def triple_shape_problem(text: str) -> tuple[int, str] | None:
    """Where a plain triple pattern lacks a part or has one too many, and what is wrong.

    Reads only triples made of plain terms (variables, IRIs, prefixed names, literals, ``a``);
    anything else (paths, lists, keywords) is not judged.

    >>> triple_shape_problem("SELECT * { ?s ?p ?o ?x }")
    (20, "a triple pattern has three terms: end it with '.' before ?x")
    >>> triple_shape_problem("SELECT * { ?s ?p ?o . FILTER(?o) } GROUP BY ?s") is None
    True
    """
    stack: list[_Group] = []
    previous = ""
    for token in _TOKEN.finditer(text):
        word = token[0]
        if word.startswith("#"):
            continue
        problem = _step(stack, word, token.start(), previous)
        if problem is not None:
            return problem
        previous = word
    return None


def _step(stack: list[_Group], word: str, start: int, previous: str) -> tuple[int, str] | None:
    if word == "{":
        parent = stack[-1] if stack else None
        stack.append(_Group(data=bool(parent and parent.values_next)))
        return None
    if not stack:
        return None
    group = stack[-1]
    if word == "}":
        problem = _end_triple(group, start, previous)
        stack.pop()
        if stack:
            parent = stack[-1]
            parent.terms, parent.checking, parent.values_next = 0, True, False
        return problem
    if group.data or not group.checking:
        if word == ".":
            group.terms, group.checking, group.after_semicolon = 0, True, False
        return None
    return _read_term(group, word, start, previous)


def _read_term(group: _Group, word: str, start: int, previous: str) -> tuple[int, str] | None:
    if word == ".":
        problem = _end_triple(group, start, previous)
        group.terms, group.after_semicolon = 0, False
        return problem
    if word in ";,":
        need = 3
        if group.terms < need:
            return start, f"a triple pattern needs {_missing(group.terms)} before {word!r}"
        group.terms = 1 if word == ";" else 2
        group.after_semicolon = word == ";"
        return None
    if word.startswith("@") or word == "^^" or previous == "^^":
        return None  # part of the literal before it
    if _is_term(word):
        if group.terms == 3:
            return start, f"a triple pattern has three terms: end it with '.' before {word}"
        group.terms += 1
        group.after_semicolon = False
        return None
    group.checking = False
    group.values_next = word.upper() == "VALUES"
    return None


def _end_triple(group: _Group, start: int, previous: str) -> tuple[int, str] | None:
    if not group.checking or group.data or group.terms in (0, 3):
        return None
    if group.terms == 1 and group.after_semicolon:
        return None  # "?s ?p ?o ; ." is allowed
    after = previous if previous[0] not in ".;,{" else repr(previous)
    return start, f"a triple pattern needs {_missing(group.terms)} after {after}"


def _missing(terms: int) -> str:
    return "an object" if terms == 2 else "a predicate and an object"


def _is_term(word: str) -> bool:
    if len(word) == 1:  # a lone "?" or "[" is a path operator or a property list
        return word.isdigit() or word in (":", "a")
    return word[0] in "?$<\"'[+-." or word[0].isdigit() or ":" in word or word in _TERM_WORDS
