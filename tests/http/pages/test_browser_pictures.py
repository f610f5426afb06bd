"""Issue 14's pages and pictures in a real browser, over the project's own graph: people titled
by their names, passages listing their facts, the ontology's classes and properties apart, a
readable neighbourhood and an explorer that starts small and grows on click."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode
from urllib.request import Request, urlopen

import pytest

from graph.core.links import local_path
from graph.core.namespaces import CANONICAL_BASE
from graph.http.app import create_app
from tests.http.pages.browser import browser_tab, serving
from tests.paths import ARTIFACTS, ROOT

pytestmark = pytest.mark.browser

PASSAGE = CANONICAL_BASE + "id/passage/gov-uk-2017-honduras-weprotect-line-5"
PREFIXES = """PREFIX ag: <https://w3id.org/alliance-graph/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX foaf: <http://xmlns.com/foaf/0.1/>
PREFIX owl: <http://www.w3.org/2002/07/owl#> PREFIX dcterms: <http://purl.org/dc/terms/>
"""


@pytest.fixture(scope="module")
def site(project_store: Path) -> Iterator[str]:
    app = create_app({"STORE": str(project_store), "WRITE_TOKEN": "", "PROJECT_DIR": str(ROOT)})
    with serving(app) as url:
        yield url


@pytest.fixture
def tab(site: str) -> Iterator[Any]:
    with browser_tab() as opened:
        yield opened


def select(site: str, query: str) -> list[dict[str, str]]:
    """The rows of a SELECT asked of the site's own endpoint, as {variable: value}."""
    request = Request(
        site + "/sparql?" + urlencode({"query": PREFIXES + query}),
        headers={"Accept": "application/sparql-results+json"},
    )
    with urlopen(request, timeout=30) as response:
        rows = json.load(response)["results"]["bindings"]
    return [{name: cell["value"] for name, cell in row.items()} for row in rows]


def neighbours(site: str, iri: str) -> list[str]:
    """The nodes /explore/neighbourhood.json gives for ``iri``."""
    url = site + "/explore/neighbourhood.json?" + urlencode({"focus": iri})
    with urlopen(url, timeout=30) as response:
        answer = json.load(response)
    return [e["data"]["id"] for e in answer["elements"] if "source" not in e["data"]]


def path(iri: str) -> str:
    found = local_path(iri, CANONICAL_BASE)
    assert found is not None
    return found


#: The geometry of the drawing: the centre, every other node, and each node's label box.
GEOMETRY = """() => {
  const cy = window.kgCy, centre = cy.nodes('[?centre]');
  const box = (n) => n.boundingBox(
    { includeNodes: false, includeEdges: false, includeLabels: true });
  return {
    centre: centre.position(), width: centre.width(),
    others: cy.nodes().not(centre).map((n) => n.position()),
    labels: cy.nodes().filter((n) => n.data('label')).map((n) => [n.data('label'), box(n)]),
    fontPx: Math.min(...cy.nodes().map((n) => parseFloat(n.style('font-size')))) * cy.zoom(),
    zoomable: cy.userZoomingEnabled(),
    looks: cy.nodes().map((n) => [n.data('class') || '', n.data('colour') + ' ' + n.data('shape')]),
  };
}"""


def overlaps(labels: list[list[Any]]) -> list[tuple[str, str]]:
    found = []
    for i, (name, a) in enumerate(labels):
        for other, b in labels[i + 1 :]:
            if a["x1"] < b["x2"] and b["x1"] < a["x2"] and a["y1"] < b["y2"] and b["y1"] < a["y2"]:
                found.append((name, other))
    return found


def one_look_per_class(looks: list[list[str]]) -> None:
    by_class: dict[str, set[str]] = {}
    for cls, look in looks:
        by_class.setdefault(cls, set()).add(look)
    assert all(len(v) == 1 for v in by_class.values()), by_class
    typed = [next(iter(v)) for k, v in by_class.items() if k]
    assert len(typed) == len(set(typed)), "two classes share a colour and shape"
    colours = [look.split()[0] for look in typed]
    if len(colours) <= 20:  # Tableau 20 has a colour of its own for each
        assert len(colours) == len(set(colours)), by_class


