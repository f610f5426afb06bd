"""The W3C Reconciliation Service API v0.2 at ``/reconcile`` (issue 15): what OpenRefine speaks.

``/reconcile`` answers the manifest (no parameters), a batch (``queries``), one query
(``query``) and data extension (``extend``), by GET or form POST; the suggest services,
previews and property proposals live under it. JSON, or JSONP with ``callback`` (a JavaScript
identifier, nothing else). Open to anyone without a token, so every request is bounded
(graph.answering.reconcile.requests) and answered under ``query_timeout``.
https://www.w3.org/community/reports/reconciliation/CG-FINAL-specs-0.2-20230410/
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, current_app, render_template, request

from graph.answering import deadline
from graph.answering import stack as stacks
from graph.answering.admission import Admission
from graph.answering.reconcile import requests
from graph.answering.reconcile.loading import CatalogueCache, load
from graph.answering.reconcile.service import Service
from graph.core.errors import BadRequest, NotFound
from graph.http.context import external_store, get_store, store_version, time_limit

bp = Blueprint("reconcile", __name__, url_prefix="/reconcile")

T = TypeVar("T")

#: A JSONP callback: a JavaScript identifier or a dotted path of them (ASCII only), so that the
#: answer is one call of a function the page defined and never script of the caller's choosing.
CALLBACK = re.compile(r"[A-Za-z_$][\w$]{0,63}(\.[A-Za-z_$][\w$]{0,63}){0,3}", re.ASCII)
#: Seconds an external store's catalogue is trusted: it changes without this process knowing.
EXTERNAL_MAX_AGE = 60.0
#: The preview card's size in the client's frame (the manifest tells it).
PREVIEW_SIZE = (400, 140)


def init_app(app: Flask) -> None:
    """Register /reconcile and keep one catalogue per version of the app's store."""
    max_age = EXTERNAL_MAX_AGE if external_store(app) else None
    app.extensions["kg.reconcile"] = CatalogueCache(store_version(app), max_age=max_age)
    app.register_blueprint(bp)


def service() -> Service:
    """The reconciliation service over the current version of the app's store."""
    store = get_store()
    cache: CatalogueCache = current_app.extensions["kg.reconcile"]
    base = str(current_app.config["BASE_IRI"])
    return Service(cache.get(lambda: load(store, base)), store)


def limits() -> requests.Limits:
    """The bounds of one request (settings ``reconcile_max_*``)."""
    config = current_app.config
    return requests.Limits(
        batch=int(config["RECONCILE_MAX_BATCH"]),
        chars=int(config["RECONCILE_MAX_CHARS"]),
        candidates=int(config["RECONCILE_MAX_LIMIT"]),
    )


def bounded(work: Callable[[], T]) -> T:
    """``work`` as a query to /sparql runs: under ``query_timeout`` (503 past it), at idle
    CPU priority past 50 ms of CPU, counted per client (graph.answering.admission)."""
    seconds, retire = time_limit(current_app)
    admission: Admission = current_app.extensions["kg.admission"]
    client = request.remote_addr or ""
    admission.admit(client)
    # The SPARQL it runs is flat (VALUES of IRIs), never nested by a client.
    return deadline.with_deadline(
        lambda: admission.run(client, work), seconds, stack=stacks.stack_for(4096), retire=retire
    )


def answer(document: dict[str, Any]) -> Response:
    """``document`` as JSON, or as JSONP when the request names a valid ``callback``.

    :raises BadRequest: for a ``callback`` that is not a JavaScript identifier.
    """
    body = json.dumps(document, ensure_ascii=False)
    callback = request.values.get("callback")
    if callback is None:
        return Response(body, mimetype="application/json")
    if not CALLBACK.fullmatch(callback):
        raise BadRequest("callback: must be a JavaScript identifier such as jsonp_1")
    # "<" escaped so that no "</script>" can close a page's script element; the leading
    # comment keeps the first bytes out of the caller's control (old content sniffing).
    safe = body.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Response(f"/**/{callback}({safe});", mimetype="application/javascript")


@bp.route("", methods=["GET", "POST"])
def reconcile() -> Response:
    """The manifest, a batch of queries, one query, or a data extension request."""
    values = request.values
    if "queries" in values:
        batch = requests.batch(values["queries"], limits())
        svc = service()
        return answer(bounded(lambda: svc.reconcile(batch)))
    if "query" in values:
        return answer(_one_query(values["query"]))
    if "extend" in values:
        query = requests.extension(values["extend"], limits())
        svc = service()
        return answer(bounded(lambda: svc.extend(query)))
    return answer(manifest(service()))


def _one_query(text: str) -> dict[str, Any]:
    """``query=`` holds a name, or one query object (older clients)."""
    single = text if text.lstrip().startswith("{") else json.dumps({"query": text})
    batch = requests.batch('{"q": ' + single + "}", limits())
    svc = service()
    return bounded(lambda: svc.reconcile(batch))["q"]


def manifest(svc: Service) -> dict[str, Any]:
    """The service manifest: what this service offers and where."""
    root = request.url_root.rstrip("/")
    width, height = PREVIEW_SIZE
    return {
        "versions": ["0.2"],
        "name": "Alliance Graph",
        "identifierSpace": svc.space,
        "schemaSpace": svc.catalogue.base + "ontology#",
        "view": {"url": root + "/id/{{id}}"},
        "preview": {"url": root + "/reconcile/preview?id={{id}}", "width": width, "height": height},
        "defaultTypes": svc.default_types(),
        "suggest": {
            kind: {"service_url": root + "/reconcile", "service_path": f"/suggest/{kind}"}
            for kind in ("entity", "type", "property")
        },
        "extend": {
            "propose_properties": {
                "service_url": root + "/reconcile",
                "service_path": "/propose_properties",
            },
            "property_settings": [],
        },
    }


def _prefix() -> str:
    return requests.bounded_text(request.args.get("prefix"), "prefix", limits())


def _limit() -> int:
    return requests.bounded_limit(request.args.get("limit"), limits())


@bp.get("/suggest/entity")
def suggest_entity() -> Response:
    """Entities whose name (or a word of it) starts with ``prefix``, optionally of ``type``."""
    kind = requests.bounded_text(request.args.get("type"), "type", limits()) or None
    return answer(service().suggest_entities(_prefix(), kind, _limit()))


@bp.get("/suggest/type")
def suggest_type() -> Response:
    """Classes whose name starts with ``prefix``."""
    return answer(service().suggest_types(_prefix(), _limit()))


@bp.get("/suggest/property")
def suggest_property() -> Response:
    """Properties whose name starts with ``prefix``."""
    return answer(service().suggest_properties(_prefix(), _limit()))


@bp.get("/propose_properties")
def propose_properties() -> Response:
    """Properties to extend entities of ``type`` with."""
    kind = requests.bounded_text(request.args.get("type"), "type", limits()) or None
    return answer(service().propose(kind, _limit()))


@bp.get("/preview")
def preview() -> Response:
    """A small HTML card for one entity, shown by clients in a frame."""
    ident = requests.bounded_text(request.args.get("id"), "id", limits())
    svc = service()
    entity = svc.find(ident)
    if entity is None:
        raise NotFound(f"no entity with id {ident[:80]!r}")
    types = [svc.catalogue.type_name(t) for t in entity.types]
    body = render_template("reconcile_preview.html", entity=entity, types=types, ident=ident)
    response = Response(body, mimetype="text/html")
    # Clients show the card in a frame of their own page: framing allowed, nothing else.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors *; base-uri 'none'"
    )
    return response
