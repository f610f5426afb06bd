"""No outbound connection from a real ``kg serve``, whatever the query text (issue 11, item 2).

Three servers: read-only (granian) and writable (gunicorn) with the default empty allow-list,
where the workers run under the seccomp sandbox (graph.answering.sandbox) and the query text is
not even read; and read-only with a non-empty allow-list, where the engine's own plan decides
(graph.answering.engine_plan). Two more (granian and gunicorn) allow one listener that answers
as a SPARQL endpoint, next to a second one that must receive nothing. Each gets the
reported bypasses and generated variants aimed at a listener on 127.0.0.1 that must receive
nothing, on every route that evaluates visitor SPARQL; the answers must not depend on what
listens at the target (no port-scanner oracle).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.listener import ANSWERED, Listener, SparqlListener
from tests.processes import free_port, kg_serve
from tests.service_payloads import Payload, reported, reported_updates, variants

pytestmark = [pytest.mark.server, pytest.mark.slow]

TOKEN = "outbound-t0ken"
ROUTES = ("/sparql", "/explore/elements.json", "/export/nquads")


@dataclass(frozen=True)
class Served:
    url: str
    mode: str

    @property
    def sandboxed(self) -> bool:
        return self.mode != "allow-list"

    def send(self, payload: Payload, route: str = "/sparql") -> requests.Response:
        if payload.update:
            auth = {"Authorization": f"Bearer {TOKEN}"}
            return requests.post(
                self.url + "/sparql", data={"update": payload.text}, headers=auth, timeout=60
            )
        if "CONSTRUCT" not in payload.text.split("{")[0] and "CONSTRUCT {" not in payload.text:
            route = "/sparql"  # the explorer and exports take CONSTRUCT only
        return requests.get(self.url + route, params={"query": payload.text}, timeout=60)


MODES = {
    "read-only": {"KG_HTTP_SERVER": "granian"},
    "writable": {"KG_WRITE_TOKEN": TOKEN},
    "allow-list": {"KG_SERVICE_ALLOWLIST": "http://allowed.example/sparql"},
}


@pytest.fixture(scope="module", params=list(MODES))
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    from tests.conftest import MINI

    from graph.build.embedded import build
    from graph.core.namespaces import CANONICAL_BASE

    store = tmp_path_factory.mktemp("outbound") / "store"
    build(MINI, store, CANONICAL_BASE)
    port = free_port()
    env = {
        **os.environ,
        "KG_PROJECT_DIR": str(MINI),
        "KG_WORKERS": "1",
        "KG_QUERY_TIMEOUT": "5",
        "KG_RESULT_CACHE_MB": "0",
        **MODES[request.param],
    }
    log = tmp_path_factory.mktemp("outbound-log") / "serve.log"
    with kg_serve(["--store", str(store)], port, env, log) as url:
        yield Served(url, request.param)


def _expected(server: Served) -> int:
    # Sandboxed, the engine tries and fails (400); with an allow-list the check refuses (403).
    return 400 if server.sandboxed else 403


def test_reported_bypasses_reach_nothing(server: Served) -> None:
    listener = Listener()
    try:
        for payload in reported(listener.url):
            for route in ROUTES:
                response = server.send(payload, route)
                assert response.status_code == _expected(server), (payload, response.text)
        if server.mode == "writable":
            for payload in reported_updates(listener.url):
                assert server.send(payload).status_code == 400, payload
    finally:
        listener.sock.close()
    assert listener.connections == 0


def test_answers_do_not_depend_on_what_listens_at_the_target(server: Served) -> None:
    """An open port (answering 500) and a closed one get the same status and text."""
    listener, closed = Listener(), Listener()
    closed.sock.close()
    try:
        for open_payload, closed_payload in zip(
            reported(listener.url), reported(closed.url), strict=True
        ):
            first = server.send(open_payload)
            second = server.send(closed_payload)
            assert first.status_code == second.status_code
            assert first.text.replace(listener.url, "URL") == second.text.replace(closed.url, "URL")
    finally:
        listener.sock.close()
    assert listener.connections == 0


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_variants_reach_nothing(server: Served, data: st.DataObject) -> None:
    listener = Listener()
    try:
        payload = data.draw(variants(listener.url))
        response = server.send(payload, data.draw(st.sampled_from(ROUTES)))
    finally:
        listener.sock.close()
    assert listener.connections == 0, payload
    if server.sandboxed:
        # 200 where the engine never needed the SERVICE (SILENT, or nothing to join with).
        assert response.status_code in (200, 400), (payload, response.text)
    else:
        assert response.status_code == 403, (payload, response.text)


def test_the_sandbox_leaves_serving_and_metrics_alone(server: Served) -> None:
    for path in ("/health", "/metrics", "/sparql?query=ASK%7B%7D"):
        assert requests.get(server.url + path, timeout=30).status_code == 200, path


@dataclass(frozen=True)
class Allowing:
    """A server whose allow-list names ``allowed`` (a working SPARQL endpoint) only; anything
    sent to ``forbidden`` is a connection the allow-list does not allow."""

    served: Served
    allowed: SparqlListener
    forbidden: Listener
    store: str
    writable: bool


@pytest.fixture(scope="module", params=["granian", "gunicorn"])
def allowing(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Allowing]:
    """Served with a non-empty allow-list: no sandbox, the engine's plan decides."""
    from tests.conftest import MINI

    from graph.build.embedded import build
    from graph.core.namespaces import CANONICAL_BASE

    allowed, forbidden = SparqlListener(), Listener()
    store = tmp_path_factory.mktemp("allowing") / "store"
    build(MINI, store, CANONICAL_BASE)
    port = free_port()
    mode = (
        {"KG_HTTP_SERVER": "granian"} if request.param == "granian" else {"KG_WRITE_TOKEN": TOKEN}
    )
    env = {
        **os.environ,
        "KG_PROJECT_DIR": str(MINI),
        "KG_WORKERS": "1",
        "KG_QUERY_TIMEOUT": "10",
        "KG_RESULT_CACHE_MB": "0",
        "KG_SERVICE_ALLOWLIST": allowed.url,
        **mode,
    }
    writable = request.param == "gunicorn"
    log = tmp_path_factory.mktemp("allowing-log") / "serve.log"
    with kg_serve(["--store", str(store)], port, env, log) as url:
        yield Allowing(Served(url, "allow-list"), allowed, forbidden, str(store), writable)
    allowed.sock.close()
    forbidden.sock.close()


