"""The SPARQL 1.1 Protocol at /sparql over a small in-memory graph, with the Flask client."""

from __future__ import annotations

import io
import json
import threading
import urllib.parse
from typing import Any
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient

from graph.answering import deadline
from graph.http.app import create_app
from graph.store import RdfFormat, memory_store, parse_bytes

BASE = "https://w3id.org/alliance-graph/"
G1, G2 = BASE + "graph/one", BASE + "graph/two"
ONE = b"""
<https://w3id.org/alliance-graph/id/organization/weprotect>
    <http://www.w3.org/2000/01/rdf-schema#label> "WePROTECT Global Alliance"@en .
<https://w3id.org/alliance-graph/id/organization/weprotect>
    <https://w3id.org/alliance-graph/ontology#member>
    <https://w3id.org/alliance-graph/id/country/honduras> .
"""
TWO = b"""
<https://w3id.org/alliance-graph/id/country/honduras>
    <http://www.w3.org/2000/01/rdf-schema#label> "Honduras"@en .
"""
SELECT_LABELS = "SELECT ?label WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
CONSTRUCT_ALL = "CONSTRUCT WHERE { ?s ?p ?o }"
TOKEN = "s3cret"


def make_app(**config: object) -> Flask:
    quads = parse_bytes(ONE, RdfFormat.TURTLE, G1, BASE) + parse_bytes(
        TWO, RdfFormat.TURTLE, G2, BASE
    )
    settings = {"TESTING": True, "STORE_HANDLE": memory_store(quads), "WRITE_TOKEN": ""}
    settings.update(config)
    return create_app(settings)


@pytest.fixture
def sparql() -> FlaskClient:
    return make_app().test_client()


def labels(body: bytes) -> set[str]:
    return {row["label"]["value"] for row in json.loads(body)["results"]["bindings"]}


def test_query_by_get_answers_json_over_the_union_of_named_graphs(sparql: FlaskClient) -> None:
    response = sparql.get("/sparql", query_string={"query": SELECT_LABELS})
    assert response.status_code == 200
    assert response.mimetype == "application/sparql-results+json"
    assert labels(response.data) == {"WePROTECT Global Alliance", "Honduras"}


def test_query_by_post_form_and_post_direct_give_the_same_answer(sparql: FlaskClient) -> None:
    form = sparql.post("/sparql", data={"query": SELECT_LABELS})
    direct = sparql.post(
        "/sparql", data=SELECT_LABELS, content_type="application/sparql-query; charset=utf-8"
    )
    assert form.status_code == direct.status_code == 200
    assert labels(form.data) == labels(direct.data) == {"WePROTECT Global Alliance", "Honduras"}


def test_default_graph_uri_and_named_graph_uri_set_the_dataset(sparql: FlaskClient) -> None:
    only_two = sparql.get("/sparql", query_string={"query": SELECT_LABELS, "default-graph-uri": G2})
    assert labels(only_two.data) == {"Honduras"}
    named = sparql.post(
        "/sparql?named-graph-uri=" + G1,
        data="SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
        content_type="application/sparql-query",
    )
    graphs = {row["g"]["value"] for row in json.loads(named.data)["results"]["bindings"]}
    assert graphs == {G1}
    unknown = sparql.get(
        "/sparql", query_string={"query": SELECT_LABELS, "default-graph-uri": BASE + "graph/x"}
    )
    assert unknown.status_code == 200 and labels(unknown.data) == set()


@pytest.mark.parametrize(
    ("accept", "media_type", "marker"),
    [
        ("application/sparql-results+xml", "application/sparql-results+xml", b"<sparql"),
        ("text/csv", "text/csv", b"label\r\n"),
        ("text/tab-separated-values", "text/tab-separated-values", b"?label\n"),
        ("application/json", "application/sparql-results+json", b'"bindings"'),
    ],
)
def test_select_results_in_every_format(
    sparql: FlaskClient, accept: str, media_type: str, marker: bytes
) -> None:
    response = sparql.get(
        "/sparql", query_string={"query": SELECT_LABELS}, headers={"Accept": accept}
    )
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert marker in response.data and b"Honduras" in response.data


@pytest.mark.parametrize(
    ("accept", "rdf_format"),
    [
        ("text/turtle", RdfFormat.TURTLE),
        ("application/n-triples", RdfFormat.N_TRIPLES),
        ("application/n-quads", RdfFormat.N_QUADS),
        ("application/trig", RdfFormat.TRIG),
        ("application/rdf+xml", RdfFormat.RDF_XML),
        ("application/ld+json", RdfFormat.JSON_LD),
    ],
)
def test_construct_results_in_every_rdf_format(
    sparql: FlaskClient, accept: str, rdf_format: RdfFormat
) -> None:
    response = sparql.get(
        "/sparql", query_string={"query": CONSTRUCT_ALL}, headers={"Accept": accept}
    )
    assert response.status_code == 200
    assert response.mimetype == accept
    assert len(parse_bytes(response.data, rdf_format, None, BASE)) == 3


