"""Typed errors each with its HTTP status, mapped to responses in one place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Protocol


class Renderable(Protocol):
    """A report that can be written as Turtle, JSON or text (graph.validation.report.Report)."""

    def to_turtle(self) -> str: ...
    def to_json(self) -> str: ...
    def to_text(self) -> str: ...


class HttpError(Exception):
    """An error a client caused or must know about; ``status`` is the HTTP status it maps to."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"

    def __init__(
        self,
        detail: str,
        *,
        body: bytes | None = None,
        media_type: str = "",
        headers: Mapping[str, str] | None = None,
        position: tuple[int, int] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        #: Where in the client's text the error is (1-based line and column), when it is in one.
        self.position = position
        #: Extra response headers the status calls for (e.g. ``Allow`` with a 405).
        self.headers = dict(headers or {})
        #: An optional full body (e.g. a SHACL report in Turtle) sent instead of the detail text.
        self.body = body
        self.media_type = media_type


class BadRequest(HttpError):
    """Malformed request: bad parameters, syntax errors in queries or payloads."""

    status = 400
    title = "Bad Request"


class Unauthorized(HttpError):
    """A write without a valid bearer token."""

    status = 401
    title = "Unauthorized"


class Forbidden(HttpError):
    """An operation the server's policy refuses (writes off, SERVICE off the allow-list)."""

    status = 403
    title = "Forbidden"


class NotFound(HttpError):
    """No such resource or graph."""

    status = 404
    title = "Not Found"


class MethodNotAllowed(HttpError):
    """HTTP method not allowed on this route."""

    status = 405
    title = "Method Not Allowed"


class NotAcceptable(HttpError):
    """No offered format matches the Accept header or ``format`` parameter."""

    status = 406
    title = "Not Acceptable"


class CuratedGraphProtected(HttpError):
    """A write that would remove or empty a graph a file under data/ provides
    (graph.answering.curated).
    """

    status = 409
    title = "Conflict"


class RequestTimeout(HttpError):
    """A request body that did not arrive within the configured time (graph.http.bodylimit)."""

    status = 408
    title = "Request Timeout"


class PayloadTooLarge(HttpError):
    """Request body over the configured limit."""

    status = 413
    title = "Content Too Large"


class UnsupportedMediaType(HttpError):
    """Request body in a media type the route does not take."""

    status = 415
    title = "Unsupported Media Type"


class ShapeViolation(HttpError):
    """A write that would break the SHACL shapes; ``report`` is the validation report, which
    the HTTP layer renders in the format the client asks for (graph.http.errors)."""

    status = 422
    title = "Unprocessable Content"

    def __init__(self, detail: str, *, report: Renderable | None = None) -> None:
        super().__init__(detail)
        self.report = report


class WritesNotSupported(HttpError):
    """A write the server cannot check and commit safely (writes to an external store)."""

    status = 501
    title = "Not Implemented"


class ResultTooLarge(HttpError):
    """A query whose result is over the configured limit."""

    status = 413
    title = "Result Too Large"


class TooManyQueries(HttpError):
    """A client with too many long queries running (graph.answering.admission); comes with
    Retry-After."""

    status = 429
    title = "Too Many Requests"


class QueryTimeout(HttpError):
    """A query stopped at the time limit."""

    status = 503
    title = "Service Unavailable"


class StoreUnavailable(HttpError):
    """The store cannot be reached or opened."""

    status = 503
    title = "Service Unavailable"
