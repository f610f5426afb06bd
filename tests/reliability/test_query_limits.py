"""Queries that used to overflow Oxigraph's stack, sent to a real ``kg serve`` (issue 11, item 1).

Long flat repetition (``1+1+…``, ``&&``, ``UNION``, ``FILTER``, ``<p>|<p>|…``, many BINDs or
OPTIONALs) made the parser and evaluator recurse until the worker died with SIGSEGV. Each
payload must now get an answer or a 4xx, and afterwards the same worker processes must still
be there and answer a point lookup: no worker died, no crash loop stopped the server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.reliability.conftest import Figures, add, make_project
from tests.reliability.serving import AUTH, KgServer, _live_members, running_server

from graph.build.embedded import build
from graph.core.namespaces import CANONICAL_BASE
from graph.core.settings import BY_NAME

LIMIT = int(BY_NAME["max_query_bytes"].default)
ORG = CANONICAL_BASE + "id/organization/"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"
POINT_LOOKUP = "SELECT ?p ?o WHERE { ?s ?p ?o } LIMIT 3"


def chain(head: str, unit: str, sep: str, tail: str) -> Callable[[int], str]:
    """A query of ``n`` repetitions of ``unit`` joined by ``sep``."""
    return lambda n: head + sep.join([unit] * n) + tail


#: The payloads of issue 11 and their kin: name -> (text for n repetitions, n in the issue).
PAYLOADS: dict[str, tuple[Callable[[int], str], int]] = {
    "plus": (chain("ASK { FILTER(", "1", "+", " > 0) }"), 20_000),
    "and": (chain("ASK { FILTER(", "true", " && ", ") }"), 20_000),
    "or": (chain("ASK { FILTER(", "false", "||", ") }"), 20_000),
    "not": (chain("ASK { FILTER(", "!", "", "true) }"), 60_000),
    "union": (chain("SELECT * WHERE { ", "{}", " UNION ", " }"), 20_000),
    "filters": (chain("ASK { ", "FILTER(true)", " ", " }"), 20_000),
    "path": (chain("ASK { ?s ", "<p>", "|", " ?o }"), 20_000),
    "path_a": (chain("ASK { ?s ", "a", "|", " ?o }"), 20_000),
    "binds": (
        lambda n: "SELECT * WHERE { " + " ".join(f"BIND({i} AS ?v{i})" for i in range(n)) + " }",
        3_000,
    ),
    "optionals": (chain("SELECT * WHERE { ", "OPTIONAL { }", " ", " }"), 3_000),
    "literal": (lambda n: 'ASK { FILTER("' + "a" * n + '" != "") }', 60_000),
    "nesting": (lambda n: "ASK { FILTER(" + "(" * n + "1" + ")" * n + ") }", 20_000),
    "brace_nesting": (lambda n: "ASK " + "{" * n + "}" * n, 20_000),
}

#: Updates through the same parser (sent with the token to the writable server).
UPDATES: dict[str, tuple[Callable[[int], str], int]] = {
    "update_plus": (
        chain("INSERT { <urn:a> <urn:b> <urn:c> } WHERE { FILTER(", "1", "+", " > 1e9) }"),
        20_000,
    ),
    "update_union": (
        chain("DELETE { <urn:a> <urn:b> <urn:c> } WHERE { ", "{}", " UNION ", " }"),
        20_000,
    ),
    "update_ops": (chain("", "CLEAR SILENT GRAPH <urn:none>", " ; ", ""), 1_500),
}


def workers(server: KgServer) -> set[int]:
    """Process ids of the server's workers (its process group, less the master)."""
    return set(_live_members(server.process.pid)) - {server.process.pid}


def send(
    server: KgServer, text: str, media_type: str = QUERY, *, token: bool = False
) -> requests.Response:
    headers = {"Content-Type": media_type, **(AUTH if token else {})}
    return requests.post(server.url + "/sparql", data=text.encode(), headers=headers, timeout=120)


def assert_alive(server: KgServer, before: set[int], figures: Figures) -> None:
    """The server answers a point lookup, with the same workers as before (none died)."""
    add(figures, "stack_payload_worker_deaths", len(before - workers(server)))
    lookup = requests.get(server.url + "/sparql", params={"query": POINT_LOOKUP}, timeout=60)
    assert lookup.status_code == 200, lookup.text[:300]
    assert server.process.poll() is None, "the server exited"
    assert workers(server) == before, "a worker died and was replaced"


