"""The explorer's starting point, neighbourhoods and search (issue 14), without a browser."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from graph.core.namespaces import CANONICAL_BASE
from tests.conftest import HONDURAS

WEPROTECT = CANONICAL_BASE + "id/organization/weprotect"


def nodes(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["data"]["id"]: e["data"] for e in answer["elements"] if "source" not in e["data"]}


def test_a_neighbourhood_is_data_with_labels_and_classes(web_client: FlaskClient) -> None:
    answer = web_client.get("/explore/neighbourhood.json", query_string={"focus": HONDURAS})
    assert answer.status_code == 200
    found = nodes(answer.get_json())
    assert found[HONDURAS]["centre"] is True and found[HONDURAS]["label"] == "Honduras"
    assert found[WEPROTECT]["label"] == "WePROTECT Global Alliance"
    assert found[WEPROTECT]["class"] == "ag:Alliance"
    assert found[WEPROTECT]["classLabel"] == "Alliance"
    assert found[WEPROTECT]["href"] == "/id/organization/weprotect"
    assert not [iri for iri in found if iri.startswith(CANONICAL_BASE + "ontology")]
    assert not [iri for iri in found if "/passage/" in iri]  # provenance only when asked
    edges = [e["data"] for e in answer.get_json()["elements"] if "source" in e["data"]]
    assert {"source": WEPROTECT, "target": HONDURAS, "label": "ag:member"}.items() <= next(
        e for e in edges if e["source"] == WEPROTECT
    ).items()


def test_passages_are_drawn_when_asked_or_when_the_focus_is_one(web_client: FlaskClient) -> None:
    asked = {"focus": HONDURAS, "passages": "1"}
    found = nodes(web_client.get("/explore/neighbourhood.json", query_string=asked).get_json())
    passage = CANONICAL_BASE + "id/passage/alliance-news-line-3"
    assert found[passage]["label"] == "Honduras joins the alliance, line 3"
    around = {"focus": passage}
    found = nodes(web_client.get("/explore/neighbourhood.json", query_string=around).get_json())
    assert {HONDURAS, WEPROTECT, CANONICAL_BASE + "id/source/alliance-news"} <= set(found)


@pytest.mark.parametrize(
    "focus", ["", "not an iri", "http://x> } UNION { ?s ?p ?o", "relative/path"]
)
def test_a_focus_that_is_not_an_iri_is_a_400(web_client: FlaskClient, focus: str) -> None:
    answer = web_client.get("/explore/neighbourhood.json", query_string={"focus": focus})
    assert answer.status_code == 400
    assert "focus must be an absolute IRI" in answer.get_data(as_text=True)


def test_find_by_label(web_client: FlaskClient) -> None:
    found = web_client.get("/explore/find.json", query_string={"q": "HONDURAS"}).get_json()
    assert found[0] == {"iri": HONDURAS, "label": "Honduras", "href": "/id/country/honduras"}
    # the text is a bound literal: quotes and braces are only characters to look for
    odd = web_client.get("/explore/find.json", query_string={"q": '") } UNION { ?s ?p ?o #'})
    assert odd.status_code == 200 and odd.get_json() == []
    for bad in ("", " ", "x" * 201):
        assert web_client.get("/explore/find.json", query_string={"q": bad}).status_code == 400


def test_the_explorer_page_starts_from_a_focus(web_client: FlaskClient) -> None:
    page = web_client.get("/explore").get_data(as_text=True)
    assert f'data-focus="{WEPROTECT}"' in page  # the alliance with most statements
    page = web_client.get("/explore", query_string={"q": "united"}).get_data(as_text=True)
    assert f'data-focus="{CANONICAL_BASE}id/country/united-kingdom"' in page
    assert "United Kingdom</a>" in page
    page = web_client.get("/explore", query_string={"focus": HONDURAS}).get_data(as_text=True)
    assert f'data-focus="{HONDURAS}"' in page
    assert "vendor/fcose/cytoscape-fcose.js" in page


def test_drawn_nodes_are_named_like_everywhere_else(web_client: FlaskClient) -> None:
    query = (
        'CONSTRUCT { <http://example.org/p> <http://xmlns.com/foaf/0.1/name> "Ann Lee" . '
        f"<http://example.org/p> <http://example.org/knows> <{HONDURAS}> }} WHERE {{}}"
    )
    elements = web_client.get("/explore/elements.json", query_string={"query": query}).get_json()
    named = {e["data"]["id"]: e["data"]["label"] for e in elements if "source" not in e["data"]}
    # its own foaf:name for the first; the store's label for Honduras, absent from the triples
    assert named == {"http://example.org/p": "Ann Lee", HONDURAS: "Honduras"}


@pytest.mark.parametrize("route", ["/explore/elements.json", "/export/graphml"])
def test_a_query_that_does_not_parse_is_a_400_at_its_place(
    web_client: FlaskClient, route: str
) -> None:
    """The explorer and the exports passed the syntax error on without its place (issue 13:
    the store's QuerySyntaxError is the domain's, rendered as every other)."""
    query = "CONSTRUCT { ?s ?p ?o }\nWHERE { ?s ?p }"
    answer = web_client.get(
        route, query_string={"query": query}, headers={"Accept": "application/json"}
    )
    assert answer.status_code == 400
    error = answer.get_json()
    assert (error["line"], error["column"]) == (2, 15)
    assert error["message"].startswith("SPARQL syntax error at line 2, column 15: ")


UNITED_KINGDOM = CANONICAL_BASE + "id/country/united-kingdom"


@pytest.mark.parametrize(
    ("path", "args"),
    [
        ("/explore", {"q": "United Kingdom"}),
        ("/explore/neighbourhood.json", {"focus": UNITED_KINGDOM}),
        ("/explore/find.json", {"q": "United Kingdom"}),
    ],
)
def test_answers_in_the_readers_language_say_so_in_vary(
    web_client: FlaskClient, path: str, args: dict[str, str]
) -> None:
    """They name resources in the reader's language, so a shared cache must keep one answer
    per language: without Vary it handed "Reino Unido" to an English reader (brief h12o)."""
    english = web_client.get(path, query_string=args, headers={"Accept-Language": "en"})
    spanish = web_client.get(path, query_string=args, headers={"Accept-Language": "es"})
    assert b"Reino Unido" in spanish.data and b"Reino Unido" not in english.data
    for answer in (english, spanish):
        assert "Accept-Language" in answer.vary, answer.headers


def test_the_drawing_of_a_query_does_not_vary_by_language(web_client: FlaskClient) -> None:
    assert "Accept-Language" not in web_client.get("/explore/elements.json").vary
