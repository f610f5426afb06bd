"""Security headers on every response (pages, data, errors, the SPARQL fast path alike).

The Content-Security-Policy allows scripts from this server's own files only: no inline
script, no ``eval``, no ``javascript:`` navigation (CSP Level 3, section 6.1.11: a
``javascript:`` URL runs only where ``script-src`` allows ``'unsafe-inline'``), so an IRI
that slipped into a link or a ``window.location`` still runs nothing (issue 11, item 5).
Styles may be inline: the vendored editor (YASGUI/CodeMirror) positions its widgets with
``style`` attributes, and a style runs no script.

A redirect to this server names a path, not the ``Host`` the client sent: Werkzeug's own
redirects (``/id//x`` to ``/id/x``, merged slashes) wrote ``http://{Host}/id/x``, so a forged
``Host`` made a redirect to anywhere that a shared cache could keep for everyone (RFC 9110
section 10.2.2 allows a relative ``Location``; our own redirects were relative already).

An answer that does not say how it may be cached gets ``Cache-Control`` (:func:`cache_control`):
without one, and with no validator, a shared cache may still keep it for a while (heuristic
freshness, RFC 9111 section 4.2.2; Varnish keeps such an answer two minutes), so after a
write it handed out the old answer, or a 404 for what the write created.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wsgi import get_host

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

#: Added to each response that does not set the header itself.
HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    # Browsers must trust the Content-Type: a CSV or JSON answer holding markup is not a page.
    ("X-Content-Type-Options", "nosniff"),
    # Queries travel in URLs: other sites learn this origin at most, never the query.
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    # frame-ancestors for browsers that predate it (clickjacking).
    ("X-Frame-Options", "DENY"),
)
_NAMES = frozenset(name.lower() for name, _ in HEADERS)


def cache_control(status: str, environ: dict[str, Any], writable: bool) -> str | None:
    """The ``Cache-Control`` for an answer that sets none, or None to say nothing.

    An answer to a request with credentials, and an error, is kept by no cache: the first is
    the token holder's, the second may be gone at the next write (a 404) or is one client's
    mistake. On a writable server every answer may change at the next write, so a cache must
    ask again each time; a read-only server's answers change only with a new build or restore.

    >>> cache_control("200 OK", {"HTTP_AUTHORIZATION": "Bearer t"}, False)
    'no-store'
    >>> cache_control("404 NOT FOUND", {}, False), cache_control("200 OK", {}, True)
    ('no-store', 'no-cache')
    >>> print(cache_control("200 OK", {}, False))
    None
    """
    if "HTTP_AUTHORIZATION" in environ or status[:1] in ("4", "5"):
        return "no-store"
    return "no-cache" if writable else None


class SecurityHeaders:
    """WSGI middleware: add :data:`HEADERS` to every response of ``app``, and
    :func:`cache_control`'s ``Cache-Control`` to one that has none."""

    def __init__(self, app: WsgiApp, *, writable: bool = False) -> None:
        self.app = app
        self.writable = writable

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        def with_headers(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            if status.startswith("3"):
                headers = [_relative_location(h, environ) for h in headers]
            names = {name.lower() for name, _ in headers}
            if "cache-control" not in names:
                policy = cache_control(status, environ, self.writable)
                if policy:
                    headers = [*headers, ("Cache-Control", policy)]
            present = names & _NAMES
            if present:
                headers = [*headers, *(h for h in HEADERS if h[0].lower() not in present)]
            else:
                headers = [*headers, *HEADERS]
            return start_response(status, headers, *rest)

        return self.app(environ, with_headers)


def _relative_location(header: tuple[str, str], environ: dict[str, Any]) -> tuple[str, str]:
    """``header`` with a ``Location`` on the request's own host made a path.

    >>> env = {"HTTP_HOST": "evil.example", "wsgi.url_scheme": "http"}
    >>> _relative_location(("Location", "http://evil.example/id/x?a=1"), env)
    ('Location', '/id/x?a=1')
    >>> _relative_location(("Location", "https://elsewhere.example/x"), env)
    ('Location', 'https://elsewhere.example/x')
    """
    name, value = header
    if name.lower() != "location":
        return header
    parts = urlsplit(value)
    # The host as Werkzeug writes it in the URLs it builds (a default port left out).
    if not parts.netloc or parts.netloc.lower() != get_host(environ).lower():
        return header
    return name, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
