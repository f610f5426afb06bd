"""The engine's evaluation errors as the domain's: the one place they are translated.

pyoxigraph ends an evaluation that parsed with ``OSError`` (a SERVICE or LOAD target that
refused, timed out or answered badly; the store's files could not be read) or
``RuntimeError`` (an unbound ``SERVICE ?var``, a function the engine does not know, a store
whose files are corrupt), from ``Store.query``/``update`` or, as its answers are lazy, while
they are read or written. Every function of graph.store that evaluates translates them with
:func:`evaluating`; code above that reads a client's answer itself (the explorer and the
exports, ``kg query`` printing a table, the /sparql answer being serialized) reads it inside
:func:`evaluating` too, so that nothing above graph.store catches the engine's own
exceptions.

Whose fault: the engine raises the same types for a SERVICE target and for the store, so
what decides is whether the evaluation could have reached another server at all. A block
given the client's ``text`` in which the engine cannot read SERVICE or LOAD
(graph.core.sparql_text.may_call_out: no such letters, no escape) makes no outbound call,
so an error raised while it runs is the store's: 503 :class:`StoreUnavailable` (a client's
own mistake, such as a function the engine does not know, is raised when the query is
prepared, and graph.store.sparql tells it apart there). Where the text could call out, or is
not known, it stays :class:`EvaluationFailed`, a 400 with a fixed text. The project's own
queries (:func:`graph.store.select_rows`) have no SERVICE or LOAD, and no client wrote them:
the engine failing them is the store failing (:func:`reading_the_store`). An ``OSError`` of
anything else (the disk under a scratch copy, a socket) is not the engine's and is not
translated.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextvars import ContextVar, Token
from types import TracebackType
from typing import ParamSpec, TypeVar

from graph.core.errors import EvaluationFailed, GraphError, StoreUnavailable
from graph.core.sparql_text import may_call_out

log = logging.getLogger("kg")

P = ParamSpec("P")
T = TypeVar("T")

_CAUSE = "a SERVICE or LOAD target did not answer usably, or the store could not be read"
_NO_NETWORK = "SERVICE and LOAD cannot reach the network on this server"

_network = True

#: Whether the evaluation of the innermost :func:`evaluating` block given a text could reach
#: another server (True when no block says: the error may be a SERVICE target's).
_may_call_out: ContextVar[bool] = ContextVar("kg_may_call_out", default=True)


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


def evaluating(what: str = "query", text: str | None = None) -> _Translated:
    """Run the block (or the decorated function), the engine's evaluation errors raised as the
    domain's: :class:`StoreUnavailable` when ``text``, the client's query or update evaluated
    in the block, cannot make the engine reach another server (the error is the store's);
    otherwise :class:`EvaluationFailed`. A block given no text follows the innermost block
    around it that was (the serializers of graph.store.results read an answer lazily).

    >>> from pyoxigraph import Store
    >>> with evaluating():  # doctest: +ELLIPSIS
    ...     list(Store().query("SELECT * { SERVICE ?unbound { ?s ?p ?o } }"))
    Traceback (most recent call last):
    graph.core.errors.EvaluationFailed: the query failed during evaluation (...)
    """
    return _Translated(
        (OSError, RuntimeError),
        lambda error, calls_out: failed(error, what=what) if calls_out else store_failed(error),
        calls_out=None if text is None else may_call_out(text),
    )


def reading_the_store() -> _Translated:
    """Run the block (or the decorated function), which evaluates the project's own queries
    (no SERVICE, no LOAD, no text of a client's): an engine error there is the store's, the
    server's fault, raised as :class:`StoreUnavailable` (503); the engine's text goes to the
    log."""
    return _Translated(
        (OSError, RuntimeError, EvaluationFailed), lambda error, _: store_failed(error)
    )


def store_failed(error: BaseException) -> StoreUnavailable:
    """The domain's error for the store failing an evaluation with ``error`` (logged)."""
    reason = error.reason if isinstance(error, EvaluationFailed) else str(error)
    log.warning("the store could not be read: %s", reason)
    return StoreUnavailable("the store could not be read")


class _Translated:
    """Errors of ``kinds`` raised in the block become ``translate(error, calls_out)``:
    ``calls_out`` is whether the block's evaluation could reach another server, given here or
    else the innermost enclosing block's (:data:`_may_call_out`, set for the block's run).

    Also a decorator, each call of the function in a block of its own. A class, not
    ``@contextmanager``: contextlib sets ``__traceback__`` on every exception that passes
    through a generator, which a frozen dataclass exception refuses.
    """

    def __init__(
        self,
        kinds: tuple[type[BaseException], ...],
        translate: Callable[[BaseException, bool], GraphError],
        *,
        calls_out: bool | None = None,
    ) -> None:
        self.kinds, self.translate, self.calls_out = kinds, translate, calls_out
        self._token: Token[bool] | None = None

    def __call__(self, function: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(function)
        def translated(*args: P.args, **kwargs: P.kwargs) -> T:
            # One block per call: the function may run on several threads at once.
            with _Translated(self.kinds, self.translate, calls_out=self.calls_out):
                return function(*args, **kwargs)

        return translated

    def __enter__(self) -> None:
        if self.calls_out is not None:
            self._token = _may_call_out.set(self.calls_out)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _may_call_out.reset(self._token)
        if isinstance(error, self.kinds):
            calls_out = _may_call_out.get() if self.calls_out is None else self.calls_out
            raise self.translate(error, calls_out) from None
