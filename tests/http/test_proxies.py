"""Behind reverse proxies (setting ``proxies``): the client and the scheme come from the
X-Forwarded-* headers the proxies set, and from nothing a client sends when there are none."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from pyoxigraph import NamedNode, RdfFormat, parse

from graph.answering.admission import Admission
from graph.core import settings
from graph.http.app import create_app
from graph.serving.server import gunicorn_options

SD = "http://www.w3.org/ns/sparql-service-description#"
#: What a client sends, then what each of two proxies appended (the nearest last).
FORWARDED = {
    "X-Forwarded-For": "192.0.2.66, 198.51.100.7, 203.0.113.5",
    "X-Forwarded-Proto": "https",
}
SELECT = "SELECT * WHERE { ?s ?p ?o } LIMIT 1"
#: Every kind of route that counts a client's evaluations (graph.answering.admission).
ROUTES = [
    ("GET", "/sparql", {"query": SELECT}),
    ("POST", "/sparql", {"query": SELECT}),
    ("GET", "/explore/elements.json", {"query": "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1"}),
    ("GET", "/reconcile", {"queries": '{"q0": {"query": "Honduras"}}'}),
]


def app_behind(project_store: Path, proxies: int) -> Flask:
    return create_app(
        {"TESTING": True, "STORE": str(project_store), "WRITE_TOKEN": "", "PROXIES": proxies}
    )


def sparql_endpoint_named(app: Flask) -> str:
    """The endpoint URL the service description gives (sd:endpoint)."""
    response = app.test_client().get(
        "/sparql", headers={**FORWARDED, "Accept": "text/turtle"}, base_url="http://kg.example"
    )
    assert response.status_code == 200
    quads = parse(response.data, RdfFormat.TURTLE)
    return next(q.object.value for q in quads if q.predicate == NamedNode(SD + "endpoint"))


@pytest.mark.parametrize(
    ("proxies", "client", "endpoint"),
    [
        (0, "127.0.0.1", "http://kg.example/sparql"),
        (1, "203.0.113.5", "https://kg.example/sparql"),
        (2, "198.51.100.7", "https://kg.example/sparql"),
    ],
)
@pytest.mark.parametrize(("method", "path", "fields"), ROUTES)
def test_the_client_is_the_one_the_trusted_proxies_name(
    project_store: Path,
    monkeypatch: pytest.MonkeyPatch,
    proxies: int,
    client: str,
    endpoint: str,
    method: str,
    path: str,
    fields: dict[str, str],
) -> None:
    seen: list[str] = []
    monkeypatch.setattr(Admission, "admit", lambda self, who: seen.append(who))
    app = app_behind(project_store, proxies)
    sent = {"query_string": fields} if method == "GET" else {"data": fields}
    response = app.test_client().open(
        path,
        method=method,
        headers=FORWARDED,
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        **sent,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert seen == [client]
    # The first address, which the client wrote itself, is never taken.
    assert "192.0.2.66" not in seen
    assert sparql_endpoint_named(app) == endpoint


def test_gunicorn_trusts_no_forwarded_header_of_its_own() -> None:
    """gunicorn's defaults take X-Forwarded-Proto and SCRIPT_NAME headers from loopback peers;
    the writable server must read them only as ``proxies`` says, as granian does."""
    options = gunicorn_options({name.upper(): v for name, v in settings.resolve().items()})
    assert options["forwarded_allow_ips"] == "" and options["secure_scheme_headers"] == {}
