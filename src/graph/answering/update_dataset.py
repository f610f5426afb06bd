"""The SPARQL 1.1 Protocol's update dataset: ``using-graph-uri`` and ``using-named-graph-uri``.

The protocol says these parameters act like ``USING`` and ``USING NAMED`` clauses in every
DELETE/INSERT ... WHERE operation of the request, and that a request carrying both the
parameters and ``USING``/``USING NAMED``/``WITH`` in its text is an error
(https://www.w3.org/TR/sparql11-protocol/#update-dataset). The write path gives that dataset
to the engine as query options when it evaluates each WHERE (graph.answering.update_delta).
A small tokenizer, which splits an update into its operations for graph.answering.update_plan,
keeps strings, IRIs and comments intact.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from graph.core.errors import BadRequest
from graph.store import check_iri

# Order matters: long strings before short ones, IRIs before the "<" operator.
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
              |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<brace>[{}])
  | (?P<semicolon>;)
  | (?P<word>[^\s{}";'<\#]+|<|'|")
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    """One lexical unit of an update, its kind, text, offset and brace depth."""

    kind: str
    text: str
    start: int
    depth: int

    @property
    def keyword(self) -> str:
        """The upper-cased text of a word (SPARQL keywords are case-insensitive)."""
        return self.text.upper() if self.kind == "word" else ""


def tokens(update: str) -> Iterator[Token]:
    """The update's tokens, without white space and comments."""
    depth = 0
    for match in _TOKEN.finditer(update):
        kind = match.lastgroup or "word"
        if kind in ("space", "comment"):
            continue
        text = match.group()
        if text == "}":
            depth -= 1
        yield Token(kind, text, match.start(), depth)
        if text == "{":
            depth += 1


def operations(update: str) -> list[list[Token]]:
    """The update's operations: its top-level tokens, split at the ``;`` between operations."""
    result: list[list[Token]] = [[]]
    for token in tokens(update):
        if token.kind == "semicolon" and token.depth == 0:
            result.append([])
        else:
            result[-1].append(token)
    return [op for op in result if op]


def has_dataset_clause(update: str) -> bool:
    """True if the update names its own dataset with USING, USING NAMED or WITH."""
    return any(
        t.depth == 0 and t.keyword in ("USING", "WITH") for op in operations(update) for t in op
    )


def protocol_dataset(
    update: str, using: Sequence[str] = (), using_named: Sequence[str] = ()
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """The protocol's update dataset as (default graphs, named graphs); None if not given.

    >>> protocol_dataset("DELETE WHERE { ?s ?p 0 }", [], ["http://n"])
    ((), ('http://n',))

    :raises BadRequest: if the update also has USING or WITH, or an IRI is not absolute.
    """
    if not using and not using_named:
        return None
    if has_dataset_clause(update):
        raise BadRequest(
            "the update names its dataset with USING or WITH and the request also has "
            "using-graph-uri or using-named-graph-uri: use one or the other"
        )
    return tuple(_iri(iri) for iri in using), tuple(_iri(iri) for iri in using_named)


def _iri(value: str) -> str:
    try:
        return check_iri(value)
    except BadRequest as error:
        raise BadRequest(f"using-graph IRI {value!r} is not valid: {error}") from None
