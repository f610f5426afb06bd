"""One ``DELETE``/``INSERT`` ... ``WHERE`` operation evaluated once into quads removed and added.

SPARQL 1.1 Update, section 3.1.3: the WHERE pattern is evaluated once; each solution
instantiates the DELETE and INSERT templates; the instantiated deletions are removed, then the
insertions added. Here the pattern runs as one ``SELECT *`` on the store, and the templates are
instantiated by the engine itself, on an empty in-memory store, from those very solutions
written as ``VALUES`` (blank nodes travel as placeholder IRIs and come back as they were).
``RAND()``, ``NOW()``, ``UUID()``, ``BNODE()`` and SERVICE are thus evaluated once, and the
cost is that of the pattern and the change, not of the store (issue 12).

``WITH``, ``USING`` and ``USING NAMED`` (and the protocol's using-graph-uri and
using-named-graph-uri) give the pattern its dataset as the engine's query options, and WITH the
templates' default graph (section 3.1.3). graph.answering.update_plan calls this for each such
operation of an update.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from graph.answering.update_dataset import Token, operations
from graph.core.errors import PayloadTooLarge
from graph.store import (
    BlankNode,
    DefaultGraph,
    NamedNode,
    Quad,
    QuerySolutions,
    QuerySyntaxError,
    Store,
    Triple,
    UpdateFailed,
    evaluating,
    run_over_dataset,
    run_update,
)

T = TypeVar("T")

#: Solutions of a WHERE pattern one write may instantiate (each becomes quads held in memory).
MAX_SOLUTIONS = 1_000_000

#: Placeholder IRIs standing for the store's blank nodes inside VALUES (which cannot hold them).
SKOLEM = "urn:x-alliance-graph:blank:"


@dataclass(frozen=True)
class Modify:
    """The parts of a DELETE/INSERT ... WHERE operation, as text; ``with_graph``, ``using`` and
    ``using_named`` are the IRIs of its WITH and USING clauses as written (resolved by the
    engine against the prologue: :func:`resolve_iris`)."""

    prologue: str
    delete: str
    insert: str
    where: str
    with_graph: str | None = None
    using: tuple[str, ...] = ()
    using_named: tuple[str, ...] = ()


#: An update dataset as (default graphs, named graphs): the protocol's using-graph-uri and
#: using-named-graph-uri (graph.answering.update_dataset.protocol_dataset).
Dataset = tuple[tuple[str, ...], tuple[str, ...]]


def parse_modify(text: str) -> Modify | None:
    """The single DELETE/INSERT ... WHERE operation of ``text``, or None if it is not that."""
    ops = operations(text)
    if len(ops) != 1:
        return None
    prologue, body = split_prologue(text, ops[0])
    return read_modify(text, body, " ".join(prologue))


def split_prologue(text: str, op: list[Token]) -> tuple[list[str], list[Token]]:
    """The PREFIX and BASE declarations that open ``op`` (as text), and its tokens after them."""
    prologue: list[str] = []
    index = 0
    while index < len(op) and op[index].depth == 0 and op[index].keyword in ("PREFIX", "BASE"):
        step = 3 if op[index].keyword == "PREFIX" else 2
        end = op[min(index + step, len(op)) - 1]
        prologue.append(text[op[index].start : end.start + len(end.text)])
        index += step
    return prologue, op[index:]


def read_modify(text: str, op: list[Token], prologue: str) -> Modify | None:
    """The DELETE/INSERT ... WHERE operation made of the tokens ``op`` (no prologue), or None.

    SPARQL 1.1 Update grammar: ``( WITH iri )? ( DeleteClause InsertClause? | InsertClause )
    ( USING NAMED? iri )* WHERE GroupGraphPattern``, or ``DELETE WHERE QuadPattern``.
    """
    top = [(i, t) for i, t in enumerate(op) if t.depth == 0 and t.kind != "brace"]
    words = [t.keyword for _, t in top]
    if words == ["DELETE", "WHERE"] and op[1].keyword == "WHERE":  # DELETE WHERE { P }
        where = _group(text, op, top[1][0] + 1)
        return (
            None
            if where is None or _after(op, top[1][0] + 1)
            else Modify(prologue, where, "", where)
        )
    with_graph = None
    if words[:1] == ["WITH"] and len(top) > 1:
        with_graph, top, words = top[1][1].text, top[2:], words[2:]
    templates: dict[str, str] = {}
    for clause in ("DELETE", "INSERT"):  # in this order, each at most once
        if words[:1] == [clause]:
            group = _group(text, op, top[0][0] + 1)
            if group is None:
                return None
            templates[clause] = group
            top, words = top[1:], words[1:]
    using: list[str] = []
    named: list[str] = []
    while words[:1] == ["USING"] and len(top) > 1:
        if words[1] == "NAMED" and len(top) > 2:
            named.append(top[2][1].text)
            top, words = top[3:], words[3:]
        else:
            using.append(top[1][1].text)
            top, words = top[2:], words[2:]
    if words != ["WHERE"] or not templates:
        return None
    where = _group(text, op, top[0][0] + 1)
    if where is None or _after(op, top[0][0] + 1):
        return None
    return Modify(
        prologue,
        templates.get("DELETE", ""),
        templates.get("INSERT", ""),
        where,
        with_graph,
        tuple(using),
        tuple(named),
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


def _after(op: list[Token], index: int) -> bool:
    """True if tokens follow the group opening at ``op[index]`` (not a whole operation)."""
    depth = op[index].depth
    close = next(
        (n for n in range(index + 1, len(op)) if op[n].text == "}" and op[n].depth == depth),
        None,
    )
    return close is None or close + 1 < len(op)


def resolve_iris(prologue: str, written: list[str], base_iri: str | None) -> list[str] | None:
    """The IRIs that ``written`` (IRIs or prefixed names, as in the update) stand for, read by
    the engine with the update's prologue and base; None if one is not an IRI."""
    if not written:
        return []
    names = " ".join(f"?g{n}" for n in range(len(written)))
    text = f"{prologue} SELECT * WHERE {{ VALUES ({names}) {{ ({' '.join(written)}) }} }}"
    try:
        rows = run_over_dataset(
            Store(), text, default_graphs=None, named_graphs=None, base_iri=base_iri
        )
    except QuerySyntaxError:
        return None
    if not isinstance(rows, QuerySolutions):
        return None
    row = next(iter(rows), None)
    found = [] if row is None else [row[f"g{n}"] for n in range(len(written))]
    if len(found) != len(written) or not all(isinstance(t, NamedNode) for t in found):
        return None
    return [t.value for t in found if isinstance(t, NamedNode)]


