"""graph.validation.in_store: which checks a store can break."""

from __future__ import annotations

from graph.store import Literal, NamedNode, Quad, Store
from graph.validation.in_store import used_predicates

EX = "https://example.org/"


def test_used_predicates_names_those_some_statement_uses() -> None:
    store = Store()
    store.add(Quad(NamedNode(EX + "a"), NamedNode(EX + "name"), Literal("A")))
    store.add(Quad(NamedNode(EX + "a"), NamedNode(EX + "code"), Literal("x"), NamedNode(EX + "g")))
    asked = [EX + "name", EX + "code", EX + "absent"]
    # The union of every graph (a store being validated before its set is made) ...
    assert used_predicates(store, asked) == {EX + "name", EX + "code"}
    # ... or the store's own default graph only.
    assert used_predicates(store, asked, union=False) == {EX + "name"}
    assert used_predicates(store, []) == set()
