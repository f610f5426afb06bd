"""A change to the store as explicit quads: what a write removes and adds (issue 12)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyoxigraph import Quad


@dataclass
class Change:
    """A delta to the store: every quad removed was in it, every quad added was not."""

    removed: set[Quad] = field(default_factory=set)
    added: set[Quad] = field(default_factory=set)
    created: set[str] = field(default_factory=set)
    dropped: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.removed or self.added or self.created or self.dropped)