#: Values XML 1.0 cannot hold (a query makes them) and predicates RDF/XML cannot write.
NOT_XML = {
    "NUL": 'SELECT ?x WHERE { BIND("a\\u0000b" AS ?x) }',
    "ESC": 'SELECT ?x WHERE { BIND(CONCAT("a", "\\u001B") AS ?x) }',
    "U+FFFE": 'SELECT ?x WHERE { BIND("a\\uFFFEb" AS ?x) }',
    "NUL in RDF/XML": 'CONSTRUCT { <urn:s> <urn:p> "a\\u0000" } WHERE {}',
    "predicate ending in /": "CONSTRUCT { <urn:s> <http://e.org/> <urn:o> } WHERE {}",
    "predicate ending in a digit": "CONSTRUCT { <urn:s> <http://e.org/1> <urn:o> } WHERE {}",
    "predicate ending in #": "CONSTRUCT { <urn:s> <urn:x#> <urn:o> } WHERE {}",
}


@pytest.mark.parametrize("query", NOT_XML.values(), ids=NOT_XML.keys())
def test_xml_answers_are_well_formed_or_refused_with_406(sparql: FlaskClient, query: str) -> None:
    """Oxigraph's XML writers wrote these raw: a 200 whose XML does not parse (h11o). The
    other formats still answer."""
    xml, other = (
        ("application/rdf+xml", "text/turtle")
        if query.startswith("CONSTRUCT")
        else ("application/sparql-results+xml", "application/sparql-results+json")
    )
    refused = sparql.get("/sparql", query_string={"query": query}, headers={"Accept": xml})
    assert refused.status_code == 406, refused.data
    assert b"XML" in refused.data and b"ask for" in refused.data
    answered = sparql.get("/sparql", query_string={"query": query}, headers={"Accept": other})
    assert answered.status_code == 200


def test_xml_answers_of_ordinary_values_still_parse(sparql: FlaskClient) -> None:
    query = 'CONSTRUCT { <urn:s> <http://e.org/p-1> "tab\\tline\\né" } WHERE {}'
    for accept in ("application/rdf+xml", "application/sparql-results+xml"):
        text = query if accept == "application/rdf+xml" else SELECT_LABELS
        response = sparql.get("/sparql", query_string={"query": text}, headers={"Accept": accept})
        assert response.status_code == 200
        ElementTree.fromstring(response.data)


def test_format_parameter_wins_and_unknown_formats_get_406(sparql: FlaskClient) -> None:
    csv = sparql.get("/sparql", query_string={"query": SELECT_LABELS, "format": "csv"})
    assert csv.mimetype == "text/csv"
    refused = sparql.get(
        "/sparql", query_string={"query": SELECT_LABELS}, headers={"Accept": "image/png"}
    )
    assert refused.status_code == 406
    assert b"image/png" in refused.data
    wrong_kind = sparql.get("/sparql", query_string={"query": CONSTRUCT_ALL, "format": "csv"})
    assert wrong_kind.status_code == 406


def test_ask_answers_a_boolean(sparql: FlaskClient) -> None:
    response = sparql.get("/sparql", query_string={"query": "ASK { ?s ?p 'nothing' }"})
    assert json.loads(response.data)["boolean"] is False


