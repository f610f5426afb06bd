"""Matching names as people write them, and the reconciliation service without HTTP (issue 15)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from graph.answering.reconcile import requests
from graph.answering.reconcile.loading import CatalogueCache, load
from graph.answering.reconcile.service import Service
from graph.answering.store_version import StoreVersion
from graph.core.errors import BadRequest, PayloadTooLarge
from graph.core.namespaces import CANONICAL_BASE
from graph.store import Store
from tests.paths import ROOT
from tests.reconcile_schemas import EXAMPLES, check


def _accuracy_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "accuracy", ROOT / "bench" / "reconcile_accuracy.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["accuracy"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def service(content_store: Store) -> Service:
    return Service(load(content_store, CANONICAL_BASE), content_store)


def test_top1_accuracy_on_names_as_people_write_them(service: Service) -> None:
    """The test set (tests/fixtures/reconcile/names.csv): case, accents, &/and, acronyms,
    misspellings, word order, and names the graph does not hold."""
    accuracy = _accuracy_module().measure(service)
    assert accuracy.known >= 60 and accuracy.unknown >= 10
    # Names not in the graph never get match: true; nearly every known name comes first.
    assert accuracy.unknown_right == accuracy.unknown, accuracy.wrong
    assert accuracy.top1 >= 0.95, accuracy.wrong


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Barahona, José Isaías", "person/jose-isaias-barahona"),
        ("I.O.M.", "organization/iom"),
        (
            "Bureau of Population, Refugees & Migration",
            "organization/us-bureau-of-population-refugees-and-migration",
        ),
        ("Hondura", "country/honduras"),
    ],
)
def test_one_name_comes_first_and_matches(service: Service, query: str, expected: str) -> None:
    result = service.reconcile({"q": {"query": query, "limit": 3}})["q"]["result"]
    assert result[0]["id"] == expected and result[0]["match"] is True
    check({"q": {"result": result}}, "reconciliation-result-batch.json")


def test_a_name_not_in_the_graph_is_never_a_match(service: Service) -> None:
    for name in ("Government of Mexico", "Vice President of Mexico", "Red Cross Honduras"):
        result = service.reconcile({"q": {"query": name, "limit": 5}})["q"]["result"]
        assert not any(candidate["match"] for candidate in result), (name, result)


def test_type_keeps_instances_of_the_class_and_its_subclasses(service: Service) -> None:
    typed = service.reconcile({"q": {"query": "Honduras", "type": "ag:Organization", "limit": 5}})
    ids = [c["id"] for c in typed["q"]["result"]]
    assert "country/honduras" not in ids and "organization/government-of-honduras" in ids
    by_name = service.reconcile({"q": {"query": "Honduras", "type": "Country", "limit": 1}})
    assert by_name["q"]["result"][0]["id"] == "country/honduras"


def test_properties_constrain_and_alone_find(service: Service) -> None:
    """An ISO code, the country of an organisation, an alliance a state committed to."""
    answers = service.reconcile(
        {
            "iso": {"properties": [{"pid": "iso3166Alpha3", "v": "gbr"}], "limit": 3},
            "country": {
                "query": "Government",
                "properties": [{"pid": "country", "v": "Guatemala"}],
                "limit": 3,
            },
            "alliance": {
                "query": "Honduras",
                "type": "ag:Country",
                "properties": [
                    {"pid": "alliance", "v": {"id": "organization/weprotect-global-alliance"}}
                ],
                "limit": 3,
            },
        }
    )
    check(answers, "reconciliation-result-batch.json")
    assert [c["id"] for c in answers["iso"]["result"]] == ["country/united-kingdom"]
    assert answers["iso"]["result"][0]["match"] is True
    assert answers["country"]["result"][0]["id"] == "organization/government-of-guatemala"
    assert answers["alliance"]["result"][0]["match"] is True


def test_extension_gives_codes_wikidata_items_and_alliances(service: Service) -> None:
    query = requests.extension(
        json.dumps(
            {
                "ids": ["country/honduras", "country/peru", "no/such"],
                "properties": [{"id": "iso3166Alpha2"}, {"id": "wikidata"}, {"id": "alliance"}],
            }
        ),
        requests.Limits(),
    )
    answer = service.extend(query)
    check(answer, "data-extension-response.json")
    honduras = answer["rows"]["country/honduras"]
    assert honduras["iso3166Alpha2"] == [{"str": "HN"}]
    assert honduras["wikidata"] == [{"str": "Q783"}]
    assert {
        "id": "organization/weprotect-global-alliance",
        "name": "WePROTECT Global Alliance",
    } in honduras["alliance"]
    assert answer["rows"]["no/such"] == {"iso3166Alpha2": [], "wikidata": [], "alliance": []}


def test_suggest_services_answer_by_prefix(service: Service) -> None:
    entities = service.suggest_entities("hond", None, 5)
    check(entities, "suggest-entities-response.json")
    assert entities["result"][0]["id"] == "country/honduras"
    types = service.suggest_types("coun", 5)
    check(types, "suggest-types-response.json")
    assert CANONICAL_BASE + "ontology#Country" in [t["id"] for t in types["result"]]
    properties = service.suggest_properties("iso", 5)
    check(properties, "suggest-properties-response.json")
    assert [p["id"] for p in properties["result"]] == ["iso3166Alpha2", "iso3166Alpha3"]
    proposed = service.propose("ag:Country", 20)
    check(proposed, "data-extension-property-proposal.json")
    assert {"iso3166Alpha2", "wikidata", "alliance"} <= {p["id"] for p in proposed["properties"]}


@pytest.mark.parametrize(
    "path",
    sorted((EXAMPLES / "reconciliation-query-batch").glob("*/*.json")),
    ids=lambda p: f"{p.parent.name}-{p.stem}",
)
def test_the_groups_query_batches_are_taken_or_refused_as_their_folder_says(
    path: Path, service: Service
) -> None:
    text = path.read_text()
    if path.parent.name == "invalid":
        with pytest.raises(BadRequest):
            requests.batch(text, requests.Limits())
        return
    answers = service.reconcile(requests.batch(text, requests.Limits()))
    check(answers, "reconciliation-result-batch.json")


@pytest.mark.parametrize(
    "path", sorted((EXAMPLES / "data-extension-query").glob("*/*.json")), ids=lambda p: p.stem
)
def test_the_groups_extension_queries_are_taken(path: Path, service: Service) -> None:
    answer = service.extend(requests.extension(path.read_text(), requests.Limits()))
    check(answer, "data-extension-response.json")


def test_requests_are_bounded() -> None:
    limits = requests.Limits(batch=3, chars=20, candidates=5, properties=2)
    with pytest.raises(PayloadTooLarge, match="at most 3"):
        requests.batch(json.dumps({f"q{n}": {"query": "x"} for n in range(4)}), limits)
    with pytest.raises(BadRequest, match="longer than 20"):
        requests.batch(json.dumps({"q": {"query": "x" * 21}}), limits)
    assert (
        requests.batch(json.dumps({"q": {"query": "x", "limit": 10**9}}), limits)["q"]["limit"] == 5
    )
    with pytest.raises(BadRequest, match="more than 2 constraints"):
        requests.batch(
            json.dumps({"q": {"query": "x", "properties": [{"pid": "a", "v": "b"}] * 3}}), limits
        )
    with pytest.raises(BadRequest, match="nested"):
        requests.batch("[" * 100_000, limits)
    with pytest.raises(BadRequest, match="not JSON"):
        requests.batch('{"q": {"query": "x", "limit": NaN}}', limits)
    # JSON's own grammar, past a float's range: it was infinity, and int() of it a 500.
    for number in ("1e999", "-1e999", "1.5e400"):
        with pytest.raises(BadRequest, match=f"not JSON: {number} is past the largest number"):
            requests.batch('{"q": {"query": "x", "limit": ' + number + "}}", limits)


def test_the_catalogue_is_built_once_per_store_version(content_store: Store) -> None:
    version = StoreVersion()
    cache = CatalogueCache(version)
    builds = []

    def build():  # type: ignore[no-untyped-def]
        builds.append(1)
        return load(content_store, CANONICAL_BASE)

    first = cache.get(build)
    assert cache.get(build) is first and len(builds) == 1
    version.bump()
    assert cache.get(build) is not first and len(builds) == 2


def test_type_strict_should_prefers_without_excluding(service: Service) -> None:
    query = {"query": "Honduras", "type": "ag:Organization", "limit": 3}
    strict = service.reconcile({"q": query})["q"]["result"]
    soft = service.reconcile({"q": query | {"type_strict": "should"}})["q"]["result"]
    assert "country/honduras" not in [c["id"] for c in strict]
    scores = {c["id"]: c["score"] for c in soft}
    assert scores["country/honduras"] == 90.0  # 100 for the name, less a tenth for the type
    assert scores["organization/government-of-honduras"] == strict[0]["score"]


def test_extension_gives_funders_and_countries(service: Service) -> None:
    project = "project/icmec-child-helpline-international-joint-project"
    answer = service.extend(
        {
            "ids": [project, "organization/government-of-honduras"],
            "properties": [{"id": "funder"}, {"id": "country"}],
        }
    )
    check(answer, "data-extension-response.json")
    funder = {"id": "organization/end-violence-partnership", "name": "End Violence Partnership"}
    assert answer["rows"][project]["funder"] == [funder]
    assert answer["rows"]["organization/government-of-honduras"]["country"] == [
        {"id": "country/honduras", "name": "Honduras"}
    ]
    assert [p["id"] for p in service.propose("ag:Project", 20)["properties"]] == ["funder", "type"]


def test_queries_without_a_name_are_answered_together(service: Service) -> None:
    """One SPARQL query per property serves every query of the batch that has no name."""
    answers = service.reconcile(
        {
            "hn": {"properties": [{"pid": "iso3166Alpha2", "v": "HN"}], "limit": 3},
            "gb": {"properties": [{"pid": "iso3166Alpha2", "v": ["gb", "XX"]}], "limit": 3},
            "pe": {"properties": [{"pid": "iso3166Alpha3", "v": "PER"}], "limit": 3},
            "wd": {"properties": [{"pid": "wikidata", "v": "Q783"}], "limit": 3},
            "typed": {
                "properties": [{"pid": "iso3166Alpha2", "v": "HN"}],
                "type": "foaf:Person",
                "limit": 3,
            },
            "none": {"properties": [{"pid": "iso3166Alpha2", "v": "ZZ"}], "limit": 3},
        }
    )
    check(answers, "reconciliation-result-batch.json")
    first = {key: [c["id"] for c in answer["result"]] for key, answer in answers.items()}
    assert first == {
        "hn": ["country/honduras"],
        "gb": ["country/united-kingdom"],
        "pe": ["country/peru"],
        "wd": ["country/honduras"],
        "typed": [],
        "none": [],
    }
    assert all(answers[key]["result"][0]["match"] for key in ("hn", "gb", "pe", "wd"))
