"""Every request to /sparql is answered by the one endpoint (graph.http.endpoint): each method,
each kind of answer and each refusal gets the CORS headers, the metrics and the access log, and
its errors are rendered as every other error of the application (graph.http.errors)."""

from __future__ import annotations

import json
import logging

import pytest
from flask import url_for

from graph.http.endpoint import ALLOW
from tests.http.test_endpoint import SELECT_LABELS, make_app

ORIGIN = "https://a.example"
BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"


def access_entries(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "kg.access"]


def test_flask_has_no_sparql_view_only_a_rule_to_build_its_url() -> None:
    app = make_app()
    [rule] = [rule for rule in app.url_map.iter_rules() if rule.rule == "/sparql"]
    assert rule.build_only and rule.endpoint not in app.view_functions
    with app.test_request_context("/"):
        assert url_for("sparql") == "/sparql"


def test_options_names_the_methods_without_cors_too() -> None:
    response = make_app(CORS_ORIGINS="").test_client().options("/sparql")
    assert response.status_code == 200
    assert response.headers["Allow"] == ALLOW == "GET, HEAD, OPTIONS, POST"
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize("query", [{"query": SELECT_LABELS}, {}])
def test_head_has_the_headers_of_the_get_and_no_body(query: dict[str, str]) -> None:
    client = make_app(RESULT_CACHE_MB=0).test_client()
    get = client.get("/sparql", query_string=query)
    head = client.head("/sparql", query_string=query)
    assert get.status_code == head.status_code == 200
    assert head.data == b"" and len(get.data) > 0
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    if query:  # (the description's blank node labels differ from one answer to the next)
        assert head.headers["Content-Length"] == str(len(get.data))
    else:
        assert int(head.headers["Content-Length"]) > 0


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_another_method_is_a_405_naming_the_allowed_ones(method: str) -> None:
    client = make_app().test_client()
    text = client.open("/sparql", method=method)
    assert text.status_code == 405 and text.headers["Allow"] == ALLOW
    assert text.mimetype == "text/plain" and method in text.get_data(as_text=True)
    page = client.open("/sparql", method=method, headers={"Accept": BROWSER})
    assert page.status_code == 405 and page.headers["Allow"] == ALLOW
    assert page.mimetype == "text/html" and "Method Not Allowed" in page.get_data(as_text=True)


def test_a_browser_gets_an_error_page_and_a_program_text_or_json() -> None:
    client = make_app().test_client()
    bad = {"query": "SELECT * WHERE {"}
    page = client.get("/sparql", query_string=bad, headers={"Accept": BROWSER})
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert "SPARQL syntax error" in page.get_data(as_text=True)
    assert "Accept" in page.headers["Vary"]
    text = client.get("/sparql", query_string=bad, headers={"Accept": "*/*"})
    assert text.status_code == 400 and text.mimetype == "text/plain"
    as_json = client.get("/sparql", query_string=bad, headers={"Accept": "application/json"})
    assert json.loads(as_json.data)["status"] == 400


def test_every_answer_and_refusal_carries_cors() -> None:
    client = make_app(CORS_ORIGINS=ORIGIN, WRITE_TOKEN="t").test_client()
    origin = {"Origin": ORIGIN}
    answers = [
        client.get("/sparql", query_string={"query": SELECT_LABELS}, headers=origin),
        client.get("/sparql", headers=origin),  # the service description
        client.get("/sparql", query_string={"query": "ASK {"}, headers=origin),  # 400
        client.get("/sparql", query_string={"update": "CLEAR ALL"}, headers=origin),  # 405
        client.post("/sparql", data={"update": "CLEAR ALL"}, headers=origin),  # 401
        client.put("/sparql", headers=origin),  # 405
    ]
    assert [a.status_code for a in answers] == [200, 200, 400, 405, 401, 405]
    for answer in answers:
        assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN, answer.status_code
        assert "Origin" in answer.headers["Vary"]
    assert answers[4].headers["WWW-Authenticate"] == 'Bearer realm="alliance-graph"'


def test_every_kind_of_request_is_counted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kg.access")
    token = {"Authorization": "Bearer t"}
    client = make_app(WRITE_TOKEN="t").test_client()
    update = "INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> } }"
    sent = [
        client.get("/sparql", query_string={"query": SELECT_LABELS}),
        client.post("/sparql", data={"update": update}, headers=token),
        client.get("/sparql"),
        client.get("/sparql", query_string={"query": "ASK {"}),
        client.get("/sparql", query_string="query=ASK{}&query=ASK{}"),
        client.options("/sparql"),
    ]
    entries = access_entries(caplog)
    assert [e["status"] for e in entries] == [r.status_code for r in sent]
    assert [e["status"] for e in entries] == [200, 204, 200, 400, 400, 200]
    assert [e["query_kind"] for e in entries] == ["query", "update", None, "query", None, None]
    assert [e["bytes"] for e in entries] == [len(r.data) for r in sent]
    assert entries[0]["cache"] == "miss" and all(e["path"] == "/sparql" for e in entries)
    assert all(isinstance(e["query_hash"], str) for e in entries[:2])
    metrics = client.get("/metrics").get_data(as_text=True)
    for status in (200, 204, 400):
        assert f'kg_requests_total{{route="/sparql",status="{status}"}}' in metrics
