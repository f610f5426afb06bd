"""The Graph Store HTTP Protocol at /store and /graph/{name}, over the mini fixture project."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from graph.answering.writes import validate_result
from graph.core.namespaces import CANONICAL_BASE
from graph.http.context import writable_of
from graph.store import RdfFormat, Store, dump_nquads, memory_store, parse_bytes, select_rows

TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
COUNTRIES = CANONICAL_BASE + "graph/reference-countries"
NEW = CANONICAL_BASE + "graph/new"
COUNTRY = "https://w3id.org/alliance-graph/id/country/"
TTL = {"Content-Type": "text/turtle", **AUTH}
PREFIXES = """@prefix ag: <https://w3id.org/alliance-graph/ontology#> .
@prefix country: <https://w3id.org/alliance-graph/id/country/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""
FRANCE = PREFIXES + 'country:france a ag:Country ; ag:iso3166Alpha2 "FR" .\n'
BAD_FRANCE = PREFIXES + 'country:france a ag:Country ; ag:iso3166Alpha2 "FRA" .\n'


@pytest.fixture
def client(write_app: Callable[..., Flask]) -> FlaskClient:
    return write_app().test_client()


def triples(body: bytes, media_type: str = "text/turtle") -> Graph:
    return Graph().parse(data=body, format={"text/turtle": "turtle"}.get(media_type, media_type))


