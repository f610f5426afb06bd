"""SERVICE and LOAD reach only allow-listed IRIs: proved with a listener on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graph.errors import Forbidden
from graph.guard import check_remote_targets, mentions_remote, remote_targets
from tests.listener import Listener
from tests.test_sparql import TOKEN, make_app


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.sock.close()


NESTED = [
    "SELECT * WHERE { SERVICE <{url}> { ?s ?p ?o } }",
    "SELECT * WHERE { { SELECT * WHERE { SERVICE <{url}> { ?s ?p ?o } } } }",
    "SELECT * WHERE { ?a ?b ?c OPTIONAL { SERVICE SILENT <{url}> { ?s ?p ?o } } }",
    "SELECT * WHERE { { ?a ?b ?c } UNION { SERVICE <{url}> { ?s ?p ?o } } }",
    "SELECT * WHERE { ?a ?b ?c MINUS { SERVICE <{url}> { ?a ?p ?o } } }",
    "SELECT * WHERE { ?a ?b ?c FILTER EXISTS { SERVICE <{url}> { ?a ?p ?o } } }",
    "PREFIX r: <{url}> ASK { service r:sparql { ?s ?p ?o } }",
]


@pytest.mark.parametrize("template", NESTED)
def test_service_off_the_allow_list_is_refused_before_any_connection(
    listener: Listener, template: str
) -> None:
    query = template.replace("{url}", listener.url)
    response = make_app().test_client().get("/sparql", query_string={"query": query})
    assert response.status_code == 403
    assert listener.url.encode() in response.data
    assert listener.connections == 0


def test_variable_service_is_refused() -> None:
    response = (
        make_app(SERVICE_ALLOWLIST=("http://",))
        .test_client()
        .get("/sparql", query_string={"query": "SELECT * WHERE { SERVICE ?x { ?s ?p ?o } }"})
    )
    assert response.status_code == 403 and b"?x" in response.data


def test_load_and_service_in_updates_are_refused(listener: Listener) -> None:
    client = make_app(WRITE_TOKEN=TOKEN).test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for update in (
        f"LOAD <{listener.url}data.ttl>",
        f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}",
    ):
        response = client.post("/sparql", data={"update": update}, headers=auth)
        assert response.status_code == 403, response.data
    assert listener.connections == 0


def test_allow_listed_service_is_contacted(listener: Listener) -> None:
    """The check is not over-broad: an allow-listed endpoint is really called."""
    client = make_app(SERVICE_ALLOWLIST=(listener.url,)).test_client()
    query = f"SELECT * WHERE {{ SERVICE <{listener.url}sparql> {{ ?s ?p ?o }} }}"
    response = client.get("/sparql", query_string={"query": query})
    assert listener.connections >= 1
    assert response.status_code != 403


def test_keywords_inside_strings_iris_and_comments_are_parsed_not_guessed_about() -> None:
    """The keyword test only decides whether to parse: it reads no SPARQL, so strings and
    comments count too; the parse then finds no target in them and the query is accepted."""
    for text in (
        'SELECT ?x { ?x ?p "LOAD SERVICE" } # SERVICE <http://x/>',
        "SELECT ?x { ?x <http://e/SERVICE> '''load''' }",
    ):
        assert mentions_remote(text)
        check_remote_targets(text, (), update=False)
    assert mentions_remote("select * { service <http://x/> {} }")
    assert mentions_remote("select * { \\u0073ervice <http://x/> {} }")
    assert not mentions_remote("SELECT * { ?s ?p ?o }")


def test_unparseable_text_mentioning_service_is_refused() -> None:
    with pytest.raises(Forbidden, match="could not be checked"):
        check_remote_targets("SELECT * { SERVICE <http://x/> { ", (), update=False)


def test_allow_list_matches_by_prefix() -> None:
    query = "SELECT * { SERVICE <https://query.wikidata.org/sparql> {} }"
    check_remote_targets(query, ("https://query.wikidata.org/",), update=False)
    with pytest.raises(Forbidden):
        check_remote_targets(query, ("https://example.org/",), update=False)
    assert remote_targets("LOAD <http://a/> ; LOAD <http://b/>", update=True) == [
        "http://a/",
        "http://b/",
    ]


@pytest.mark.parametrize("route", ["/explore/elements.json", "/export/graphml", "/export/nquads"])
def test_service_in_an_explorer_or_export_query_is_refused(listener: Listener, route: str) -> None:
    """Regression: /explore and /export ran the visitor's CONSTRUCT without the allow-list
    check, so Oxigraph fetched any SERVICE URL (and answered 500 when it failed)."""
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{listener.url}sparql> {{ ?s ?p ?o }} }}"
    response = make_app().test_client().get(route, query_string={"query": query})
    assert response.status_code == 403
    assert listener.connections == 0


def test_allow_listed_service_failing_in_an_export_is_a_400(listener: Listener) -> None:
    client = make_app(SERVICE_ALLOWLIST=(listener.url,)).test_client()
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{listener.url}sparql> {{ ?s ?p ?o }} }}"
    response = client.get("/export/graphml", query_string={"query": query})
    assert listener.connections >= 1
    assert response.status_code == 400, response.data
