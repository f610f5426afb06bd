"""Typed errors of the domain; graph.http.errors maps each type to an HTTP status."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class Renderable(Protocol):
    """A report that can be written as Turtle, JSON or text (graph.validation.report.Report)."""

    def to_turtle(self) -> str: ...
    def to_json(self) -> str: ...
    def to_text(self) -> str: ...


class GraphError(Exception):
    """An error a client caused or must know about, typed by what went wrong.

    graph.core knows nothing of HTTP: graph.http.errors maps each type to its status, and the
    CLI prints the detail.
    """

    def __init__(self, detail: str, *, position: tuple[int, int] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        #: Where in the client's text the error is (1-based line and column), when it is in one.
        self.position = position


class BadRequest(GraphError):
    """Malformed request: bad parameters, syntax errors in queries or payloads."""


class EvaluationFailed(BadRequest):
    """A query or update that parsed but that the engine could not evaluate: a SERVICE or LOAD
    target that did not answer usably, a store that could not be read. graph.store raises it
    for the engine's own errors (graph.store.evaluation).

    ``detail`` is a fixed text: the engine's would tell whether a SERVICE or LOAD target
    refused the connection, timed out or answered, with what status and body, which turns the
    endpoint into a port scanner (issue 11, item 2). ``reason`` keeps it for the log and the
    command line.
    """

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason


class Unauthorized(GraphError):
    """A write without a valid bearer token."""


class Forbidden(GraphError):
    """An operation the server's policy refuses (writes off, SERVICE off the allow-list)."""


class NotFound(GraphError):
    """No such resource or graph."""


class MethodNotAllowed(GraphError):
    """A method (or a kind of operation) the route does not take; ``allowed``: those it takes."""

    def __init__(self, detail: str, *, allowed: Iterable[str]) -> None:
        super().__init__(detail)
        self.allowed = tuple(allowed)


class NotAcceptable(GraphError):
    """No offered format matches the Accept header or ``format`` parameter."""


class CuratedGraphProtected(GraphError):
    """A write that would remove or empty a graph a file under data/ provides
    (graph.answering.curated).
    """


class RequestTimeout(GraphError):
    """A request body that did not arrive within the configured time (graph.http.bodylimit)."""


class PayloadTooLarge(GraphError):
    """Request body over the configured limit."""


class UnsupportedMediaType(GraphError):
    """Request body in a media type the route does not take."""


class ShapeViolation(GraphError):
    """A write that would break the SHACL shapes; ``report`` is the validation report, which
    the HTTP layer renders in the format the client asks for (graph.http.errors)."""

    def __init__(self, detail: str, *, report: Renderable | None = None) -> None:
        super().__init__(detail)
        self.report = report


class WritesNotSupported(GraphError):
    """A write the server cannot check and commit safely (writes to an external store)."""


class ResultTooLarge(GraphError):
    """A query whose result is over the configured limit."""


class TooManyQueries(GraphError):
    """A client with too many long queries running (graph.answering.admission); it may retry
    after ``retry_after`` seconds."""

    def __init__(self, detail: str, *, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ServerBusy(GraphError):
    """The server takes no more requests of a kind for now: request bodies, as many being
    received as it takes (graph.http.bodylimit). Not the client's doing, unlike
    :class:`TooManyQueries`; it may retry after ``retry_after`` seconds."""

    def __init__(self, detail: str, *, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class QueryTimeout(GraphError):
    """A query stopped at the time limit."""


class StoreUnavailable(GraphError):
    """The store cannot be reached or opened."""