@pytest.mark.parametrize(
    ("request_args", "status", "message"),
    [
        ({"method": "GET", "query_string": "query=ASK{}&query=ASK{}"}, 400, b"more than once"),
        ({"method": "POST", "data": {"query": "ASK{}", "update": "CLEAR ALL"}}, 400, b"not both"),
        ({"method": "POST", "data": {"other": "1"}}, 400, b"neither"),
        ({"method": "GET", "query_string": {"update": "CLEAR ALL"}}, 405, b"POST"),
        ({"method": "POST", "data": "ASK{}", "content_type": "text/plain"}, 415, b"text/plain"),
        (
            {"method": "GET", "query_string": {"query": "SELECT * WHERE {\n ?s ?p }"}},
            400,
            b"line 2, column",
        ),
        (
            {"method": "GET", "query_string": {"default-graph-uri": G1}},
            400,
            b"without a 'query'",
        ),
        (
            {
                "method": "POST",
                "data": "ASK{}",
                "content_type": "application/sparql-query",
                "query_string": {"query": "ASK{}"},
            },
            400,
            b"cannot be combined",
        ),
        ({"method": "PUT", "data": "x"}, 405, b""),
        # Percent-encoded bytes that are not UTF-8 (here latin-1's "é"), in the URL alone, with
        # a dataset, or in a form whatever charset it declares: refused, never run as U+FFFD or
        # as the text "%E9" (brief h12o, item 5).
        (
            {"method": "GET", "query_string": "query=ASK%7B%3Fs+%3Fp+%22caf%E9%22%7D"},
            400,
            b"the 'query' parameter is not UTF-8",
        ),
        (
            {
                "method": "GET",
                "query_string": "query=ASK%7B%3Fs+%3Fp+%22caf%E9%22%7D&default-graph-uri=urn:x:g",
            },
            400,
            b"the 'query' parameter is not UTF-8",
        ),
        (
            {
                "method": "POST",
                "data": b"query=ASK%7B%3Fs+%3Fp+%22caf%E9%22%7D",
                "content_type": "application/x-www-form-urlencoded; charset=ISO-8859-1",
            },
            400,
            b"the 'query' parameter is not UTF-8",
        ),
        (
            {"method": "GET", "query_string": "query=ASK%7B%7D&default-graph-uri=urn:x:%FF"},
            400,
            b"the 'default-graph-uri' parameter is not UTF-8",
        ),
    ],
)
def test_protocol_errors_have_the_right_status_and_say_what_is_wrong(
    sparql: FlaskClient, request_args: dict[str, object], status: int, message: bytes
) -> None:
    response = sparql.open("/sparql", **request_args)  # type: ignore[arg-type]
    assert response.status_code == status, response.data
    assert message in response.data


def test_update_over_get_names_post_in_allow() -> None:
    response = make_app().test_client().get("/sparql", query_string={"update": "CLEAR ALL"})
    assert response.headers["Allow"] == "POST"


def test_updates_need_writes_switched_on_and_the_token() -> None:
    update = f"INSERT DATA {{ GRAPH <{G1}> {{ <urn:a> <urn:b> <urn:c> }} }}"
    off = make_app().test_client().post("/sparql", data={"update": update})
    assert off.status_code == 403
    client = make_app(WRITE_TOKEN=TOKEN).test_client()
    assert client.post("/sparql", data={"update": update}).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert client.post("/sparql", data={"update": update}, headers=wrong).status_code == 401
    good = {"Authorization": f"Bearer {TOKEN}"}
    ask = "ASK { <urn:a> <urn:b> <urn:c> }"
    assert json.loads(client.get("/sparql", query_string={"query": ask}).data)["boolean"] is False
    direct = client.post(
        "/sparql", data=update, content_type="application/sparql-update", headers=good
    )
    assert direct.status_code == 204
    # The answer cached before the write must not survive it.
    assert json.loads(client.get("/sparql", query_string={"query": ask}).data)["boolean"] is True
    broken = client.post("/sparql", data={"update": "INSERT DATA {"}, headers=good)
    assert broken.status_code == 400 and b"line 1, column" in broken.data


def test_result_size_limit_is_an_error_not_a_truncation() -> None:
    client = make_app(MAX_RESULTS=2).test_client()
    over = client.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o }"})
    assert over.status_code == 413
    assert b"max_results" in over.data
    triples = client.get("/sparql", query_string={"query": CONSTRUCT_ALL})
    assert triples.status_code == 413
    within = client.get("/sparql", query_string={"query": SELECT_LABELS})
    assert within.status_code == 200


@pytest.mark.parametrize("parameter", ["default-graph-uri", "named-graph-uri"])
def test_dataset_iris_count_against_the_query_size_limit(parameter: str) -> None:
    """A dataset IRI costs the engine about 8 KiB: 100,000 of them (a 2.9 MB form) grew a
    served worker by 793 MiB, stopped only by the memory budget, which retires the worker
    (h11o). They count with the query against ``max_query_bytes``, like FROM clauses."""
    client = make_app(MAX_QUERY_BYTES=1000).test_client()
    graphs = [f"{BASE}graph/g{n}" for n in range(30)]  # 30 x ~40 bytes: over 1000
    form = {"query": SELECT_LABELS, parameter: graphs}
    over = client.post("/sparql", data=form)
    assert over.status_code == 400
    assert b"30 dataset IRIs" in over.data and b"max_query_bytes" in over.data
    within = client.post("/sparql", data={"query": SELECT_LABELS, parameter: [G1, G2]})
    assert within.status_code == 200 and labels(within.data)