def _through_forbidden_port(allowed: str, forbidden: str) -> list[str]:
    """Queries from issue 11 that name the forbidden listener in ways a lexical or second
    reading got wrong: user-info on the allowed host, escapes, hidden and nested SERVICEs."""
    port = forbidden.rsplit(":", 1)[1].rstrip("/")
    escaped = forbidden.replace("h", "\\u0068", 1).replace("1", "\\u0031", 1)
    return [
        f"SELECT * {{ SERVICE <{allowed.rstrip('/')}@127.0.0.1:{port}/> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ SERVICE <http://allowed@127.0.0.1:{port}/> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ SERVICE <{escaped}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ # <{allowed}>\r SERVICE <{forbidden}> {{ ?s ?p ?o }} }}",
        f"PREFIX ex: <http://e/> SELECT * {{ BIND(ex:a\\# AS ?h) SERVICE <{forbidden}> {{}} }}",
        f"PREFIX ex: <http://e/> SELECT * {{ BIND(ex:a\\' AS ?h) SERVICE <{forbidden}> {{}} }}",
        f"PREFIX f: <{forbidden}> SELECT * {{ SERVICE f:x\\.y {{}} }}",
        f"SELECT * {{ SERVICE <{allowed}> {{}} FILTER EXISTS {{ SERVICE <{forbidden}> {{}} }} }}",
        f"SELECT * {{ SERVICE <{allowed}> {{ ?s ?p ?o }}"
        f" OPTIONAL {{ SERVICE SILENT <{forbidden}> {{ ?s ?p ?o }} }} }}",
        f"SELECT * {{ {{ SELECT * {{ SERVICE <{forbidden}> {{ ?s ?p ?o }} }} }} }}",
        f"SELECT (EXISTS {{ SERVICE <{forbidden}> {{}} }} AS ?x) {{}}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{allowed}> {{ ?s ?p ?o }}"
        f" MINUS {{ SERVICE <{forbidden}> {{ ?s ?p ?o }} }} }}",
    ]