def where_dataset(
    modify: Modify, base_iri: str | None, protocol: Dataset | None
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None, str | None] | None:
    """(default graphs, named graphs, WITH graph) of ``modify``'s WHERE; None: unreadable.

    SPARQL 1.1 Update, section 3.1.3: USING and USING NAMED (or the protocol's parameters) set
    the dataset, an empty default graph if only USING NAMED is given; else WITH sets the
    default graph; else the store's. WITH also sets the templates' default graph.
    """
    written = [*([modify.with_graph] if modify.with_graph else []), *modify.using,
               *modify.using_named]  # fmt: skip
    iris = resolve_iris(modify.prologue, written, base_iri)
    if iris is None:
        return None
    with_graph = iris.pop(0) if modify.with_graph else None
    if protocol is not None:
        return protocol[0], protocol[1], with_graph
    if modify.using or modify.using_named:
        return tuple(iris[: len(modify.using)]), tuple(iris[len(modify.using) :]), with_graph
    return ((with_graph,) if with_graph else None), None, with_graph


def modify_delta(
    store: Store, modify: Modify, base_iri: str | None = None, protocol: Dataset | None = None
) -> tuple[set[Quad], set[Quad]] | None:
    """(quads removed, quads added) by ``modify`` on ``store``; None if it cannot be read here.

    ``base_iri`` resolves relative IRIs in the pattern and the templates; ``protocol`` is the
    request's using-graph-uri and using-named-graph-uri.

    :raises QuerySyntaxError: if the pattern does not parse.
    :raises PayloadTooLarge: past :data:`MAX_SOLUTIONS` solutions.
    """
    dataset = where_dataset(modify, base_iri, protocol)
    if dataset is None:
        return None
    default, named, with_graph = dataset
    solutions = run_over_dataset(
        store,
        f"{modify.prologue} SELECT * WHERE {modify.where}",
        default_graphs=default,
        named_graphs=named,
        base_iri=base_iri,
    )
    if not isinstance(solutions, QuerySolutions):
        return None
    with evaluating("update"):  # the solutions are evaluated as they are read
        values = _values(solutions)
    if values is None:
        return None
    if not values[0]:
        return set(), set()
    text, blanks = values
    deleted = _instantiate(modify.prologue, modify.delete, text, blanks, base_iri, with_graph)
    inserted = _instantiate(modify.prologue, modify.insert, text, blanks, base_iri, with_graph)
    if deleted is None or inserted is None:
        return None
    removed = {q for q in deleted if q in store and q not in inserted}
    return removed, {q for q in inserted if q not in store}


def _values(solutions: QuerySolutions) -> tuple[str, dict[str, BlankNode]] | None:
    """The solutions as one ``VALUES`` block ("" if none) and the blank nodes it stands for;
    None if a solution holds an RDF 1.2 triple term."""
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
        return "", blanks
    return f"VALUES ({' '.join('?' + n for n in names)}) {{ {' '.join(rows)} }}", blanks


def _instantiate(
    prologue: str,
    template: str,
    values: str,
    blanks: dict[str, BlankNode],
    base_iri: str | None = None,
    with_graph: str | None = None,
) -> set[Quad] | None:
    """The quads ``template`` gives for the solutions in ``values`` (None: does not parse);
    its triples outside GRAPH go to ``with_graph`` if given."""
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
            NamedNode(with_graph)
            if with_graph and isinstance(q.graph_name, DefaultGraph)
            else q.graph_name,
        )
        for q in scratch
    }


def _restored(term: T, blanks: dict[str, BlankNode]) -> T | BlankNode:
    if isinstance(term, NamedNode) and term.value in blanks:
        return blanks[term.value]
    return term
