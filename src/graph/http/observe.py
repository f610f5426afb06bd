"""Operational surface: CORS, /health, Prometheus /metrics and a JSON-lines access log.

Metrics work across gunicorn workers through prometheus_client's multiprocess mode, which
``kg serve`` switches on by setting PROMETHEUS_MULTIPROC_DIR before anything imports
prometheus_client (https://prometheus.github.io/client_python/multiprocess/).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from graph.answering import queries
from graph.core.errors import StoreUnavailable
from graph.http.context import get_store
from graph.store import run_query

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

blueprint = Blueprint("observe", __name__)
access_log = logging.getLogger("kg.access")

REQUESTS = Counter("kg_requests_total", "HTTP requests answered", ["route", "status"])
LATENCY = Histogram(
    "kg_request_seconds",
    "Time to answer a request",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TIMEOUTS = Counter("kg_query_timeouts_total", "Queries stopped at the time limit")
REFUSALS = Counter("kg_refusals_total", "Requests refused by policy", ["status"])

CORS_HEADERS = "Accept, Authorization, Content-Type"


def init_app(app: Flask) -> None:
    """Install CORS, metrics, access log and the /health and /metrics routes."""
    app.before_request(_start)
    app.after_request(_finish)
    app.register_blueprint(blueprint)


def _start() -> None:
    g.started = time.perf_counter()


def _finish(response: Response) -> Response:
    started = g.get("started")
    for name, value in cors_headers(
        current_app.config["CORS_ORIGINS"], request.headers.get("Origin"), request.method
    ):
        if name == "Vary":
            response.vary.add(value)
        else:
            response.headers[name] = value
    done = functools.partial(
        record,
        response.status_code,
        request.environ,
        route=request.url_rule.rule if request.url_rule is not None else "unmatched",
        cache=response.headers.get("X-Cache"),
        query_hash=g.get("query_hash"),
        query_kind=g.get("query_kind"),
    )
    started = started if started is not None else time.perf_counter()
    if not response.is_streamed:
        size = sum(len(part) for part in response.iter_encoded())
        done(duration=time.perf_counter() - started, size=size)
        return response
    # A streamed answer (a dump) is counted as it is sent and recorded once it is over:
    # measuring it here would read it whole first (issue 11, item 8).
    counted = CountedBody(response.iter_encoded(), response.response)
    response.response = counted
    response.call_on_close(lambda: done(duration=time.perf_counter() - started, size=counted.sent))
    return response


class CountedBody:
    """A response body that counts the bytes it hands out (to the server that sends them)."""

    def __init__(self, parts: Iterable[bytes], source: Any) -> None:
        self.parts = iter(parts)
        self.source = source
        self.sent = 0

    def close(self) -> None:
        """Close the body it counts (a dump's writer stops when its reader goes away)."""
        close = getattr(self.source, "close", None)
        if close is not None:
            close()

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        part = next(self.parts)
        self.sent += len(part)
        return part


def access_logged() -> bool:
    """True when the access log is on (so its per-request fields are worth computing)."""
    return access_log.isEnabledFor(logging.INFO)


def record(
    status: int,
    environ: WSGIEnvironment,
    *,
    route: str,
    duration: float,
    size: int | None,
    cache: str | None,
    query_hash: str | None,
    query_kind: str | None,
) -> None:
    """Count and log one answered request (Flask views and graph.http.fastpath)."""
    _requests(route, status).inc()
    _latency(route).observe(duration)
    if status == 503 and query_kind:
        TIMEOUTS.inc()
    elif status in (401, 403, 413):
        REFUSALS.labels(str(status)).inc()
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(
            json.dumps(
                {
                    "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "method": environ["REQUEST_METHOD"],
                    "path": environ.get("PATH_INFO", "/"),
                    "status": status,
                    "duration_ms": round(duration * 1000, 3),
                    "bytes": size,
                    "query_hash": query_hash,
                    "query_kind": query_kind,
                    "cache": cache,
                }
            )
        )


# The labelled children, looked up once: prometheus_client locks and hashes on every labels().
@functools.lru_cache(maxsize=256)
def _requests(route: str, status: int) -> Any:
    return REQUESTS.labels(route, str(status))


@functools.lru_cache(maxsize=64)
def _latency(route: str) -> Any:
    return LATENCY.labels(route)


def cors_headers(origins: str, origin: str | None, method: str) -> list[tuple[str, str]]:
    """The CORS headers answering a request from ``origin`` (``Vary`` names what to add to it).

    A shared cache keeps one answer for requests with any ``Origin`` or none, unless told
    (Fetch standard, "CORS protocol and HTTP caches"): with ``*`` every answer says
    ``Access-Control-Allow-Origin: *``, with or without ``Origin``; where origins are listed,
    the answer depends on ``Origin`` whether it names one of them, another or none, and each
    says ``Vary: Origin``. Else a cache handed the answer without the header to a page of
    another origin, whose browser refused it.

    >>> cors_headers("https://a.org, https://b.org", "https://b.org", "GET")
    [('Access-Control-Allow-Origin', 'https://b.org'), ('Vary', 'Origin')]
    >>> cors_headers("https://a.org", "https://evil.org", "GET"), cors_headers("*", None, "GET")
    ([('Vary', 'Origin')], [('Access-Control-Allow-Origin', '*')])
    """
    if not origins:
        return []
    allowed = {o.strip() for o in origins.split(",")}
    headers: list[tuple[str, str]]
    if "*" in allowed:
        headers = [("Access-Control-Allow-Origin", "*")]
    elif origin in allowed:
        headers = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
    else:
        return [("Vary", "Origin")]
    if method == "OPTIONS":
        headers += [
            ("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS"),
            ("Access-Control-Allow-Headers", CORS_HEADERS),
            ("Access-Control-Max-Age", "86400"),
        ]
    return headers


@blueprint.route("/health")
def health() -> Response:
    """200 when the store can be read and holds triples, else 503."""
    if not bool(run_query(get_store(), queries.ANY_TRIPLE)):
        raise StoreUnavailable("the store is reachable but holds no triples")
    library = malloc_in_use()
    body = json.dumps(
        {
            "status": "ok",
            "pid": os.getpid(),
            "allocator": library.name if library else "system",
            # Who answers a query at its time limit: the request thread, while the query runs
            # on a helper thread (graph.answering.deadline.with_deadline).
            "time_limit": "helper threads",
        }
    )
    return Response(body, 200, mimetype="application/json")


@blueprint.route("/metrics")
def metrics() -> Response:
    """Prometheus metrics, summed over every worker process when running under gunicorn."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest()
    return Response(body, 200, content_type=CONTENT_TYPE_LATEST)


def malloc_in_use(pid: int | None = None) -> Path | None:
    """The malloc replacement mapped into process ``pid`` (this one by default), if any."""
    maps = Path(f"/proc/{pid or os.getpid()}/maps")
    try:
        text = maps.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        path = Path(line.split()[-1])
        if path.name.startswith(("libmimalloc", "libjemalloc", "libtcmalloc")):
            return path
    return None
