"""Operational surface: CORS, /health, Prometheus /metrics and a JSON-lines access log.

Metrics work across gunicorn workers through prometheus_client's multiprocess mode, which
``kg serve`` switches on by setting PROMETHEUS_MULTIPROC_DIR before anything imports
prometheus_client (https://prometheus.github.io/client_python/multiprocess/).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
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

from graph import queries
from graph.app import get_store
from graph.errors import StoreUnavailable
from graph.store import run_query

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment
    from werkzeug.wrappers import Response as BaseResponse

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
    record(
        response,
        current_app.config,
        request.environ,
        route=request.url_rule.rule if request.url_rule is not None else "unmatched",
        duration=time.perf_counter() - started if started is not None else 0.0,
        query_hash=g.get("query_hash"),
        query_kind=g.get("query_kind"),
    )
    return response


def record(
    response: BaseResponse,
    config: Mapping[str, Any],
    environ: WSGIEnvironment,
    *,
    route: str,
    duration: float,
    query_hash: str | None,
    query_kind: str | None,
) -> None:
    """Add CORS headers to ``response`` and count and log it (Flask views and graph.fastpath)."""
    method = environ["REQUEST_METHOD"]
    _cors(response, config["CORS_ORIGINS"], environ.get("HTTP_ORIGIN"), method)
    status = response.status_code
    REQUESTS.labels(route, str(status)).inc()
    LATENCY.labels(route).observe(duration)
    if status == 503 and query_kind:
        TIMEOUTS.inc()
    elif status in (401, 403, 413):
        REFUSALS.labels(str(status)).inc()
    if access_log.isEnabledFor(logging.INFO):
        access_log.info(
            json.dumps(
                {
                    "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "method": method,
                    "path": environ.get("PATH_INFO", "/"),
                    "status": status,
                    "duration_ms": round(duration * 1000, 3),
                    "bytes": response.calculate_content_length(),
                    "query_hash": query_hash,
                    "query_kind": query_kind,
                    "cache": response.headers.get("X-Cache"),
                }
            )
        )


def _cors(response: BaseResponse, origins: str, origin: str | None, method: str) -> None:
    if not origins or not origin:
        return
    allowed = {o.strip() for o in origins.split(",")}
    if "*" in allowed:
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin in allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
    else:
        return
    if method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, DELETE, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = "86400"


@blueprint.route("/health")
def health() -> Response:
    """200 when the store can be read and holds triples, else 503."""
    if not bool(run_query(get_store(), queries.ANY_TRIPLE)):
        raise StoreUnavailable("the store is reachable but holds no triples")
    body = json.dumps({"status": "ok", "pid": os.getpid()})
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
