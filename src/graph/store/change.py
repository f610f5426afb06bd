"""A change to the store as explicit quads: what a write removes and adds (issue 12)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyoxigraph import Quad


@dataclass
class Change:
    """A delta to the store: every quad removed was in it, every quad added was not.

    ``maintained``: the change already holds the default graph's share
    (graph.store.default_graph.maintained), as the net change of several operations does,
    each of which kept the set on a scratch copy; adding it again would undo what a later
    operation wrote to the default graph itself.
    """

    removed: set[Quad] = field(default_factory=set)
    added: set[Quad] = field(default_factory=set)
    created: set[str] = field(default_factory=set)
    dropped: set[str] = field(default_factory=set)
    maintained: bool = False

    def __bool__(self) -> bool:
        return bool(self.removed or self.added or self.created or self.dropped)
