"""The one renderer of errors (graph.http.errors): each domain error's status, its headers and
its body in the form the client asks for."""

from __future__ import annotations

import inspect
import json

import pytest
from flask import Flask

from graph.core import errors as domain
from graph.core.errors import (
    BadRequest,
    GraphError,
    MethodNotAllowed,
    TooManyQueries,
    Unauthorized,
)
from graph.http.app import create_app
from graph.http.errors import STATUSES, error_response, status_of
from graph.store import memory_store

BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"


@pytest.fixture
def app() -> Flask:
    return create_app({"TESTING": True, "STORE_HANDLE": memory_store([]), "WRITE_TOKEN": ""})


def domain_errors() -> list[type[GraphError]]:
    return [
        kind
        for _, kind in inspect.getmembers(domain, inspect.isclass)
        if issubclass(kind, GraphError) and kind is not GraphError
    ]


def test_every_domain_error_has_its_status_here_and_knows_nothing_of_http() -> None:
    """A new error type needs its line in STATUSES (else it would be a 500); one that carries
    a status of its own (as before issue 13) would be ignored, so none may."""
    kinds = domain_errors()
    assert len(kinds) >= 16
    for kind in kinds:
        assert kind in STATUSES, kind
        assert not hasattr(kind, "status") and not hasattr(kind, "title"), kind


def test_a_subclass_takes_its_nearest_ancestors_status_and_an_unknown_error_is_a_500() -> None:
    class Subtle(BadRequest):
        pass

    assert status_of(Subtle("x")) == (400, "Bad Request")
    assert status_of(GraphError("x")) == (500, "Internal Server Error")


@pytest.mark.parametrize(
    ("error", "header", "value"),
    [
        (MethodNotAllowed("only POST", allowed=("POST", "OPTIONS")), "Allow", "POST, OPTIONS"),
        (TooManyQueries("later", retry_after=1.5), "Retry-After", "2"),
        (Unauthorized("no token"), "WWW-Authenticate", 'Bearer realm="alliance-graph"'),
    ],
)
def test_the_headers_an_error_calls_for_come_with_every_body(
    app: Flask, error: GraphError, header: str, value: str
) -> None:
    status, title = status_of(error)
    text = error_response(error, "*/*")
    assert text.status_code == status and text.headers[header] == value
    assert text.get_data(as_text=True) == f"{status} {title}: {error.detail}\n"
    as_json = error_response(error, "application/json")
    assert as_json.headers[header] == value
    assert json.loads(as_json.data) == {"status": status, "error": title, "message": error.detail}
    with app.test_request_context("/", headers={"Accept": BROWSER}):
        page = error_response(error)
    assert page.mimetype == "text/html" and page.headers[header] == value
    assert error.detail in page.get_data(as_text=True)


def test_a_browser_gets_a_page_only_inside_a_request_context() -> None:
    """Outside one (a watchdog thread, a middleware without the app) the page cannot link the
    site: text instead, never a crash."""
    response = error_response(BadRequest("bad"), BROWSER)
    assert response.status_code == 400 and response.mimetype == "text/plain"


def test_werkzeugs_own_errors_go_through_the_same_renderer(app: Flask) -> None:
    client = app.test_client()
    text = client.get("/no/such/page", headers={"Accept": "*/*"})
    assert text.status_code == 404 and text.mimetype == "text/plain"
    assert text.get_data(as_text=True).startswith("404 Not Found: ")
    as_json = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert json.loads(as_json.data)["error"] == "Not Found"
    page = client.get("/no/such/page", headers={"Accept": BROWSER})
    assert page.status_code == 404 and page.mimetype == "text/html"
    wrong = client.delete("/health", headers={"Accept": "application/json"})
    assert wrong.status_code == 405 and json.loads(wrong.data)["error"] == "Method Not Allowed"
    assert set(wrong.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
