"""/reconcile and /search through the app (issue 15): schemas, JSONP, previews, bounds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.reconcile_schemas import check, examples, validator_for_kind

CHECKED = [example for example in examples() if validator_for_kind(example[0]) is not None]


@pytest.mark.parametrize(
    ("kind", "path", "valid"), CHECKED, ids=lambda v: getattr(v, "name", str(v))
)
def test_the_groups_examples_validate_as_their_folder_says(
    kind: str, path: Path, valid: bool
) -> None:
    checker = validator_for_kind(kind)
    assert checker is not None
    assert checker.is_valid(json.loads(path.read_text())) is valid


def test_only_the_kinds_without_a_schema_in_0_2_go_unchecked() -> None:
    """Flyouts and security schemes have no 0.2 schema (tests/reconcile_schemas.py says why)."""
    unchecked = {kind for kind, _, _ in examples() if validator_for_kind(kind) is None}
    assert unchecked == {"flyout-response", "security-scheme"}
    assert len(CHECKED) >= 40


def test_manifest_validates_and_points_at_this_server(client: FlaskClient) -> None:
    response = client.get("/reconcile", headers={"Origin": "https://openrefine.example"})
    manifest = response.get_json()
    check(manifest, "manifest.json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert manifest["view"]["url"] == "http://localhost/id/{{id}}"
    assert {
        "id": "https://w3id.org/alliance-graph/ontology#Country",
        "name": "country",
    } in manifest["defaultTypes"]


def test_jsonp_wraps_the_answer_in_the_callback(client: FlaskClient) -> None:
    response = client.get("/reconcile?callback=jQuery123_456.done")
    assert response.mimetype == "application/javascript"
    body = response.get_data(as_text=True)
    assert body.startswith("/**/jQuery123_456.done(") and body.endswith(");")
    check(json.loads(body[len("/**/jQuery123_456.done(") : -2]), "manifest.json")


@pytest.mark.parametrize(
    "callback",
    [
        "alert(1)//",
        "a;alert(1)",
        "</script><script>alert(1)",
        "x\u2028y",
        "a b",
        "",
        "1abc",
        "a" * 300,
        "a..b",
    ],
)
def test_a_callback_that_is_not_an_identifier_is_refused(
    client: FlaskClient, callback: str
) -> None:
    response = client.get("/reconcile", query_string={"callback": callback})
    assert response.status_code == 400
    assert b"JavaScript identifier" in response.data
    assert response.mimetype == "text/plain"


def test_jsonp_cannot_close_a_script_element(client: FlaskClient) -> None:
    """A name holding </script> comes back escaped inside the JSONP answer."""
    response = client.get(
        "/reconcile", query_string={"query": "</script><script>alert(1)</script>", "callback": "cb"}
    )
    assert response.status_code == 200 and b"</script>" not in response.data


def test_batch_by_form_post_and_one_query_by_get(client: FlaskClient) -> None:
    queries = {
        "q0": {"query": "IOM"},
        "q1": {"query": "honduras", "type": "ag:Country", "limit": 2},
    }
    batch = client.post("/reconcile", data={"queries": json.dumps(queries)}).get_json()
    check(batch, "reconciliation-result-batch.json")
    assert batch["q0"]["result"][0]["id"] == "organization/iom"
    one = client.get("/reconcile", query_string={"query": "Hondura"}).get_json()
    assert one["result"][0]["id"] == "country/honduras" and one["result"][0]["match"] is True


@pytest.mark.parametrize("limit", [0, -5])
def test_a_limit_of_none_or_less_finds_no_candidates(client: FlaskClient, limit: int) -> None:
    """A limit is "the maximum number of candidates" (Reconciliation API 0.2); it gave one."""
    queries = {"q0": {"query": "IOM", "limit": limit}, "q1": {"query": "IOM"}}
    batch = client.post("/reconcile", data={"queries": json.dumps(queries)}).get_json()
    check(batch, "reconciliation-result-batch.json")
    assert batch["q0"]["result"] == [] and batch["q1"]["result"]
    suggested = client.get(
        "/reconcile/suggest/entity", query_string={"prefix": "IOM", "limit": limit}
    ).get_json()
    assert suggested["result"] == []
    searched = client.get("/search", query_string={"q": "IOM", "limit": limit, "format": "json"})
    assert searched.get_json()["results"] == []


def test_bad_batches_get_400_naming_what_is_wrong(client: FlaskClient) -> None:
    response = client.post("/reconcile", data={"queries": '{"q1": {"limit": 1}}'})
    assert response.status_code == 400 and b"queries/q1" in response.data
    response = client.post("/reconcile", data={"queries": "{not json"})
    assert response.status_code == 400 and b"not JSON" in response.data
    # A limit past a float's range was a 500 (brief h12o, item 3).
    huge = '{"q": {"query": "x", "limit": 1e999}}'
    response = client.get("/reconcile", query_string={"queries": huge})
    assert response.status_code == 400 and b"1e999 is past the largest number" in response.data


@pytest.mark.parametrize(
    "values",
    [
        {"query": ""},
        {"query": "  "},
        {"queries": '{"q0": {"query": ""}, "q1": {"query": " ", "type": "Country"}}'},
        {"query": '{"query": "", "properties": []}'},
    ],
    ids=["empty", "blank", "blank batch", "no properties"],
)
def test_a_blank_name_without_properties_finds_nothing(
    client: FlaskClient, values: dict[str, str]
) -> None:
    """The schema lets a query hold an empty name and no constraint: nothing to look for, so
    no candidate (this was a 500: a KeyError on the missing ``properties``; h11o)."""
    response = client.get("/reconcile", query_string=values)
    assert response.status_code == 200, response.data
    answer = response.get_json()
    results = [answer] if "queries" not in values else list(answer.values())
    assert results and all(result == {"result": []} for result in results)


def test_bounds_are_the_settings(app: object, client: FlaskClient) -> None:
    config = app.config  # type: ignore[attr-defined]
    many = {f"q{n}": {"query": "x"} for n in range(config["RECONCILE_MAX_BATCH"] + 1)}
    assert client.post("/reconcile", data={"queries": json.dumps(many)}).status_code == 413
    long_name = "x" * (config["RECONCILE_MAX_CHARS"] + 1)
    assert client.get("/reconcile", query_string={"query": long_name}).status_code == 400
    assert (
        client.get("/reconcile/suggest/entity", query_string={"prefix": long_name}).status_code
        == 400
    )
    assert client.get("/search", query_string={"q": long_name}).status_code == 400
    found = client.get("/reconcile/suggest/entity?prefix=a&limit=100000").get_json()["result"]
    assert len(found) <= config["RECONCILE_MAX_LIMIT"]
    assert client.get("/reconcile/suggest/entity?prefix=a&limit=lots").status_code == 400


def test_suggest_and_propose_validate(client: FlaskClient) -> None:
    check(
        client.get("/reconcile/suggest/entity?prefix=weprot").get_json(),
        "suggest-entities-response.json",
    )
    check(
        client.get("/reconcile/suggest/type?prefix=org").get_json(), "suggest-types-response.json"
    )
    check(
        client.get("/reconcile/suggest/property?prefix=all").get_json(),
        "suggest-properties-response.json",
    )
    proposal = client.get("/reconcile/propose_properties?type=ag:Country").get_json()
    check(proposal, "data-extension-property-proposal.json")


def test_extend_by_post_validates(client: FlaskClient) -> None:
    extend = {
        "ids": ["country/honduras"],
        "properties": [{"id": "iso3166Alpha3"}, {"id": "wikidata"}],
    }
    answer = client.post("/reconcile", data={"extend": json.dumps(extend)}).get_json()
    check(answer, "data-extension-response.json")
    assert answer["rows"]["country/honduras"] == {
        "iso3166Alpha3": [{"str": "HND"}],
        "wikidata": [{"str": "Q783"}],
    }


def test_preview_is_a_card_that_may_be_framed_but_runs_nothing(client: FlaskClient) -> None:
    response = client.get("/reconcile/preview?id=country/honduras")
    assert response.status_code == 200 and b"<h1>Honduras</h1>" in response.data
    policy = response.headers["Content-Security-Policy"]
    assert (
        "frame-ancestors *" in policy
        and "default-src 'none'" in policy
        and "script-src" not in policy
    )
    assert client.get("/reconcile/preview?id=country/atlantis").status_code == 404


def test_search_page_and_json_rank_the_same(client: FlaskClient) -> None:
    data = client.get(
        "/search?q=Barahona%20Jose", headers={"Accept": "application/json"}
    ).get_json()
    assert data["results"][0]["id"] == "person/jose-isaias-barahona"
    assert data["results"][0]["url"] == "/id/person/jose-isaias-barahona"
    page = client.get("/search?q=Barahona%20Jose", headers={"Accept": "text/html"})
    assert page.mimetype == "text/html" and b'href="/id/person/jose-isaias-barahona"' in page.data
    assert "Nothing in the graph" in client.get("/search?q=Atlantis").get_data(as_text=True)


def test_every_page_has_the_search_box(client: FlaskClient) -> None:
    for path in ("/", "/explore", "/doc/country/honduras.html"):
        page = client.get(path).get_data(as_text=True)
        assert 'class="site-search"' in page and "search.js" in page, path


def test_batches_go_through_admission_like_queries(
    app: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client with too many long evaluations running gets 429 from /reconcile as from
    /sparql, and a batch runs registered with admission (demoted past 50 ms of CPU)."""
    from graph.core.errors import TooManyQueries

    admission = app.extensions["kg.admission"]  # type: ignore[attr-defined]
    ran: list[str] = []
    original = admission.run
    monkeypatch.setattr(
        admission, "run", lambda client, work: ran.append(client) or original(client, work)
    )
    client = app.test_client()  # type: ignore[attr-defined]
    assert client.post("/reconcile", data={"queries": '{"q": {"query": "IOM"}}'}).status_code == 200
    assert ran == ["127.0.0.1"]

    def refuse(who: str) -> None:
        raise TooManyQueries("too many", retry_after=1)

    monkeypatch.setattr(admission, "admit", refuse)
    refused = client.post("/reconcile", data={"queries": '{"q": {"query": "IOM"}}'})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
