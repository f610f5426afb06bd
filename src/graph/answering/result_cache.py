"""A per-process cache of serialized query answers, bounded in bytes."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable


class ResultCache:
    """A least-recently-used map of serialized answers, bounded in bytes.

    Entries are valid for one generation of the store; :meth:`invalidate` (called after every
    write) starts a new one. A read-only store never changes, so its answers stay valid.
    """

    def __init__(self, capacity_bytes: int) -> None:
        self.capacity = capacity_bytes
        self.generation = 0
        self._entries: OrderedDict[Hashable, tuple[bytes, str]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bytes, str] | None:
        """The cached (body, media type) for ``key``, if any."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, body: bytes, media_type: str) -> None:
        """Remember an answer unless it is bigger than an eighth of the capacity."""
        if len(body) > self.capacity // 8:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (body, media_type)
            self._size += len(body)
            while self._size > self.capacity:
                _, (old, _media) = self._entries.popitem(last=False)
                self._size -= len(old)

    def invalidate(self) -> None:
        """Forget everything: the store has changed."""
        with self._lock:
            self._entries.clear()
            self._size = 0
            self.generation += 1