@pytest.mark.parametrize(
    "resource", ["id/country/honduras", "id/organization/weprotect-global-alliance"]
)
def test_the_neighbourhood_is_readable(tab: Any, site: str, resource: str) -> None:
    tab.goto(f"{site}/{resource}")
    tab.wait_for_function("() => window.kgCy && window.kgCy.nodes().length > 5")
    shape = tab.evaluate(GEOMETRY)
    centre, others = shape["centre"], shape["others"]
    # The centre is inside the ring: between the others on both axes, none of them close to it.
    assert min(p["x"] for p in others) < centre["x"] < max(p["x"] for p in others)
    assert min(p["y"] for p in others) < centre["y"] < max(p["y"] for p in others)
    nearest = min(
        ((p["x"] - centre["x"]) ** 2 + (p["y"] - centre["y"]) ** 2) ** 0.5 for p in others
    )
    assert nearest > 3 * shape["width"]
    assert overlaps(shape["labels"]) == []
    assert shape["fontPx"] >= 9, shape["fontPx"]
    assert shape["zoomable"]
    one_look_per_class(shape["looks"])
    assert tab.locator("#neighbourhood-legend li").count() >= 3
    name = resource.rsplit("/", 1)[-1]
    tab.locator("#neighbourhood").screenshot(path=str(ARTIFACTS / f"neighbourhood-{name}.png"))


def test_people_are_titled_by_their_names(tab: Any, site: str) -> None:
    people = select(site, "SELECT ?person ?name { ?person a foaf:Person ; foaf:name ?name }")
    assert len(people) >= 10
    for person in people:
        tab.goto(site + path(person["person"]))
        assert tab.inner_text("h1") == person["name"]
        assert "id:person/" not in tab.inner_text("main"), person
        tab.wait_for_function("() => window.kgCy && window.kgCy.nodes().length > 1")
        labels = tab.evaluate("window.kgCy.nodes().map((n) => n.data('label'))")
        assert person["name"] in labels and not any("id:person/" in x for x in labels)
    tab.goto(site + "/id/person/jose-isaias-barahona")
    tab.screenshot(path=str(ARTIFACTS / "person.png"), full_page=True)


def test_a_passage_page_lists_the_facts_it_supports(tab: Any, site: str) -> None:
    facts = select(
        site, f"SELECT DISTINCT ?fact {{ ?fact prov:wasDerivedFrom|prov:used <{PASSAGE}> }}"
    )
    assert len(facts) >= 3
    tab.goto(site + path(PASSAGE))
    assert tab.inner_text("h1") == "UK welcomes Honduras\u2019 commitment to WePROTECT, line 5"
    shown = tab.eval_on_selector_all(
        ".supports .fact h3 a", "(links) => links.map((a) => a.getAttribute('href'))"
    )
    assert sorted(shown) == sorted(path(row["fact"]) for row in facts)
    assert "Jose Isaias Barahona" in tab.inner_text(".supports")
    citation = tab.inner_text("#cite-text")
    for part in ("UK Government", "2017-11-14", "UK welcomes Honduras\u2019 commitment", "line 5"):
        assert part in citation, citation
    tab.click(".cite summary >> text=BibTeX")
    assert "@misc{gov-uk-2017-honduras-weprotect-line-5," in tab.inner_text("#cite-bibtex")
    tab.screenshot(path=str(ARTIFACTS / "passage.png"), full_page=True)
    # The document lists its passages, this one with the same facts.
    tab.click(".supports p a")
    assert tab.inner_text("h1") == "UK welcomes Honduras\u2019 commitment to WePROTECT"
    row = tab.locator("table.passages tr", has=tab.locator(f'a[href="{path(PASSAGE)}"]'))
    assert sorted(
        row.locator("td a").evaluate_all("(a) => a.map((x) => x.getAttribute('href'))")
    ) == sorted(shown)
    tab.screenshot(path=str(ARTIFACTS / "document.png"), full_page=True)


def test_the_ontology_page_puts_classes_and_properties_apart(tab: Any, site: str) -> None:
    classes = {r["c"] for r in select(site, "SELECT ?c { GRAPH ?g { ?c a owl:Class } }")}
    properties = {
        r["p"]
        for r in select(
            site,
            "SELECT ?p { GRAPH ?g { ?p a ?k } "
            "VALUES ?k { owl:ObjectProperty owl:DatatypeProperty } }",
        )
    }
    tab.goto(site + "/ontology")
    anchors = "(sections) => sections.map((s) => s.id)"
    shown_classes = tab.eval_on_selector_all("#classes section.term", anchors)
    shown_properties = tab.eval_on_selector_all("#properties section.term", anchors)
    assert set(shown_classes) == {c.rpartition("#")[2] for c in classes}
    assert set(shown_properties) == {p.rpartition("#")[2] for p in properties}
    country = tab.locator("#classes #Country")
    assert "ISO 3166-1" in country.locator(".definition").inner_text()
    assert "schema:Country" in country.inner_text()  # its super-class
    assert country.locator("table.constraints tbody tr").count() >= 3  # CountryShape
    of_country = tab.locator("#properties #ofCountry").inner_text()
    assert "Range" in of_country and "country" in of_country
    tab.goto(site + "/ontology#Country")
    assert tab.evaluate("document.querySelector(':target').id") == "Country"
    tab.screenshot(path=str(ARTIFACTS / "ontology.png"))


