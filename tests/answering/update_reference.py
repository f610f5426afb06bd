"""The reference the operation-by-operation evaluation of updates is compared with: the engine
itself, running each operation on a copy of the store, the default graph kept the set of every
triple after each (graph.store.default_graph)."""

from __future__ import annotations

from collections.abc import Sequence

from graph.store import (
    Change,
    NamedNode,
    Store,
    apply_change,
    copy_to_memory,
    run_update,
)


def graph_names(store: Store) -> set[str]:
    return {g.value for g in store.named_graphs() if isinstance(g, NamedNode)}


def engine_diff(before: Store, after: Store) -> Change:
    """What the engine changed, from ``before`` to ``after``."""
    return Change(
        removed={q for q in before if q not in after},
        added={q for q in after if q not in before},
        created=graph_names(after) - graph_names(before),
        dropped=graph_names(before) - graph_names(after),
    )


def commit(store: Store, change: Change) -> None:
    """Apply ``change`` with the default graph's share, as the write path commits (the store
    works the share out itself unless the change holds it already)."""
    apply_change(
        store,
        change.removed,
        change.added,
        created=change.created,
        dropped=change.dropped,
        as_is=change.maintained,
    )


def engine_per_operation(store: Store, operations: Sequence[str], prologue: str = "") -> Store:
    """A copy of ``store`` after each operation, run by the engine on a copy, then committed.

    :raises graph.store.UpdateFailed: if an operation fails (as the whole update would).
    """
    result = copy_to_memory(store)
    for operation in operations:
        copy = copy_to_memory(result)
        run_update(copy, f"{prologue} {operation}")
        commit(result, engine_diff(result, copy))
    return result


def engine_whole(store: Store, update: str) -> Store:
    """A copy of ``store`` after the engine ran ``update`` whole on it, then the default
    graph's share committed (right when no operation reads the default graph)."""
    copy = copy_to_memory(store)
    run_update(copy, update)
    result = copy_to_memory(store)
    commit(result, engine_diff(store, copy))
    return result


def state(store: Store) -> tuple[set[object], set[str]]:
    """Every quad and every named graph (empty ones too) of ``store``."""
    return set(store), graph_names(store)
