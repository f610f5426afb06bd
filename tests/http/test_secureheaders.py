"""Security headers on every route, and error headers whatever the Accept header (issue 11)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from graph.http.secureheaders import CONTENT_SECURITY_POLICY
from tests.conftest import HONDURAS

BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"


def routes(app: Flask) -> list[str]:
    """A GET path for every route of the application (converters filled with a value)."""
    paths = set()
    for rule in app.url_map.iter_rules():
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", "x").replace(f"<path:{argument}>", "x/y")
        paths.add(path)
    return sorted(paths)


@pytest.mark.parametrize(
    "path", ["/id//country/honduras", "/doc//country/honduras.ttl", "/graph//x"]
)
def test_a_redirect_names_a_path_not_the_host_the_client_sent(
    web_client: FlaskClient, path: str
) -> None:
    response = web_client.get(path, headers={"Host": "evil.example", "Accept": "text/turtle"})
    assert response.status_code == 308
    assert response.headers["Location"] == path.replace("//", "/")


def test_every_route_sends_the_security_headers(web_app: Flask, web_client: FlaskClient) -> None:
    paths = routes(web_app)
    assert "/explore" in paths and "/sparql" in paths
    for path in [*paths, "/no/such/page", "/sparql?query=ASK%7B%7D"]:
        for accept in (BROWSER, "*/*"):
            response = web_client.get(path, headers={"Accept": accept})
            headers = response.headers
            assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
            assert headers["X-Content-Type-Options"] == "nosniff", path
            assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path
            assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_the_policy_forbids_inline_script_and_eval() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"


@pytest.mark.parametrize("accept", [BROWSER, "*/*", "text/plain", None])
def test_a_405_keeps_its_allow_header(web_client: FlaskClient, accept: str | None) -> None:
    """Issue 11, item 10: the HTML error page dropped ``Allow`` for clients accepting */*."""
    headers = {"Accept": accept} if accept else {}
    for response in (
        web_client.delete("/explore", headers=headers),  # Werkzeug's own 405
        web_client.get("/sparql", query_string={"update": "CLEAR ALL"}, headers=headers),
    ):
        assert response.status_code == 405
        assert response.headers.get("Allow"), (accept, response.headers)


@pytest.mark.parametrize("accept", [BROWSER, "*/*", "text/plain", None])
def test_a_401_keeps_its_www_authenticate_header(
    write_app: Callable[..., Flask], accept: str | None
) -> None:
    app = write_app()
    headers = {"Accept": accept} if accept else {}
    response = app.test_client().post(
        "/sparql", data={"update": "CLEAR ALL"}, headers={**headers, "Authorization": "Bearer no"}
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if accept == BROWSER:
        assert response.mimetype == "text/html"


def test_link_headers_of_non_ascii_iris_are_percent_encoded(web_client: FlaskClient) -> None:
    """Issue 11, item 10: RFC 8288 puts a URI reference in Link; raw UTF-8 bytes are not one."""
    response = web_client.get("/id/place/são-paulo", headers={"Accept": "text/turtle"})
    assert response.status_code in (200, 303), response.status_code
    if response.status_code == 303:
        response = web_client.get(response.headers["Location"], headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    links = response.headers.getlist("Link")
    assert links and all(link.isascii() for link in links), links
    assert any("s%C3%A3o-paulo" in link for link in links)
    assert response.headers.get("Content-Location", "").isascii()
    honduras = web_client.get(HONDURAS.replace("https://w3id.org/alliance-graph", ""))
    assert honduras.status_code in (200, 303)


@pytest.mark.parametrize(
    "iri",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,x",
        "vbscript:x",
        "file:///etc/passwd",
    ],
)
def test_an_iri_that_is_not_http_is_never_a_link(web_client: FlaskClient, iri: str) -> None:
    """Issue 11, item 5: the explorer's nodes carry no href for other schemes."""
    query = f'CONSTRUCT {{ <{iri}> <http://www.w3.org/2000/01/rdf-schema#label> "x" }} WHERE {{}}'
    response = web_client.get("/explore/elements.json", query_string={"query": query})
    assert response.status_code == 200
    [node] = response.get_json()
    assert node["data"]["iri"] == iri and node["data"]["href"] is None


def test_answers_say_how_they_may_be_cached(web_client: FlaskClient) -> None:
    """Read-only: answers are left to the caches' rules, errors and answers to credentials are
    kept by none, and static files keep their own rule (brief h12o, item 1)."""
    ask = web_client.get("/sparql", query_string={"query": "ASK {}"})
    assert ask.status_code == 200 and "Cache-Control" not in ask.headers
    for response in (
        web_client.get("/id/country/no-such-country"),  # 404
        web_client.get("/sparql", query_string={"query": "ASK {"}),  # 400
        web_client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Authorization": "x"}),
    ):
        assert response.headers["Cache-Control"] == "no-store", response.status_code
    assert "no-store" not in web_client.get("/favicon.ico").headers["Cache-Control"]


def test_a_writable_servers_answers_are_asked_for_again(write_app: Callable[..., Flask]) -> None:
    """Each may change at the next write: without a rule a shared cache kept a 200 (or a 404)
    for minutes after a write changed it (heuristic freshness, RFC 9111 section 4.2.2)."""
    client = write_app().test_client()
    graph = "http://example.org/cached"
    read = {"query_string": {"graph": graph}, "headers": {"Accept": "text/turtle"}}
    assert client.get("/store", **read).headers["Cache-Control"] == "no-store"  # a 404
    token = {"Authorization": "Bearer t0ken", "Content-Type": "text/turtle"}
    put = client.put(
        "/store", query_string={"graph": graph}, data="<urn:x:a> <urn:x:b> <urn:x:c> .",
        headers=token,
    )
    assert put.status_code == 201 and put.headers["Cache-Control"] == "no-store"
    for response in (
        client.get("/store", **read),
        client.get("/sparql", query_string={"query": "ASK {}"}),  # the endpoint's shortcut
        client.get("/sparql", query_string={"query": "ASK {}", "default-graph-uri": graph}),
        client.get("/sparql", headers={"Accept": "text/turtle"}),  # the service description
    ):
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache"
