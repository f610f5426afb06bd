"""One ``DELETE``/``INSERT`` ... ``WHERE`` operation evaluated once into quads removed and added.

SPARQL 1.1 Update, section 3.1.3: the WHERE pattern is evaluated once; each solution
instantiates the DELETE and INSERT templates; the instantiated deletions are removed, then the
insertions added. Here the pattern runs as one ``SELECT *`` on the store, and the templates are
instantiated by the engine itself, on an empty in-memory store, from those very solutions
written as ``VALUES`` (blank nodes travel as placeholder IRIs and come back as they were).
``RAND()``, ``NOW()``, ``UUID()``, ``BNODE()`` and SERVICE are thus evaluated once, and the
cost is that of the pattern and the change, not of the store (issue 12).

Only a request made of a single such operation without ``WITH`` or ``USING`` is read here;
:func:`graph.answering.write_change.update_change` evaluates anything else on a copy of the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from graph.answering.update_dataset import Token, operations
from graph.core.errors import PayloadTooLarge
from graph.store import (
    BlankNode,
    NamedNode,
    Quad,
    QuerySolutions,
    QuerySyntaxError,
    Store,
    Triple,
    UpdateFailed,
    run_query,
    run_update,
)

T = TypeVar("T")

#: Solutions of a WHERE pattern one write may instantiate (each becomes quads held in memory).
MAX_SOLUTIONS = 1_000_000

#: Placeholder IRIs standing for the store's blank nodes inside VALUES (which cannot hold them).
SKOLEM = "urn:x-alliance-graph:blank:"


@dataclass(frozen=True)
class Modify:
    """The parts of a DELETE/INSERT ... WHERE operation, as text."""

    prologue: str
    delete: str
    insert: str
    where: str


def parse_modify(text: str) -> Modify | None:
    """The single DELETE/INSERT ... WHERE operation of ``text``, or None if it is not that."""
    ops = operations(text)
    if len(ops) != 1:
        return None
    op = ops[0]
    top = [(i, t) for i, t in enumerate(op) if t.depth == 0 and t.kind != "brace"]
    prologue: list[str] = []
    while top and top[0][1].keyword in ("PREFIX", "BASE"):
        step = 3 if top[0][1].keyword == "PREFIX" else 2
        if len(top) < step:
            return None
        end = top[step - 1][1]
        prologue.append(text[top[0][1].start : end.start + len(end.text)])
        top = top[step:]
    keywords = [t.keyword for _, t in top]
    groups = {t.keyword: _group(text, op, i + 1) for i, t in top}
    if keywords == ["DELETE", "WHERE"] and groups["DELETE"] is None:  # DELETE WHERE { P }
        where = groups["WHERE"]
        return None if where is None else Modify(" ".join(prologue), where, "", where)
    if keywords not in (["DELETE", "INSERT", "WHERE"], ["DELETE", "WHERE"], ["INSERT", "WHERE"]):
        return None
    if any(group is None for group in groups.values()):
        return None
    return Modify(
        " ".join(prologue),
        groups.get("DELETE") or "",
        groups.get("INSERT") or "",
        groups["WHERE"] or "",
    )


def _group(text: str, op: list[Token], index: int) -> str | None:
    """The text of the ``{ ... }`` group opening at ``op[index]``, or None if none opens there."""
    if index >= len(op) or op[index].text != "{":
        return None
    depth = op[index].depth
    for token in op[index + 1 :]:
        if token.text == "}" and token.depth == depth:
            return text[op[index].start : token.start + 1]
    return None


def modify_delta(
    store: Store, modify: Modify, base_iri: str | None = None
) -> tuple[set[Quad], set[Quad]] | None:
    """(quads removed, quads added) by ``modify`` on ``store``; None if it cannot be read here.

    ``base_iri`` resolves relative IRIs in the pattern and the templates.

    :raises QuerySyntaxError: if the pattern does not parse.
    :raises PayloadTooLarge: past :data:`MAX_SOLUTIONS` solutions.
    """
    solutions = run_query(
        store,
        f"{modify.prologue} SELECT * WHERE {modify.where}",
        union_default_graph=False,
        base_iri=base_iri,
    )
    if not isinstance(solutions, QuerySolutions):
        return None
    names = [variable.value for variable in solutions.variables]
    rows: list[str] = []
    blanks: dict[str, BlankNode] = {}
    for solution in solutions:
        if len(rows) == MAX_SOLUTIONS:
            raise PayloadTooLarge(
                f"the update's WHERE has over {MAX_SOLUTIONS:,} solutions; split the update"
            )
        cells = []
        for value in solution:
            if isinstance(value, Triple):
                return None
            if isinstance(value, BlankNode):
                blanks[SKOLEM + value.value] = value
                value = NamedNode(SKOLEM + value.value)
            cells.append("UNDEF" if value is None else str(value))
        rows.append(f"({' '.join(cells)})")
    if not rows:
        return set(), set()
    values = f"VALUES ({' '.join('?' + n for n in names)}) {{ {' '.join(rows)} }}"
    deleted = _instantiate(modify.prologue, modify.delete, values, blanks, base_iri)
    inserted = _instantiate(modify.prologue, modify.insert, values, blanks, base_iri)
    if deleted is None or inserted is None:
        return None
    removed = {q for q in deleted if q in store and q not in inserted}
    return removed, {q for q in inserted if q not in store}


def _instantiate(
    prologue: str,
    template: str,
    values: str,
    blanks: dict[str, BlankNode],
    base_iri: str | None = None,
) -> set[Quad] | None:
    """The quads ``template`` gives for the solutions in ``values`` (None: does not parse)."""
    if not template:
        return set()
    scratch = Store()
    try:
        run_update(scratch, f"{prologue} INSERT {template} WHERE {{ {values} }}", base_iri=base_iri)
    except (QuerySyntaxError, UpdateFailed):
        return None
    return {
        Quad(
            _restored(q.subject, blanks),
            q.predicate,
            _restored(q.object, blanks),
            q.graph_name,
        )
        for q in scratch
    }


def _restored(term: T, blanks: dict[str, BlankNode]) -> T | BlankNode:
    if isinstance(term, NamedNode) and term.value in blanks:
        return blanks[term.value]
    return term