def test_update_dataset_iris_count_against_the_query_size_limit() -> None:
    client = make_app(MAX_QUERY_BYTES=1000, WRITE_TOKEN=TOKEN).test_client()
    update = "DELETE { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(false) }"
    graphs = [f"{BASE}graph/g{n}" for n in range(30)]
    response = client.post(
        "/sparql",
        data={"update": update, "using-graph-uri": graphs},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 400 and b"max_query_bytes" in response.data


def test_request_body_limit_gives_413() -> None:
    client = make_app(MAX_BODY=100).test_client()
    response = client.post(
        "/sparql", data="ASK {}" + " " * 200, content_type="application/sparql-query"
    )
    assert response.status_code == 413


def test_result_cache_answers_repeats_and_can_be_switched_off() -> None:
    client = make_app().test_client()
    first = client.get("/sparql", query_string={"query": SELECT_LABELS})
    second = client.get("/sparql", query_string={"query": SELECT_LABELS})
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert first.data == second.data
    uncached = make_app(RESULT_CACHE_MB=0).test_client()
    uncached.get("/sparql", query_string={"query": SELECT_LABELS})
    again = uncached.get("/sparql", query_string={"query": SELECT_LABELS})
    assert again.headers["X-Cache"] == "miss"


def test_cors_headers_and_preflight() -> None:
    client = make_app(CORS_ORIGINS="https://a.example").test_client()
    preflight = client.options(
        "/sparql",
        headers={"Origin": "https://a.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://a.example"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    other = client.get("/sparql?query=ASK{}", headers={"Origin": "https://b.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    # Each answer says Vary: Origin where origins are listed, or a shared cache would hand the
    # one without Allow-Origin (to b, or to no Origin) to a.example too (brief h12o, item 2).
    for path in ("/sparql?query=ASK{}", "/sparql", "/id/nothing", "/reconcile"):
        for headers in ({}, {"Origin": "https://b.example"}, {"Origin": "https://a.example"}):
            assert "Origin" in client.get(path, headers=headers).vary, (path, headers)
    # With "*", every answer says so, with an Origin or without: a shared cache keeps one
    # answer for both (brief h12o, item 2).
    anyone = make_app(CORS_ORIGINS="*").test_client()
    for path in ("/sparql?query=ASK{}", "/sparql", "/id/nothing", "/reconcile"):
        for headers in ({}, {"Origin": "https://b.example"}):
            answer = anyone.get(path, headers=headers)
            assert answer.headers["Access-Control-Allow-Origin"] == "*", (path, headers)
            assert "Origin" not in answer.vary
    off = make_app(CORS_ORIGINS="").test_client()
    assert (
        "Access-Control-Allow-Origin"
        not in off.get("/sparql?query=ASK{}", headers={"Origin": "https://a.example"}).headers
    )


def test_health_and_metrics(sparql: FlaskClient) -> None:
    assert sparql.get("/health").status_code == 200
    sparql.get("/sparql", query_string={"query": SELECT_LABELS})
    metrics = sparql.get("/metrics").data.decode()
    assert 'kg_requests_total{route="/sparql",status="200"}' in metrics
    empty = create_app({"TESTING": True, "STORE_HANDLE": memory_store()}).test_client()
    assert empty.get("/health").status_code == 503


def test_fast_path_answers_outside_any_flask_context() -> None:
    """Regression: the /sparql fast path runs without an app context; a deadline lookup that
    read flask.current_app answered every plain GET query with 500 after the perf merge."""
    app = create_app({"TESTING": True, "STORE_HANDLE": memory_store(), "WRITE_TOKEN": ""})
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/sparql",
        "QUERY_STRING": "query=ASK%7B%7D",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "5000",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "HTTP_ACCEPT": "application/sparql-results+json",
    }
    statuses: list[str] = []
    body = b"".join(app.wsgi_app(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["200 OK"]
    assert json.loads(body)["boolean"] is True


@pytest.mark.parametrize("name", ["default-graph-uri", "named-graph-uri"])
@pytest.mark.parametrize("value", ["", "not an iri", "relative/path", "http://a b/"])
def test_a_dataset_parameter_that_is_not_an_iri_is_a_400_naming_it(
    sparql: FlaskClient, name: str, value: str
) -> None:
    """Issue 11, item 9: it was a 500 (the engine refused the IRI after the checks)."""
    for response in (
        sparql.get("/sparql", query_string={"query": SELECT_LABELS, name: value}),
        sparql.post("/sparql", data={"query": SELECT_LABELS, name: value}),
        sparql.post(
            "/sparql",
            query_string={name: value},
            data=SELECT_LABELS,
            content_type="application/sparql-query",
        ),
    ):
        assert response.status_code == 400, response.data
        assert name in response.get_data(as_text=True)


@pytest.mark.parametrize("name", ["using-graph-uri", "using-named-graph-uri"])
def test_an_update_dataset_parameter_that_is_not_an_iri_is_a_400(name: str) -> None:
    client = make_app(WRITE_TOKEN=TOKEN).test_client()
    response = client.post(
        "/sparql",
        data={"update": "INSERT DATA { <http://e.org/a> <http://e.org/p> 1 }", name: ""},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 400
    assert name in response.get_data(as_text=True)


def test_the_project_prefixes_are_declared_for_queries() -> None:
    """Issue 14: as on Wikidata's service, ag:, skos: ... need no PREFIX line; a query's own
    declaration of a prefix wins over the project's."""
    client = make_app().test_client()
    ask = "ASK { FILTER(ag:Alliance = <https://w3id.org/alliance-graph/ontology#Alliance>) }"
    for response in (
        client.get("/sparql", query_string={"query": ask}),
        client.post("/sparql", data=ask, content_type="application/sparql-query"),
        client.post("/sparql", data={"query": ask}),
    ):
        assert response.status_code == 200, response.data
        assert json.loads(response.data)["boolean"] is True
    own = (
        "PREFIX ag: <http://example.org/>"
        " ASK { FILTER(ag:Alliance = <http://example.org/Alliance>) }"
    )
    assert json.loads(client.get("/sparql", query_string={"query": own}).data)["boolean"] is True


def test_a_syntax_error_names_its_cause_and_place_in_text_and_json() -> None:
    client = make_app().test_client()
    query = "SELECT * WHERE {\n  ?s ?p\n}"
    text = client.get("/sparql", query_string={"query": query})
    assert text.status_code == 400 and text.mimetype == "text/plain"
    assert text.data.decode() == (
        "400 Bad Request: SPARQL syntax error at line 3, column 1:"
        " a triple pattern needs an object after ?p\n"
    )
    as_json = client.post(
        "/sparql", data={"query": "ASK { ?s ex:p ?o }"}, headers={"Accept": "application/json"}
    )
    assert as_json.status_code == 400 and as_json.mimetype == "application/json"
    assert json.loads(as_json.data) == {
        "status": 400,
        "error": "Bad Request",
        "message": "SPARQL syntax error at line 1, column 10: prefix ex: is not declared",
        "line": 1,
        "column": 10,
    }


def test_an_update_syntax_error_has_its_place_in_json_too() -> None:
    client = make_app(WRITE_TOKEN="t").test_client()
    response = client.post(
        "/sparql",
        data={"update": "INSERT DATA {\n  <urn:a> <urn:b> }"},
        headers={"Authorization": "Bearer t", "Accept": "application/json"},
    )
    assert response.status_code == 400
    body = json.loads(response.data)
    assert (body["line"], body["column"]) == (2, 19)
    assert "a triple pattern needs an object after <urn:b>" in body["message"]


def test_a_runaway_is_answered_with_a_503_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The query runs on a helper thread (graph.answering.deadline.with_deadline): at the time
    limit the request thread answers 503 like any error of the endpoint, and the runaway hook
    runs (under kg serve it retires the worker)."""
    app = make_app(CORS_ORIGINS="https://a.example")
    monkeypatch.setitem(app.config, "QUERY_TIMEOUT", 0.3)  # the query below runs about 1 s
    retired = threading.Event()
    monkeypatch.setattr(deadline, "runaway_hook", retired.set)
    runaway = (
        "SELECT (COUNT(*) AS ?n) WHERE { "
        + " ".join(f"VALUES ?v{i} {{ {' '.join(map(str, range(60)))} }}" for i in range(4))
        + " }"
    )
    statuses: list[str] = []
    headers: list[tuple[str, str]] = []
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/sparql",
        "QUERY_STRING": urllib.parse.urlencode({"query": runaway}),
        "wsgi.input": io.BytesIO(b""),
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "HTTP_ORIGIN": "https://a.example",
    }

    def start_response(status: str, sent: list[tuple[str, str]], *_: Any) -> Any:
        statuses.append(status)
        headers.extend(sent)

    body = b"".join(app.wsgi_app(env, start_response))
    assert statuses == ["503 SERVICE UNAVAILABLE"] and b"time limit of 0.3 s" in body
    assert ("Content-Type", "text/plain; charset=utf-8") in headers
    assert ("Access-Control-Allow-Origin", "https://a.example") in headers
    assert retired.is_set()