def test_the_explorer_opens_on_one_resource_and_grows_on_click(tab: Any, site: str) -> None:
    tab.goto(site + "/explore")
    tab.wait_for_function("() => window.kgCy && window.kgCy.nodes('.expanded').length === 1")
    first = tab.evaluate("window.kgCy.nodes().length")
    assert 1 < first < 40
    ontology = CANONICAL_BASE + "ontology"
    iris = tab.evaluate("window.kgCy.nodes().map((n) => n.id())")
    assert not [iri for iri in iris if iri.startswith(ontology)]  # data apart from the ontology
    assert "ag:Passage" not in tab.evaluate("window.kgCy.nodes().map((n) => n.data('class'))")
    one_look_per_class(tab.evaluate(GEOMETRY)["looks"])
    # Click the neighbour that brings most new nodes: its neighbourhood joins the drawing.
    target = max(iris[1:], key=lambda iri: len(set(neighbours(site, iri)) - set(iris)))
    box = tab.locator("#cy").bounding_box()
    spot = tab.evaluate(f"window.kgCy.getElementById({json.dumps(target)}).renderedPosition()")
    tab.mouse.click(box["x"] + spot["x"], box["y"] + spot["y"])
    tab.wait_for_function(f"() => window.kgCy.nodes().length > {first}")
    tab.wait_for_function("() => window.kgCy.nodes('.expanded').length === 2")
    after = tab.evaluate("window.kgCy.nodes().map((n) => n.id())")
    assert len(after) == len(set(after)) and set(iris) < set(after)
    assert set(after) == set(iris) | set(neighbours(site, target))
    clicked = tab.evaluate(f"window.kgCy.getElementById({json.dumps(target)}).data('label')")
    assert tab.inner_text("#selected-label") == clicked
    assert tab.get_attribute("#selected-link", "href") == site + path(target)
    one_look_per_class(tab.evaluate(GEOMETRY)["looks"])
    tab.screenshot(path=str(ARTIFACTS / "explore-grown.png"))


def test_the_explorer_starts_from_a_focus_or_a_search(tab: Any, site: str) -> None:
    honduras = CANONICAL_BASE + "id/country/honduras"
    tab.goto(site + "/explore?focus=" + quote(honduras))
    tab.wait_for_function("() => window.kgCy && window.kgCy.nodes('.expanded').length === 1")
    assert tab.evaluate("window.kgCy.nodes('.expanded')[0].id()") == honduras
    assert tab.evaluate("window.kgCy.nodes().length") < 40
    classes = "window.kgCy.nodes().map((n) => n.data('class'))"
    assert "ag:Passage" not in tab.evaluate(classes)
    tab.check("#passages")  # reloads with the passages asked for
    tab.wait_for_url("**passages=1**")
    tab.wait_for_function("() => window.kgCy && window.kgCy.nodes('.expanded').length === 1")
    assert "ag:Passage" in tab.evaluate(classes)
    assert tab.evaluate("window.kgCy.nodes('.expanded')[0].id()") == honduras
    tab.goto(site + "/explore?q=barahona")
    tab.wait_for_function("() => window.kgCy && window.kgCy.nodes('.expanded').length === 1")
    assert tab.evaluate("window.kgCy.nodes('.expanded')[0].data('label')") == "Jose Isaias Barahona"
    # Enter looks a name up in the whole graph and adds what it finds.
    tab.fill("#search", "Thomas Carter")
    tab.press("#search", "Enter")
    tab.wait_for_function("() => window.kgCy.nodes('.match').length === 1")
    assert tab.evaluate("window.kgCy.nodes('.match')[0].data('label')") == "Thomas Carter"
    assert tab.evaluate("window.kgCy.nodes('.dimmed').length") >= 1
    tab.wait_for_timeout(500)  # the zoom's animation
    tab.screenshot(path=str(ARTIFACTS / "explore-found.png"))