def test_allowed_service_is_answered_and_nothing_else_reached(allowing: Allowing) -> None:
    """The allow-listed endpoint really answers, on every route; the other listener receives
    nothing from the issue's payloads, and a query that names both reaches neither."""
    served, allowed = allowing.served, allowing.allowed.url
    before = allowing.allowed.connections
    select = f"SELECT * {{ SERVICE <{allowed}sparql> {{ ?s ?p ?o }} }}"
    answer = requests.get(served.url + "/sparql", params={"query": select}, timeout=60)
    assert answer.status_code == 200 and ANSWERED in answer.text, answer.text
    construct = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{allowed}> {{ ?s ?p ?o }} }}"
    for route in ("/explore/elements.json", "/export/nquads"):
        answer = requests.get(served.url + route, params={"query": construct}, timeout=60)
        assert answer.status_code == 200 and ANSWERED in answer.text, (route, answer.text)
    assert allowing.allowed.connections == before + 3
    for query in _through_forbidden_port(allowed, allowing.forbidden.url):
        for route in ROUTES:
            response = served.send(Payload(query), route)
            assert response.status_code == 403, (query, response.text)
    assert allowing.forbidden.connections == 0
    assert allowing.allowed.connections == before + 3  # refused before any evaluation


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_variants_reach_only_the_allowed_endpoint(
    allowing: Allowing, data: st.DataObject
) -> None:
    """The hidden, escaped, re-cased and nested SERVICEs of tests/service_payloads.py: aimed
    at the forbidden listener, refused; aimed at the allowed one, answered (a variable
    endpoint is refused either way)."""
    route = data.draw(st.sampled_from(ROUTES))
    bad = data.draw(variants(allowing.forbidden.url))
    assert allowing.served.send(bad, route).status_code == 403, bad
    assert allowing.forbidden.connections == 0, bad
    good = data.draw(variants(allowing.allowed.url))
    response = allowing.served.send(good, route)
    expected = 403 if "?endpoint" in good.text else 200
    assert response.status_code == expected, (good, response.text)


def test_updates_reach_nothing_with_an_allow_list(allowing: Allowing) -> None:
    """Oxigraph has no plan of an update: one that could hold SERVICE or LOAD is refused (403)
    even towards the allowed endpoint (the read-only server refuses every update, also 403)."""
    allowed, forbidden = allowing.allowed.url, allowing.forbidden.url
    before = allowing.allowed.connections
    for update in (
        f"LOAD <{allowed}data.ttl>",
        f"LOAD <{forbidden}data.ttl>",
        f"# x\r LOAD <{forbidden}data.ttl>",
        f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{allowed}> {{ ?s ?p ?o }} }}",
        f"INSERT {{ ?s ?p ?o }} WHERE {{ S\\u0045RVICE <{forbidden}> {{ ?s ?p ?o }} }}",
    ):
        assert allowing.served.send(Payload(update, update=True)).status_code == 403, update
    if allowing.writable:  # an update that cannot hold either is applied
        applied = 'INSERT DATA { GRAPH <http://e/g> { <http://e/a> <http://e/b> "x" } }'
        assert allowing.served.send(Payload(applied, update=True)).status_code == 204
    assert allowing.forbidden.connections == 0
    assert allowing.allowed.connections == before


def test_kg_query_reaches_only_the_allowed_endpoint(allowing: Allowing) -> None:
    """``kg query`` against a store path checks KG_SERVICE_ALLOWLIST itself (the engine's
    plan, as the server does); against the served store, the server decides."""
    allowed, forbidden = allowing.allowed.url, allowing.forbidden.url
    env = {**os.environ, "KG_SERVICE_ALLOWLIST": allowed}
    for store in (allowing.store, allowing.served.url + "/sparql"):
        ok = subprocess.run(
            [
                sys.executable,
                "-m",
                "graph",
                "query",
                "--format",
                "csv",
                "--store",
                store,
                f"SELECT ?o {{ SERVICE <{allowed}> {{ ?s ?p ?o }} }}",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert ok.returncode == 0 and ANSWERED in ok.stdout, (store, ok.stdout, ok.stderr)
        for query in _through_forbidden_port(allowed, forbidden)[:7]:
            refused = subprocess.run(
                [sys.executable, "-m", "graph", "query", "--store", store, query],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert refused.returncode != 0, (store, query, refused.stdout)
    assert allowing.forbidden.connections == 0