def subjects(store: Store, graph: str) -> set[str]:
    rows = select_rows(store, f"SELECT DISTINCT ?s WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return {row["s"] for row in rows}


# --- GET and HEAD -------------------------------------------------------------------------


def test_get_named_graph_in_turtle(client: FlaskClient) -> None:
    response = client.get("/store", query_string={"graph": COUNTRIES})
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"
    assert "Accept" in response.headers["Vary"]
    graph = triples(response.data)
    assert (URIRef(COUNTRY + "honduras"), None, None) in graph
    assert len(graph) == 3


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/rdf+xml", "xml"),
        ("application/ld+json", "json-ld"),
        ("application/trig", "trig"),
        ("application/n-quads", "nquads"),
    ],
)
def test_get_negotiates_every_rdf_format(
    client: FlaskClient, accept: str, rdflib_format: str
) -> None:
    response = client.get("/store", query_string={"graph": COUNTRIES}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == accept
    parsed = Dataset(default_union=True).parse(data=response.data, format=rdflib_format)
    assert (URIRef(COUNTRY + "honduras"), None, None) in parsed


def test_dataset_formats_keep_the_graph_name(client: FlaskClient) -> None:
    response = client.get("/store", query_string={"graph": COUNTRIES, "format": "nq"})
    assert response.mimetype == "application/n-quads"
    assert all(line.endswith(f"<{COUNTRIES}> .") for line in response.text.splitlines())


def test_get_with_unacceptable_type_is_406(client: FlaskClient) -> None:
    response = client.get(
        "/store", query_string={"graph": COUNTRIES}, headers={"Accept": "image/png"}
    )
    assert response.status_code == 406


def test_head_has_the_headers_of_get_and_no_body(client: FlaskClient) -> None:
    get = client.get("/store", query_string={"graph": COUNTRIES})
    head = client.head("/store", query_string={"graph": COUNTRIES})
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert head.headers["Content-Length"] == str(len(get.data))


@pytest.mark.parametrize("method", ["get", "head", "delete"])
def test_missing_graph_is_404(client: FlaskClient, method: str) -> None:
    response = getattr(client, method)("/store", query_string={"graph": NEW}, headers=AUTH)
    assert response.status_code == 404


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_both_default_and_graph_is_400(client: FlaskClient, method: str) -> None:
    response = getattr(client, method)(f"/store?default&graph={COUNTRIES}", headers=TTL)
    assert response.status_code == 400


@pytest.mark.parametrize("method", ["get", "head", "put", "delete"])
def test_neither_default_nor_graph_is_400(client: FlaskClient, method: str) -> None:
    assert getattr(client, method)("/store", headers=TTL, data=FRANCE).status_code == 400


def test_relative_graph_iri_is_400(client: FlaskClient) -> None:
    response = client.get("/store", query_string={"graph": "not-an-iri"})
    assert response.status_code == 400
    assert "not-an-iri" in response.text


def named_triples(client: FlaskClient) -> Graph:
    """Every triple of the named graphs, as a set (what the default graph must hold)."""
    query = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"
    answer = client.get("/sparql", query_string={"query": query}, headers={"Accept": "text/turtle"})
    return triples(answer.data)


def test_default_graph_is_the_set_of_every_triple(client: FlaskClient) -> None:
    """Issue 17: ?default is the default graph queries see, each triple once."""
    response = client.get("/store?default", headers={"Accept": "application/n-triples"})
    assert response.status_code == 200
    lines = response.data.splitlines()
    assert len(lines) == len(set(lines)) > 0
    assert isomorphic(triples(response.data, "nt"), named_triples(client))


def test_direct_identification_names_the_graph_under_the_base(client: FlaskClient) -> None:
    direct = client.get("/graph/reference-countries", headers={"Accept": "application/n-triples"})
    indirect = client.get(
        "/store", query_string={"graph": COUNTRIES}, headers={"Accept": "application/n-triples"}
    )
    assert direct.status_code == 200
    assert direct.data == indirect.data != b""
    assert client.get("/graph/no-such-graph").status_code == 404


def test_direct_identification_follows_the_deployment_base(
    write_app: Callable[..., Flask],
) -> None:
    client = write_app(BASE_IRI="http://localhost:5000/").test_client()
    put = client.put("/graph/mine", data=FRANCE, headers=TTL)
    assert put.status_code == 201
    # Location is where the new graph is on this server (the test client's host).
    assert put.headers["Location"] == "http://localhost/graph/mine"
    stored = client.get(
        "/store",
        query_string={"graph": "http://localhost:5000/graph/mine"},
        headers={"Accept": "application/n-triples"},
    )
    # The canonical IRIs of the payload were moved to the deployment's base, as a build does.
    assert "http://localhost:5000/id/country/france" in stored.text


def test_stored_statements_rdf_xml_cannot_hold_get_406_in_rdf_xml(client: FlaskClient) -> None:
    """A NUL in a literal and a predicate without an XML local name, stored with the token,
    made every RDF/XML GET of the graph a 200 whose XML does not parse (h11o)."""
    body = '<urn:s> <http://e.org/> "nul \\u0000" .\n<urn:s> <http://e.org/p> "ok" .\n'
    put = client.put("/store", query_string={"graph": NEW}, data=body, headers=TTL)
    assert put.status_code in (201, 204), put.data
    for accept in ("application/rdf+xml", "text/turtle"):
        response = client.get("/store", query_string={"graph": NEW}, headers={"Accept": accept})
        assert response.status_code == (406 if "xml" in accept else 200), response.data
    assert len(triples(client.get("/store", query_string={"graph": NEW}).data)) == 2


# --- PUT, POST, DELETE --------------------------------------------------------------------


def test_put_creates_then_replaces(client: FlaskClient, writable: Store) -> None:
    first = client.put("/store", query_string={"graph": NEW}, data=FRANCE, headers=TTL)
    assert first.status_code == 201
    assert subjects(writable, NEW) == {COUNTRY + "france"}
    spain = PREFIXES + 'country:spain a ag:Country ; ag:iso3166Alpha2 "ES" .'
    second = client.put("/store", query_string={"graph": NEW}, data=spain, headers=TTL)
    assert second.status_code == 204
    assert second.data == b""
    assert subjects(writable, NEW) == {COUNTRY + "spain"}


def test_put_empty_body_makes_an_empty_graph(client: FlaskClient) -> None:
    response = client.put("/store", query_string={"graph": NEW}, headers=AUTH)
    assert response.status_code == 201
    got = client.get(
        "/store", query_string={"graph": NEW}, headers={"Accept": "application/n-triples"}
    )
    assert got.status_code == 200
    assert got.data == b""


def test_post_merges_into_existing_graph(client: FlaskClient, writable: Store) -> None:
    response = client.post("/store", query_string={"graph": COUNTRIES}, data=FRANCE, headers=TTL)
    assert response.status_code == 204
    assert subjects(writable, COUNTRIES) == {COUNTRY + "honduras", COUNTRY + "france"}


def test_post_to_a_new_graph_creates_it(client: FlaskClient) -> None:
    response = client.post("/store", query_string={"graph": NEW}, data=FRANCE, headers=TTL)
    assert response.status_code == 201
    assert response.headers["Location"] == "http://localhost/graph/new"
    assert client.get(response.headers["Location"]).status_code == 200
    other = "http://example.org/elsewhere"
    response = client.post("/store", query_string={"graph": other}, data=FRANCE, headers=TTL)
    location = response.headers["Location"]
    assert location == "http://localhost/store?graph=http%3A%2F%2Fexample.org%2Felsewhere"
    assert client.get(location).status_code == 200


def test_post_to_the_store_creates_a_graph_and_says_where(
    client: FlaskClient, writable: Store
) -> None:
    response = client.post("/store", data=FRANCE, headers=TTL)
    assert response.status_code == 201
    location = response.headers["Location"]
    assert location.startswith("http://localhost/graph/")
    graph = CANONICAL_BASE + location.removeprefix("http://localhost/")
    assert response.text == f"Created graph <{graph}>\n"
    assert subjects(writable, graph) == {COUNTRY + "france"}
    again = client.post("/store", data=FRANCE, headers=TTL)
    assert again.headers["Location"] != location


def test_post_keeps_blank_nodes_of_separate_requests_apart(
    client: FlaskClient, writable: Store
) -> None:
    body = PREFIXES + '_:b rdfs:label "x" .'
    for _ in range(2):
        client.post("/store", query_string={"graph": NEW}, data=body, headers=TTL)
    rows = select_rows(
        writable, f"SELECT (COUNT(DISTINCT ?b) AS ?n) WHERE {{ GRAPH <{NEW}> {{ ?b ?p ?o }} }}"
    )
    assert rows == [{"n": "2"}]


def test_delete_removes_the_graph(client: FlaskClient, writable: Store) -> None:
    client.put("/store", query_string={"graph": NEW}, data=FRANCE, headers=TTL)
    response = client.delete("/store", query_string={"graph": NEW}, headers=AUTH)
    assert response.status_code == 204
    assert client.get("/store", query_string={"graph": NEW}).status_code == 404
    assert subjects(writable, NEW) == set()


def test_default_graph_round_trip(client: FlaskClient) -> None:
    """A PUT of ?default replaces the default graph's own triples; the named graphs' stay in it
    (graph.store.default_graph): DELETE ?default takes back only what the PUT wrote."""
    named = named_triples(client)
    assert client.put("/store?default", data=FRANCE, headers=TTL).status_code == 204
    got = triples(client.get("/store?default").data)
    assert (URIRef(COUNTRY + "france"), None, None) in got
    assert len(got) == len(named) + 2
    assert client.delete("/store?default", headers=AUTH).status_code == 204
    after = client.get("/store?default", headers={"Accept": "application/n-triples"})
    assert isomorphic(triples(after.data, "nt"), named)


def test_direct_put_post_delete(client: FlaskClient) -> None:
    assert client.put("/graph/new", data=FRANCE, headers=TTL).status_code == 201
    spain = PREFIXES + 'country:spain a ag:Country ; ag:iso3166Alpha2 "ES" .'
    assert client.post("/graph/new", data=spain, headers=TTL).status_code == 204
    assert len(triples(client.get("/graph/new").data)) == 4
    assert client.delete("/graph/new", headers=AUTH).status_code == 204
    assert client.get("/graph/new").status_code == 404


def test_written_data_is_visible_to_the_next_query(client: FlaskClient, writable: Store) -> None:
    client.put("/store", query_string={"graph": NEW}, data=FRANCE, headers=TTL)
    rows = select_rows(
        writable,
        "SELECT ?code WHERE { ?c <https://w3id.org/alliance-graph/ontology#iso3166Alpha2> ?code }",
    )
    assert {row["code"] for row in rows} == {"HN", "FR"}


def test_relative_iris_resolve_against_the_graph(client: FlaskClient, writable: Store) -> None:
    body = '<#me> <http://www.w3.org/2000/01/rdf-schema#label> "me" .'
    client.put("/store", query_string={"graph": NEW}, data=body, headers=TTL)
    assert subjects(writable, NEW) == {NEW + "#me"}


# --- payloads -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("media_type", "body"),
    [
        (
            "application/n-triples",
            f"<{COUNTRY}france> a <https://w3id.org/alliance-graph/ontology#Country> ; .",
        ),
        (
            "application/rdf+xml",
            "<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description",
        ),
        ("text/turtle", PREFIXES + "country:france a ag:Country ;\n  ag:iso3166Alpha2 "),
    ],
)
def test_syntax_error_is_400_with_position(
    client: FlaskClient, writable: Store, media_type: str, body: str
) -> None:
    before = dump_nquads(writable)
    response = client.put(
        "/store",
        query_string={"graph": NEW},
        data=body,
        headers={**AUTH, "Content-Type": media_type},
    )
    assert response.status_code == 400
    assert "request body:" in response.text
    assert dump_nquads(writable) == before