def judge(response: requests.Response, size: int, figures: Figures) -> None:
    """An answer for a query within the limit, a clear 400 naming the limit past it."""
    add(figures, "stack_payloads_tried", 1)
    if size > LIMIT:
        add(figures, "stack_payloads_refused", 1)
        assert response.status_code == 400, response.text[:300]
        assert "max_query_bytes" in response.text
    else:
        assert response.status_code in (200, 400), response.text[:300]
        if response.status_code == 400:  # a syntax error (e.g. <p> without a base IRI)
            assert "max_query_bytes" not in response.text


@pytest.fixture(scope="module", params=["read-only", "writable"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KgServer]:
    root = tmp_path_factory.mktemp("stack")
    project = make_project(root / "project")
    build(project, root / "store", CANONICAL_BASE)
    token = "" if request.param == "read-only" else AUTH["Authorization"].split()[1]
    # Generous time limit: a timeout would retire a worker and hide what this test looks for.
    with running_server(
        root / "store", project, root / "serve.log", token=token, query_timeout="60"
    ) as running:
        running.extra["mode"] = request.param
        yield running


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_issue_payloads_get_an_answer_or_a_400(
    server: KgServer, figures: Figures, name: str
) -> None:
    before = workers(server)
    make, count = PAYLOADS[name]
    for n in (count, count * 3, max(LIMIT // 8, 1)):
        text = make(n)
        judge(send(server, text), len(text.encode()), figures)
        assert_alive(server, before, figures)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(UPDATES))
def test_long_updates_get_an_answer_or_a_400(server: KgServer, figures: Figures, name: str) -> None:
    before = workers(server)
    make, count = UPDATES[name]
    for n in (count, count * 10):
        text = make(n)
        response = send(server, text, UPDATE, token=True)
        add(figures, "stack_payloads_tried", 1)
        size = len(text.encode())
        if server.extra["mode"] == "read-only":
            assert response.status_code == 403, response.text[:300]  # no writes at all
        elif size > LIMIT:
            assert response.status_code == 400 and "max_query_bytes" in response.text
        else:
            assert response.status_code == 204, response.text[:300]
        assert_alive(server, before, figures)


#: Shapes the property test combines: (unit, separator, head, tail). ``1+1+…`` takes time
#: quadratic in its length to parse (20,000 terms: 16 s), so it appears once.
SHAPES = [
    ("1", "+", "ASK { FILTER(", " > 0) }"),
    ("true", "&&", "ASK { FILTER(", ") }"),
    ("false", "||", "ASK { FILTER(", ") }"),
    ("!", "", "ASK { FILTER(", "true) }"),
    ("{}", " UNION ", "SELECT * { ", " }"),
    ("{}", " MINUS ", "SELECT * { ", " }"),
    ("FILTER(true)", " ", "ASK { ", " }"),
    ("OPTIONAL {}", " ", "SELECT * { ", " }"),
    ("a", "|", "ASK { ?s ", " ?o }"),
    ("<urn:p>", "|", "ASK { ?s ", " ?o }"),
    ("1", " ", "SELECT * { VALUES ?x { ", " } }"),
]


#: Generated chains per server mode.
EXAMPLES = 30
#: Sizes each payload is sent at (its count in the issue, 3x, about an eighth of the limit).
PAYLOAD_SIZES = 3
UPDATE_SIZES = 2


def planned_payloads() -> int:
    """How many requests one run sends, over both server modes."""
    return 2 * (len(PAYLOADS) * PAYLOAD_SIZES + len(UPDATES) * UPDATE_SIZES + EXAMPLES)


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    shape=st.sampled_from(SHAPES),
    # Up to twice the repetitions that fit in the limit, so about half are refused.
    fraction=st.floats(min_value=0.0, max_value=2.0),
)
def test_generated_chains_never_kill_a_worker(
    server: KgServer, figures: Figures, shape: tuple[str, str, str, str], fraction: float
) -> None:
    unit, sep, head, tail = shape
    n = max(1, int(fraction * LIMIT / (len(unit) + len(sep))))
    text = head + sep.join([unit] * n) + tail
    before = workers(server)
    judge(send(server, text), len(text.encode()), figures)
    assert_alive(server, before, figures)
