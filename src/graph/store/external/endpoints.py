"""Where an external SPARQL store answers: query, update and Graph Store endpoints per kind.

One URL names the store; its kind gives the paths around it, and explicit settings override
each endpoint. Kinds and their conventions:

- ``oxigraph`` (``oxigraph serve``): ``http://host:7878`` -> ``/query``, ``/update``, ``/store``.
- ``virtuoso``: ``http://host:8890/sparql`` -> queries on ``/sparql``; with a user, updates on
  ``/sparql-auth`` and the Graph Store on ``/sparql-graph-crud-auth`` (HTTP Digest), without one
  on ``/sparql`` and ``/sparql-graph-crud`` (the SPARQL user then needs the SPARQL_UPDATE role).
  The ``timeout`` parameter (milliseconds) bounds a query.
- ``fuseki``: ``http://host:3030/dataset`` -> ``/query``, ``/update``, ``/data``; ``timeout``
  parameter in seconds.
- ``generic``: the URL answers queries and updates; no Graph Store unless given explicitly.

``auto`` picks ``virtuoso`` for a URL ending in ``/sparql``, ``oxigraph`` for a bare
``host:port`` and ``generic`` otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

KINDS = ("auto", "oxigraph", "virtuoso", "fuseki", "generic")


@dataclass(frozen=True)
class Endpoints:
    """The URLs and conventions of one external store."""

    kind: str
    query: str
    update: str
    #: Graph Store Protocol endpoint (indirect identification, ``?graph=``), if the store has one.
    gsp: str | None
    #: Name of the GSP parameter naming the graph (Virtuoso's is ``graph-uri``).
    gsp_graph_param: str = "graph"
    #: Name of the query parameter carrying the time limit, and its unit in seconds.
    timeout_param: str | None = None
    timeout_unit: float = 1.0
    #: HTTP authentication scheme for a user and password: ``basic`` or ``digest``.
    auth_scheme: str = "basic"


def detect_kind(url: str) -> str:
    """Guess the kind of store from its URL.

    >>> detect_kind("http://127.0.0.1:8890/sparql"), detect_kind("http://127.0.0.1:7878/")
    ('virtuoso', 'oxigraph')
    >>> detect_kind("https://db.example.org/ds")
    'generic'
    """
    path = urlsplit(url).path.rstrip("/")
    if path.endswith("/sparql"):
        return "virtuoso"
    return "oxigraph" if not path else "generic"


def endpoints_for(url: str, kind: str, has_user: bool) -> Endpoints:
    """The endpoints a store of ``kind`` at ``url`` answers on.

    >>> endpoints_for("http://h:7878", "oxigraph", False).update
    'http://h:7878/update'
    >>> endpoints_for("http://h:8890/sparql", "virtuoso", True).gsp
    'http://h:8890/sparql-graph-crud-auth'

    :raises ValueError: for an unknown kind.
    """
    if kind == "auto":
        kind = detect_kind(url)
    base = url.rstrip("/")
    if kind == "oxigraph":
        return Endpoints(kind, f"{base}/query", f"{base}/update", f"{base}/store")
    if kind == "fuseki":
        return Endpoints(
            kind, f"{base}/query", f"{base}/update", f"{base}/data", timeout_param="timeout"
        )
    if kind == "virtuoso":
        root = base.removesuffix("/sparql")
        suffix = "-auth" if has_user else ""
        return Endpoints(
            kind,
            f"{root}/sparql",
            f"{root}/sparql{suffix}",
            f"{root}/sparql-graph-crud{suffix}",
            gsp_graph_param="graph-uri",
            timeout_param="timeout",
            timeout_unit=0.001,
            auth_scheme="digest",
        )
    if kind == "generic":
        return Endpoints(kind, base, base, None)
    raise ValueError(f"unknown store kind {kind!r}; expected one of {', '.join(KINDS)}")


def endpoints_from_settings(url: str, values: Mapping[str, Any]) -> Endpoints:
    """Endpoints for ``url`` from the kind preset, each overridden by an explicit setting."""
    preset = endpoints_for(url, values.get("store_kind") or "auto", bool(values.get("store_user")))
    return Endpoints(
        preset.kind,
        values.get("store_query_url") or preset.query,
        values.get("store_update_url") or preset.update,
        values.get("store_gsp_url") or preset.gsp,
        preset.gsp_graph_param,
        preset.timeout_param,
        preset.timeout_unit,
        preset.auth_scheme,
    )
