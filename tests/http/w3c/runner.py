"""Sending a W3C case's requests to a server and checking its answers as the manifest says."""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass
from xml.etree import ElementTree

import requests
from rdflib import Graph
from rdflib.compare import isomorphic

from tests.http.w3c.manifests import Case, Request

RESULTS_JSON = "application/sparql-results+json"
RESULTS_XML = "application/sparql-results+xml"
TABULAR = (RESULTS_JSON, RESULTS_XML, "text/csv", "text/tab-separated-values")
RDF_PARSERS = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
    "application/trig": "trig",
    "application/n-quads": "nquads",
}
#: An update that empties every graph, or a write that replaces the default graph (the union of
#: all graphs): on the curated store it would have to replace curated data.
EMPTIES_ALL = re.compile(r"\b(CLEAR|DROP)\s+(SILENT\s+)?(ALL|NAMED|DEFAULT)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Served:
    """A running ``kg serve``, the token its writes take and the graphs its files provide."""

    url: str
    token: str = ""
    curated: frozenset[str] = frozenset()
    protects_curated: bool = True


def replaces_curated(case: Case) -> bool:
    """True if a request of ``case`` meant to succeed empties every graph or replaces the
    default graph."""
    for req in case.requests:
        if not req.expected.allows(204) and not req.expected.allows(200):
            continue
        text = urllib.parse.unquote_plus((req.body or b"").decode("utf-8", "replace"))
        if EMPTIES_ALL.search(text):
            return True
        if req.method in ("PUT", "DELETE") and req.path.endswith("?default"):
            return True
    return False


def writes(case: Case) -> bool:
    """True if ``case`` sends an update or a Graph Store write (even one meant to be refused)."""
    for req in case.requests:
        body = (req.body or b"").lstrip()
        update = req.headers.get("content-type", "").startswith("application/sparql-update")
        if req.method in ("PUT", "DELETE") or (
            req.method == "POST" and req.path.startswith("/gsp")
        ):
            return True
        if update or body.startswith(b"update=") or "update=" in req.path:
            return True
    return False


def run(served: Served, case: Case) -> None:
    """Send every request of ``case`` in order and check each answer."""
    variables: dict[str, str] = {}
    for number, req in enumerate(case.requests, 1):
        response = _send(served, req, variables)
        where = f"{case.name}, request {number} ({req.method} {req.path[:60]})"
        _check(req, response, variables, where)


def auth(served: Served) -> dict[str, str]:
    """The Authorization header of the server's writes (none without a token)."""
    return {"Authorization": f"Bearer {served.token}"} if served.token else {}


def local_path(path: str) -> str:
    """The manifest's path on this server."""
    if path.startswith("/sparql/"):
        return "/sparql" + path[len("/sparql/") :]
    if path.startswith("/gsp/"):
        return "/graph/" + path[len("/gsp/") :]
    if path == "/gsp" or path.startswith("/gsp?"):
        return "/store" + path[len("/gsp") :]
    raise AssertionError(f"a path the manifests do not use: {path}")


def _send(served: Served, req: Request, variables: dict[str, str]) -> requests.Response:
    path, body = req.path, req.body
    for name, value in variables.items():
        path = path.replace(name, value)
        body = body.replace(name.encode(), value.encode()) if body is not None else None
    headers = {**req.headers, **auth(served)}
    return requests.request(
        req.method,
        served.url + local_path(path),
        data=body,
        headers=headers,
        allow_redirects=False,
        timeout=60,
    )


def _check(
    req: Request, response: requests.Response, variables: dict[str, str], where: str
) -> None:
    expected = req.expected
    assert expected.allows(response.status_code), (
        f"{where}: {response.status_code} {response.text[:300]}"
    )
    if expected.location:
        assert "Location" in response.headers, where
        variables[expected.location] = response.headers["Location"]
    media_type, params = _media_type(response.headers.get("Content-Type", ""))
    if expected.content_type:
        assert (media_type, params) == _media_type(expected.content_type), where
    if expected.result_format == "boolean":
        assert media_type in (RESULTS_JSON, RESULTS_XML), where
        if expected.boolean is not None:
            assert _boolean(response.content, media_type) is expected.boolean, where
    elif expected.result_format == "tabular":
        assert media_type in TABULAR, where
    elif expected.result_format == "RDF":
        assert media_type in RDF_PARSERS, where
        Graph().parse(data=response.content, format=RDF_PARSERS[media_type])
    if expected.graph is not None:
        wanted = Graph().parse(data=expected.graph, format="turtle")
        got = Graph().parse(data=response.content, format=RDF_PARSERS[media_type])
        assert isomorphic(got, wanted), f"{where}: got\n{response.text}"


def _media_type(value: str) -> tuple[str, dict[str, str]]:
    parts = [p.strip() for p in value.split(";") if p.strip()]
    params = dict(p.lower().split("=", 1) for p in parts[1:])
    return (parts[0].lower() if parts else ""), params


def _boolean(body: bytes, media_type: str) -> bool:
    if media_type == RESULTS_JSON:
        return bool(json.loads(body)["boolean"])
    element = ElementTree.fromstring(body).find("{http://www.w3.org/2005/sparql-results#}boolean")
    assert element is not None
    return element.text == "true"
