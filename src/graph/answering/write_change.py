"""What a write changes, as an explicit delta: quads removed, quads added, graphs made and dropped.

Every write is turned into a :class:`Change` once; the change is validated and the same change
committed (graph.answering.writes), so nothing evaluated twice can differ between the check and the
commit: ``RAND()``, ``NOW()``, ``UUID()``, ``BNODE()`` or a SERVICE answer are evaluated once
(issue 12, item 3).

* Graph Store Protocol writes know their delta from the graph's content and the payload.
* An update made only of ``INSERT DATA`` / ``DELETE DATA`` runs, as sent, on a small in-memory
  store holding the quads it names that the store has; what changed there is the delta, in
  time proportional to the request.
* Any other update is evaluated operation by operation (graph.answering.update_plan): a
  ``DELETE``/``INSERT`` ... ``WHERE`` runs its pattern once as a SELECT over its dataset (WITH,
  USING) and its templates on those solutions (graph.answering.update_delta); a graph operation
  (CLEAR, DROP, COPY, ...) runs on the graphs it names; several operations run in turn on a
  scratch checkpoint of the store, so each sees the earlier ones: the cost of the change, not
  of the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from graph.answering.update_dataset import Token, operations
from graph.answering.update_delta import Dataset
from graph.answering.update_plan import plan_change
from graph.core.errors import BadRequest
from graph.store import (
    Change,
    Literal,
    NamedNode,
    Quad,
    QuerySyntaxError,
    Store,
    Triple,
    UpdateFailed,
    graph_content,
    graph_exists,
    run_update,
)


def replace_change(store: Store, graph: str | None, quads: Iterable[Quad]) -> Change:
    """The change that makes ``graph`` (None: the default graph) hold exactly ``quads``."""
    before, after = set(graph_content(store, graph)), set(quads)
    created = {graph} if graph is not None and not graph_exists(store, graph) else set()
    return Change(before - after, after - before, created)


def add_change(store: Store, graph: str | None, quads: Iterable[Quad]) -> Change:
    """The change that merges ``quads`` into ``graph``, creating it if needed."""
    created = {graph} if graph is not None and not graph_exists(store, graph) else set()
    return Change(added={q for q in quads if q not in store}, created=created)


def drop_change(store: Store, graph: str | None) -> Change:
    """The change that removes ``graph`` (the default graph: its content)."""
    dropped = {graph} if graph is not None else set()
    return Change(removed=set(graph_content(store, graph)), dropped=dropped)


def update_change(
    store: Store,
    text: str,
    *,
    base_iri: str | None = None,
    protocol: Dataset | None = None,
    near: Path | None = None,
) -> Change:
    """The change the SPARQL update ``text`` makes to ``store``, evaluated once.

    ``base_iri`` resolves the update's relative IRIs (issue 17); ``protocol`` is the request's
    using-graph-uri and using-named-graph-uri; ``near`` a folder on the store's file system
    where an update of several operations may take its scratch checkpoint.

    :raises BadRequest: for a syntax error (with line:column) or an operation that fails.
    """
    named = data_quads(text, base_iri)
    if named is None:
        return plan_change(store, text, base_iri=base_iri, protocol=protocol, near=near)
    scratch = Store()
    scratch.extend(q for q in named if q in store)
    before = set(scratch)
    run_update(scratch, text, base_iri=base_iri)
    created = {g.value for g in scratch.named_graphs() if isinstance(g, NamedNode)}
    return Change(
        removed=before - set(scratch),
        added=set(scratch) - before,
        created={g for g in created if not graph_exists(store, g)},
    )


def data_quads(text: str, base_iri: str | None = None) -> set[Quad] | None:
    """Every quad the DATA blocks of ``text`` name, or None unless it has only such operations.

    Each operation is read by the engine itself, as an ``INSERT DATA`` on an empty store; the
    split into operations only decides which quads to look up, never what gets committed.
    """
    prologue: list[str] = []
    found: set[Quad] = set()
    for op in operations(text):
        words = [t for t in op if t.depth == 0]
        body = _data_body(text, op, words, prologue)
        if body is None:
            return None
        probe = Store()
        try:
            run_update(probe, " ".join(prologue) + " INSERT DATA " + body, base_iri=base_iri)
        except (QuerySyntaxError, UpdateFailed):
            return None
        found.update(probe)
    return found


def _data_body(text: str, op: list[Token], words: list[Token], prologue: list[str]) -> str | None:
    """The text after ``INSERT DATA`` / ``DELETE DATA``; PREFIX and BASE go to ``prologue``."""
    index = 0
    while index < len(words) and words[index].keyword in ("PREFIX", "BASE"):
        step = 3 if words[index].keyword == "PREFIX" else 2
        end = words[min(index + step, len(words)) - 1]
        prologue.append(text[words[index].start : end.start + len(end.text)])
        index += step
    if index + 1 >= len(words) or words[index + 1].keyword != "DATA":
        return None
    if words[index].keyword not in ("INSERT", "DELETE"):
        return None
    start = words[index + 1].start + len(words[index + 1].text)
    return text[start : op[-1].start + len(op[-1].text)]


def refuse_unsupported_terms(quads: Sequence[Quad] | set[Quad]) -> None:
    """Refuse RDF 1.2 triple terms and base directions, which the shapes cannot check.

    Oxigraph reads them, but the SHACL engines here (rdflib, pySHACL) and the exports do not
    (issue 11, item 9): a 400 naming the term, rather than a 500 later.

    :raises BadRequest: naming the first such quad.
    """
    for quad in quads:
        for term in (quad.subject, quad.object):
            if isinstance(term, Triple):
                raise BadRequest(
                    f"RDF 1.2 triple terms are not supported in writes: {term} in {quad}"
                )
            if isinstance(term, Literal) and term.direction is not None:
                raise BadRequest(
                    f"literals with a base direction (RDF 1.2, e.g. @en--ltr) are not supported"
                    f" in writes: {term}"
                )
