"""The reference the protocol's update dataset is compared with: ``using-graph-uri`` and
``using-named-graph-uri`` written into the update's text as USING clauses, which the engine
then evaluates itself (https://www.w3.org/TR/sparql11-protocol/#update-dataset). The write
path gives that dataset to the engine as query options instead (graph.answering.update_delta);
this text rewriter is only the tests' independent reference."""

from __future__ import annotations

from collections.abc import Sequence

from graph.answering.update_dataset import Token, operations, protocol_dataset
from graph.core.errors import BadRequest


def with_protocol_dataset(
    update: str, using: Sequence[str] = (), using_named: Sequence[str] = ()
) -> str:
    """Return ``update`` with the protocol's dataset written in as USING clauses.

    >>> with_protocol_dataset("INSERT { ?s ?p 1 } WHERE { ?s ?p 0 }", ["http://g"])
    'INSERT { ?s ?p 1 } USING <http://g> WHERE { ?s ?p 0 }'
    >>> with_protocol_dataset("DELETE WHERE { ?s ?p 0 }", [], ["http://n"])
    'DELETE { ?s ?p 0 } USING NAMED <http://n> WHERE { ?s ?p 0 }'

    :raises BadRequest: if the update also has USING or WITH, or an IRI is not absolute
        (graph.answering.update_dataset.protocol_dataset decides both, as on the write path).
    """
    dataset = protocol_dataset(update, using, using_named)
    if dataset is None:
        return update
    clauses = " ".join(
        [f"USING <{iri}>" for iri in dataset[0]] + [f"USING NAMED <{iri}>" for iri in dataset[1]]
    )
    edits: list[tuple[int, int, str]] = []
    for op in operations(update):
        edits.extend(_edits_for(update, op, clauses))
    for start, end, text in sorted(edits, reverse=True):
        update = update[:start] + text + update[end:]
    return update


def _edits_for(update: str, op: list[Token], clauses: str) -> list[tuple[int, int, str]]:
    """Where to write ``clauses`` into one operation (none if it has no WHERE)."""
    top = [i for i, t in enumerate(op) if t.depth == 0]
    where = next((n for n, i in enumerate(top) if op[i].keyword == "WHERE"), None)
    if where is None:
        return []  # INSERT DATA, DELETE DATA, LOAD, CLEAR ...: no pattern to match against
    token = op[top[where]]
    if where > 0 and op[top[where - 1]].keyword == "DELETE":
        # DELETE WHERE has no USING form: write it out as DELETE { P } USING ... WHERE { P }.
        pattern = _group_text(update, op, top[where] + 1)
        return [(token.start, token.start + len(token.text), f"{pattern} {clauses} WHERE")]
    return [(token.start, token.start, f"{clauses} ")]


def _group_text(update: str, op: list[Token], open_index: int) -> str:
    """The text of the ``{ ... }`` group that starts at ``op[open_index]``."""
    opening = op[open_index]
    for token in op[open_index + 1 :]:
        if token.text == "}" and token.depth == opening.depth:
            return update[opening.start : token.start + 1]
    raise BadRequest("the update has an unclosed '{'")
