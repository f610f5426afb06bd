"""The store's version: every committed write bumps it, and what is derived from the store
(cached answers, VoID figures) is kept for the version it was computed at (issue 12).

One :class:`StoreVersion` per application (``app.extensions["kg.version"]``), never a process
global: two applications in one process keep their own figures.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class StoreVersion:
    """A counter of committed writes.

    >>> version = StoreVersion()
    >>> version.bump(), version.value
    (1, 1)
    """

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    @property
    def value(self) -> int:
        """The number of writes committed so far."""
        return self._value

    def bump(self) -> int:
        """Count one more committed write; return the new version."""
        with self._lock:
            self._value += 1
            return self._value


class Derived(Generic[T]):
    """One value computed from the store, recomputed when the store's version has moved.

    >>> version = StoreVersion()
    >>> counts = Derived(version)
    >>> counts.get(lambda: "first"), counts.get(lambda: "second")
    ('first', 'first')
    >>> _ = version.bump()
    >>> counts.get(lambda: "third")
    'third'
    """

    def __init__(self, version: StoreVersion) -> None:
        self._version = version
        self._lock = threading.Lock()
        self._computed: tuple[int, T] | None = None

    def get(self, compute: Callable[[], T]) -> T:
        """The value for the current version, computed by ``compute`` if not known yet."""
        # Read before computing: a write committed meanwhile leaves this value under the old
        # version, so the next call computes afresh.
        version = self._version.value
        with self._lock:
            if self._computed is not None and self._computed[0] == version:
                return self._computed[1]
            value = compute()
            self._computed = (version, value)
            return value
