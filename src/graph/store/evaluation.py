"""The engine's evaluation errors as the domain's: the one place they are translated.

pyoxigraph ends an evaluation that parsed with ``OSError`` (a SERVICE or LOAD target that
refused, timed out or answered badly; the store's files could not be read) or
``RuntimeError`` (an unbound ``SERVICE ?var``), from ``Store.query``/``update`` or, as its
answers are lazy, while they are read or written. Every function of graph.store that
evaluates translates them with :func:`evaluating`; code above that reads a client's answer
itself (the explorer and the exports, ``kg query`` printing a table) reads it inside
:func:`evaluating` too, so that nothing above graph.store catches the engine's own
exceptions. The project's own queries (:func:`graph.store.select_rows`) have no SERVICE or
LOAD, and no client wrote them: the engine failing them is the store failing, a 503
(:func:`reading_the_store`), not the client's 400. An ``OSError`` of anything else (the
disk under a scratch copy, a socket) is not the engine's and is not translated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ContextDecorator
from types import TracebackType

from graph.core.errors import EvaluationFailed, GraphError, StoreUnavailable

log = logging.getLogger("kg")

_CAUSE = "a SERVICE or LOAD target did not answer usably, or the store could not be read"
_NO_NETWORK = "SERVICE and LOAD cannot reach the network on this server"

_network = True


def network_denied() -> None:
    """Word evaluation failures for a process that can no longer open network sockets
    (graph.answering.sandbox calls it once its filter is loaded: a filter is never removed)."""
    global _network
    _network = False


def failed(error: BaseException, *, what: str = "query") -> EvaluationFailed:
    """The domain's error for an evaluation the engine ended with ``error``, which goes to
    the log and to :attr:`EvaluationFailed.reason`, never to its ``detail``.

    >>> failed(OSError("Connection refused (os error 111)")).detail
    'the query failed during evaluation (a SERVICE or LOAD target did not answer usably, or the store could not be read)'
    """  # noqa: E501
    log.warning("a %s failed during evaluation: %s", what, error)
    cause = _CAUSE if _network else _NO_NETWORK
    return EvaluationFailed(f"the {what} failed during evaluation ({cause})", reason=str(error))


def evaluating(what: str = "query") -> _Translated:
    """Run the block (or the decorated function), the engine's evaluation errors raised as
    :class:`EvaluationFailed`.

    >>> from pyoxigraph import Store
    >>> with evaluating():  # doctest: +ELLIPSIS
    ...     list(Store().query("SELECT * { SERVICE ?unbound { ?s ?p ?o } }"))
    Traceback (most recent call last):
    graph.core.errors.EvaluationFailed: the query failed during evaluation (...)
    """
    return _Translated((OSError, RuntimeError), lambda error: failed(error, what=what))


def reading_the_store() -> _Translated:
    """Run the block (or the decorated function), which evaluates the project's own queries
    (no SERVICE, no LOAD, no text of a client's): an engine error there is the store's, the
    server's fault, raised as :class:`StoreUnavailable` (503); the engine's text goes to the
    log."""
    return _Translated((OSError, RuntimeError, EvaluationFailed), _unreadable)


def _unreadable(error: BaseException) -> StoreUnavailable:
    reason = error.reason if isinstance(error, EvaluationFailed) else str(error)
    log.warning("the store could not be read: %s", reason)
    return StoreUnavailable("the store could not be read")


class _Translated(ContextDecorator):
    """Errors of ``kinds`` raised in the block become ``translate(error)``.

    A class, not ``@contextmanager``: contextlib sets ``__traceback__`` on every exception that
    passes through a generator, which a frozen dataclass exception refuses.
    """

    def __init__(
        self,
        kinds: tuple[type[BaseException], ...],
        translate: Callable[[BaseException], GraphError],
    ) -> None:
        self.kinds, self.translate = kinds, translate

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(error, self.kinds):
            raise self.translate(error) from None
