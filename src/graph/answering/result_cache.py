"""A per-application cache of serialized query answers, bounded in bytes, keyed on the store's
version (graph.answering.store_version): an answer computed before a write is never served after
it."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable


class ResultCache:
    """A least-recently-used map of serialized answers for one version of the store.

    >>> cache = ResultCache(1 << 20)
    >>> cache.put(0, "q", b"1", "text/csv")
    >>> cache.get(0, "q"), cache.get(1, "q")
    ((b'1', 'text/csv'), None)
    """

    def __init__(self, capacity_bytes: int) -> None:
        self.capacity = capacity_bytes
        self._version = 0
        self._entries: OrderedDict[Hashable, tuple[bytes, str]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, version: int, key: Hashable) -> tuple[bytes, str] | None:
        """The cached (body, media type) for ``key`` at store version ``version``, if any."""
        with self._lock:
            if version != self._version:
                return None
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, version: int, key: Hashable, body: bytes, media_type: str) -> None:
        """Remember an answer computed at ``version`` unless it is over an eighth of the
        capacity; the answers of older versions are dropped."""
        if len(body) > self.capacity // 8:
            return
        with self._lock:
            if version < self._version:
                return  # computed before a write that has committed since
            if version > self._version:
                self._entries.clear()
                self._size, self._version = 0, version
            if key in self._entries:
                return
            self._entries[key] = (body, media_type)
            self._size += len(body)
            while self._size > self.capacity:
                _, (old, _media) = self._entries.popitem(last=False)
                self._size -= len(old)
