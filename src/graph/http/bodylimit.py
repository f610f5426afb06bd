"""Hold request bodies sent without a Content-Length (chunked) to the ``max_body`` limit.

Werkzeug enforces MAX_CONTENT_LENGTH on a body of unknown length by *truncating* it:
``request.get_data()`` returns the first ``max_body`` bytes and raises nothing, so an
over-limit chunked upload was parsed cut short (and a Graph Store PUT committed its first part).
This WSGI middleware reads such a body up to one byte past the limit before the application
sees it: over the limit it answers 413 itself; otherwise the application gets the body with
its Content-Length, like any other request.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: Bytes read from the input stream at a time.
CHUNK = 64 * 1024


class ChunkedBodyLimit:
    """WSGI middleware: buffer bodies of unknown length, refusing those over ``limit`` bytes."""

    def __init__(self, app: WsgiApp, limit: Callable[[], int]) -> None:
        self.app = app
        self.limit = limit

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("CONTENT_LENGTH") or not _has_body(environ):
            return self.app(environ, start_response)
        limit = self.limit()
        body = _read_at_most(environ["wsgi.input"], limit + 1)
        if len(body) > limit:
            message = (
                f"413 Payload Too Large: the request body is over the limit of {limit} bytes\n"
            ).encode()
            start_response(
                "413 Payload Too Large",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(message))),
                    ("Connection", "close"),
                ],
            )
            return [message]
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)


def _has_body(environ: dict[str, Any]) -> bool:
    """True for a request whose body is framed by Transfer-Encoding, not Content-Length."""
    return bool(environ.get("HTTP_TRANSFER_ENCODING"))


def _read_at_most(stream: Any, size: int) -> bytes:
    parts, total = [], 0
    while total < size:
        part = stream.read(min(CHUNK, size - total))
        if not part:
            break
        parts.append(part)
        total += len(part)
    return b"".join(parts)