def test_turtle_syntax_error_names_line_and_column(client: FlaskClient) -> None:
    body = PREFIXES + "country:france a ag:Country ;\n  ag:iso3166Alpha2 ."
    response = client.put("/store", query_string={"graph": NEW}, data=body, headers=TTL)
    assert response.status_code == 400
    assert "request body:5:" in response.text


@pytest.mark.parametrize(
    "media_type", ["image/png", "application/trig", "application/sparql-query", ""]
)
def test_unknown_or_non_graph_content_type_is_415(
    client: FlaskClient, writable: Store, media_type: str
) -> None:
    before = dump_nquads(writable)
    headers = {**AUTH, "Content-Type": media_type} if media_type else AUTH
    response = client.put("/store", query_string={"graph": NEW}, data=FRANCE, headers=headers)
    assert response.status_code == 415
    assert dump_nquads(writable) == before


def test_body_over_the_limit_is_413(write_app: Callable[..., Flask], writable: Store) -> None:
    client = write_app(MAX_BODY=64).test_client()
    before = dump_nquads(writable)
    response = client.put("/store", query_string={"graph": NEW}, data=FRANCE, headers=TTL)
    assert response.status_code == 413
    assert dump_nquads(writable) == before


def test_multipart_post_merges_every_part(client: FlaskClient, writable: Store) -> None:
    ag = "https://w3id.org/alliance-graph/ontology#"
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    spain = (
        f"<{COUNTRY}spain> <{rdf_type}> <{ag}Country> .\n"
        f'<{COUNTRY}spain> <{ag}iso3166Alpha2> "ES" .\n'
    )
    data = {
        "a": (io.BytesIO(FRANCE.encode()), "france.data", "text/turtle"),
        "b": (io.BytesIO(spain.encode()), "spain.nt"),
    }
    response = client.post(
        "/store",
        query_string={"graph": NEW},
        data=data,
        headers=AUTH,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    assert subjects(writable, NEW) == {COUNTRY + "france", COUNTRY + "spain"}


def test_multipart_part_of_unknown_type_is_415(client: FlaskClient, writable: Store) -> None:
    before = dump_nquads(writable)
    data = {
        "a": (io.BytesIO(FRANCE.encode()), "france.ttl"),
        "b": (io.BytesIO(b"GIF89a"), "picture.gif"),
    }
    response = client.post(
        "/store",
        query_string={"graph": NEW},
        data=data,
        headers=AUTH,
        content_type="multipart/form-data",
    )
    assert response.status_code == 415
    assert "picture.gif" in response.text
    assert dump_nquads(writable) == before


def test_multipart_syntax_error_names_the_part(client: FlaskClient) -> None:
    data = {"a": (io.BytesIO(b"<a> <b> ."), "broken.ttl")}
    response = client.post(
        "/store",
        query_string={"graph": NEW},
        data=data,
        headers=AUTH,
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "broken.ttl:1:" in response.text


# --- access control -----------------------------------------------------------------------


WRITES = [
    ("put", {"graph": NEW}),
    ("post", {"graph": COUNTRIES}),
    ("post", {}),
    ("delete", {"graph": COUNTRIES}),
    ("put", {"default": ""}),
]


@pytest.mark.parametrize(("method", "query"), WRITES)
@pytest.mark.parametrize(
    ("token", "authorization", "status"),
    [
        (TOKEN, None, 401),
        (TOKEN, "Bearer wrong", 401),
        (TOKEN, f"Basic {TOKEN}", 401),
        ("", f"Bearer {TOKEN}", 403),
    ],
)
def test_writes_without_access_change_nothing(
    write_app: Callable[..., Flask],
    writable: Store,
    method: str,
    query: dict[str, str],
    token: str,
    authorization: str | None,
    status: int,
) -> None:
    client = write_app(token=token).test_client()
    before = dump_nquads(writable)
    headers = {"Content-Type": "text/turtle"}
    if authorization:
        headers["Authorization"] = authorization
    response = getattr(client, method)("/store", query_string=query, data=FRANCE, headers=headers)
    assert response.status_code == status
    assert dump_nquads(writable) == before


# --- shapes -------------------------------------------------------------------------------


def test_write_breaking_a_shape_is_422_with_the_report(
    client: FlaskClient, writable: Store
) -> None:
    before = dump_nquads(writable)
    response = client.put("/store", query_string={"graph": NEW}, data=BAD_FRANCE, headers=TTL)
    assert response.status_code == 422
    assert response.mimetype == "text/turtle"
    report = triples(response.data)
    sh = "http://www.w3.org/ns/shacl#"
    assert (None, URIRef(sh + "focusNode"), URIRef(COUNTRY + "france")) in report
    assert "two capital letters" in response.text
    assert dump_nquads(writable) == before


def test_shape_report_in_json_when_asked(client: FlaskClient, writable: Store) -> None:
    before = dump_nquads(writable)
    headers = {**TTL, "Accept": "application/json"}
    response = client.post(
        "/store", query_string={"graph": COUNTRIES}, data=BAD_FRANCE, headers=headers
    )
    assert response.status_code == 422
    report = json.loads(response.data)
    assert report["conforms"] is False
    [violation] = report["violations"]
    assert violation["focus"] == COUNTRY + "france"
    assert violation["constraint"] == "PatternConstraintComponent"
    # Issue 14: no "file": "" nor "line": null for a write that came from no file.
    assert "file" not in violation and "line" not in violation
    assert violation["shape"].endswith("ag:iso3166Alpha2") and "_:" not in violation["shape"]
    assert dump_nquads(writable) == before


def test_replacing_a_graph_others_depend_on_is_refused(
    write_app: Callable[..., Flask], writable: Store
) -> None:
    """Emptying the countries graph leaves the alliance with a member that is no country.

    (Curated graphs may be emptied here; by default that is refused first: tests/test_curated.py)
    """
    client = write_app(ALLOW_CURATED_REMOVAL=True).test_client()
    before = dump_nquads(writable)
    response = client.put(
        "/store",
        query_string={"graph": COUNTRIES},
        data=b"",
        headers=TTL,
        environ_base={},
    )
    assert response.status_code == 422
    assert "weprotect" in response.text
    assert "described country" in response.text
    assert (
        client.delete("/store", query_string={"graph": COUNTRIES}, headers=AUTH).status_code == 422
    )
    assert dump_nquads(writable) == before


# --- concurrency --------------------------------------------------------------------------


def test_concurrent_writers_keep_the_store_valid(
    write_app: Callable[..., Flask], writable: Store
) -> None:
    app = write_app()
    statuses: list[int] = []

    def writer(number: int) -> None:
        code = f"{chr(65 + number // 26)}{chr(65 + number % 26)}"
        if number % 3 == 0:
            code += "X"  # three letters: breaks the shape
        body = PREFIXES + f'country:c{number} a ag:Country ; ag:iso3166Alpha2 "{code}" .'
        response = app.test_client().post(
            "/store", query_string={"graph": f"{NEW}-{number % 4}"}, data=body, headers=TTL
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses).count(422) == 4
    assert len(statuses) == 12
    assert validate_result(writable, writable_of(app).shapes).conforms
    rows = select_rows(
        writable, "SELECT ?c WHERE { ?c a <https://w3id.org/alliance-graph/ontology#Country> }"
    )
    assert len(rows) == 1 + 8


def test_payload_parser_rebases_canonical_iris() -> None:
    quads = parse_bytes(FRANCE.encode(), RdfFormat.TURTLE, NEW, "http://localhost:5000/")
    store = memory_store(quads)
    assert all(q.subject.value.startswith("http://localhost:5000/id/") for q in store)


def test_unauthorized_names_the_bearer_scheme(client: FlaskClient) -> None:
    response = client.delete("/store", query_string={"graph": COUNTRIES})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_put_of_a_json_ld_document_is_accepted(
    write_app: Callable[..., Flask],
) -> None:
    """Regression: JSON-LD, listed among the accepted formats, was refused with 415 because
    Oxigraph's JSON-LD format can hold datasets (found by tests/reliability/test_attacks.py)."""
    body = b'{"@id": "urn:jsonld:a", "urn:jsonld:p": "x"}'
    client = write_app().test_client()
    headers = {"Authorization": "Bearer t0ken", "Content-Type": "application/ld+json"}
    response = client.put("/store", query_string={"graph": "urn:g"}, data=body, headers=headers)
    assert response.status_code == 201, response.data
    back = client.get("/store", query_string={"graph": "urn:g", "format": "nt"})
    assert back.text.strip() == '<urn:jsonld:a> <urn:jsonld:p> "x" .'


@pytest.mark.parametrize("size", [100, 101, 5000])
def test_a_chunked_body_over_the_limit_is_413_not_cut_short(
    write_app: Callable[..., Flask], writable: Store, size: int
) -> None:
    """Regression: Werkzeug cut a body without Content-Length (chunked) at max_body and
    raised nothing, so an over-limit PUT committed its first part."""
    line = b"<urn:chunk:s> <urn:chunk:p> <urn:chunk:o> .\n"
    body = line + b"#" * (size - len(line))
    before = dump_nquads(writable)
    client = write_app(MAX_BODY=100).test_client()
    headers = {
        "Authorization": "Bearer t0ken",
        "Content-Type": "application/n-triples",
        "Transfer-Encoding": "chunked",
    }
    response = client.put(
        "/store",
        query_string={"graph": "urn:g"},
        input_stream=io.BytesIO(body),
        headers=headers,
        # As a WSGI server passes a chunked body: no length, the stream ends where the body does.
        environ_overrides={"CONTENT_LENGTH": "", "wsgi.input_terminated": True},
    )
    if size <= 100:
        assert response.status_code == 201, response.data
    else:
        assert response.status_code == 413, response.data
        assert dump_nquads(writable) == before
