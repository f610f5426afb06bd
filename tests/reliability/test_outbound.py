"""No outbound connection from a real ``kg serve``, whatever the query text (issue 11, item 2).

Three servers: read-only (granian) and writable (gunicorn) with the default empty allow-list,
where the workers run under the seccomp sandbox (graph.answering.sandbox) and the query text is not
even
read; and read-only with a non-empty allow-list, where the parse decides. Each gets the
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
from tests.listener import Listener
from tests.processes import free_port, wait_until_healthy
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
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "graph", "serve", "--store", str(store), "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=sink,
        )
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(url, process, log=log)
    yield Served(url, request.param)
    process.terminate()
    process.wait(timeout=30)


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
