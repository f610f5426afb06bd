"""The pages in a real browser: Debian's chromium driven by Playwright (no `playwright install`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Blueprint, Flask, Response, request

from graph.http.app import create_app
from graph.http.context import get_store
from graph.http.negotiate import choose
from graph.store import QueryTriples, run_query, serialize_results
from tests.conftest import WEB
from tests.http.pages.browser import browser_tab, serving
from tests.paths import ARTIFACTS

pytestmark = pytest.mark.browser


def fixture_sparql() -> Blueprint:
    """A minimal read-only /sparql for this test only, when the endpoint is not in the app."""
    bp = Blueprint("fixture_sparql", __name__)

    @bp.route("/sparql", methods=["GET", "POST"])
    def sparql() -> Response:
        result = run_query(get_store(), request.values["query"])
        offered = (
            ["text/turtle"]
            if isinstance(result, QueryTriples)
            else ["application/sparql-results+json"]
        )
        media = choose(request.headers.get("Accept"), offered, request.values.get("format"))
        return Response(serialize_results(result, media), mimetype=media)

    return bp


@pytest.fixture
def server(web_store: Path) -> Iterator[str]:
    app: Flask = create_app({"STORE": str(web_store), "WRITE_TOKEN": "", "PROJECT_DIR": str(WEB)})
    if not any(rule.rule == "/sparql" for rule in app.url_map.iter_rules()):
        app.register_blueprint(fixture_sparql())
    with serving(app) as url:
        yield url


@pytest.fixture
def page(server: str) -> Iterator[object]:
    with browser_tab() as tab:
        yield tab


def test_example_query_shows_rows(page: object, server: str) -> None:
    page.goto(server + "/")  # type: ignore[attr-defined]
    page.click("button.example >> nth=0")  # type: ignore[attr-defined]
    rows = page.locator(".yasr table tbody tr")  # type: ignore[attr-defined]
    rows.first.wait_for(timeout=15000)
    assert rows.count() >= 2
    assert "Honduras" in page.inner_text(".yasr")  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "query.png"), full_page=True)  # type: ignore[attr-defined]


def test_a_bad_query_shows_its_error_in_the_editor(page: object, server: str) -> None:
    """Issue 14: the server's message, where the user looks, its position marked in the query."""
    page.goto(server + "/")  # type: ignore[attr-defined]
    page.evaluate(  # type: ignore[attr-defined]
        "() => { window.kgYasgui.getTab().setQuery('SELECT * WHERE {\\n  ?s ?p\\n}'); }"
    )
    page.click(".yasqe_queryButton")  # type: ignore[attr-defined]
    box = page.locator("#query-error")  # type: ignore[attr-defined]
    box.wait_for(state="visible", timeout=15000)
    text = box.inner_text()
    assert "line 3, column 1: a triple pattern needs an object after ?p" in text
    mark = page.locator(".yasqe .kg-error-mark")  # type: ignore[attr-defined]
    assert mark.count() == 1 and mark.inner_text() == "}"
    assert page.locator(".yasqe .kg-error-line").count() == 1  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "query-error.png"), full_page=True)  # type: ignore[attr-defined]
    # The next good query clears the error; the project's prefixes need no PREFIX line.
    page.evaluate(  # type: ignore[attr-defined]
        "() => { window.kgYasgui.getTab()"
        ".setQuery('SELECT ?c ?label WHERE { ?c a ag:Country ; skos:prefLabel ?label }'); }"
    )
    page.click(".yasqe_queryButton")  # type: ignore[attr-defined]
    page.locator(".yasr table tbody tr").first.wait_for(timeout=15000)  # type: ignore[attr-defined]
    assert box.is_hidden() and page.locator(".yasqe .kg-error-mark").count() == 0  # type: ignore[attr-defined]
    assert "Honduras" in page.inner_text(".yasr")  # type: ignore[attr-defined]
    # The editor's own check knows the declared prefixes: no warning on the query.
    assert page.locator(".yasqe .parseErrorIcon").count() == 0  # type: ignore[attr-defined]
    assert page.evaluate("window.kgYasgui.getTab().getYasqe().queryValid") is True  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "query-prefixes.png"), full_page=True)  # type: ignore[attr-defined]


WIDE_QUERY = (
    "SELECT ?funderLabel ?recipientLabel ?amountInCurrency ?currencyCode ?yearOfTheGrant"
    " ?programme ?country WHERE { VALUES (?funderLabel ?recipientLabel ?amountInCurrency"
    " ?currencyCode ?yearOfTheGrant ?programme ?country) { ('Fund to End Violence Against"
    " Children' 'Ministry of Security of Honduras' 1250000 'USD' 2017 'Safe Online'"
    " 'Honduras') } }"
)


def test_result_cells_are_not_clipped(page: object, server: str) -> None:
    """Issue 14: no header or cell of the results table cut ("funderLabe")."""
    page.goto(server + "/")  # type: ignore[attr-defined]
    page.evaluate(f"() => {{ window.kgYasgui.getTab().setQuery({WIDE_QUERY!r}); }}")  # type: ignore[attr-defined]
    page.click(".yasqe_queryButton")  # type: ignore[attr-defined]
    page.locator(".yasr table tbody tr").first.wait_for(timeout=15000)  # type: ignore[attr-defined]
    clipped = page.evaluate(  # type: ignore[attr-defined]
        """() => [...document.querySelectorAll('.yasr table th, .yasr table td, .yasr table td *')]
              .filter((el) => el.scrollWidth > el.clientWidth + 1)
              .map((el) => el.textContent)"""
    )
    page.screenshot(path=str(ARTIFACTS / "query-wide.png"), full_page=True)  # type: ignore[attr-defined]
    assert clipped == []
    assert "funderLabel" in page.inner_text(".yasr thead")  # type: ignore[attr-defined]


def test_draw_it_with_a_select_says_what_drawing_needs(page: object, server: str) -> None:
    page.goto(server + "/")  # type: ignore[attr-defined]
    # The editor opens on the project's own example, with no PREFIX lines.
    opening = page.evaluate("window.kgYasgui.getTab().getQuery()")  # type: ignore[attr-defined]
    assert opening.startswith("SELECT ?resource ?label WHERE") and "PREFIX" not in opening
    before = page.url  # type: ignore[attr-defined]
    page.click("a.explore-link")  # type: ignore[attr-defined]
    box = page.locator("#query-error")  # type: ignore[attr-defined]
    box.wait_for(state="visible", timeout=5000)
    assert "Drawing needs a CONSTRUCT or DESCRIBE query" in box.inner_text()
    assert page.url == before  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "query-draw-select.png"))  # type: ignore[attr-defined]


def test_pages_request_nothing_missing(page: object, server: str) -> None:
    """No 404 behind a page (the favicon included) and GET /sparql opens the editor."""
    missing: list[str] = []
    page.on(  # type: ignore[attr-defined]
        "response", lambda r: missing.append(r.url) if r.status == 404 else None
    )
    for path in ("/", "/id/country/honduras", "/dataset", "/sparql"):
        page.goto(server + path)  # type: ignore[attr-defined]
        page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    assert page.locator("#yasgui .yasqe").count() == 1  # type: ignore[attr-defined]
    assert missing == []


def test_resource_page_draws_its_neighbourhood(page: object, server: str) -> None:
    page.goto(server + "/id/country/honduras")  # type: ignore[attr-defined]
    assert page.url.endswith("/doc/country/honduras.html")  # type: ignore[attr-defined]
    assert page.inner_text("h1") == "Honduras"  # type: ignore[attr-defined]
    page.wait_for_function("() => window.kgCy && window.kgCy.nodes().length > 1")  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "resource.png"), full_page=True)  # type: ignore[attr-defined]
    page.click("text=WePROTECT Global Alliance >> nth=0")  # type: ignore[attr-defined]
    assert page.url.endswith("/doc/organization/weprotect.html")  # type: ignore[attr-defined]


def test_explorer_starts_from_an_alliance_and_searches(page: object, server: str) -> None:
    page.goto(server + "/explore")  # type: ignore[attr-defined]
    page.wait_for_function("() => window.kgCy && window.kgCy.nodes().length > 1")  # type: ignore[attr-defined]
    centre = page.evaluate("window.kgCy.nodes('.expanded').map((n) => n.data('label'))")  # type: ignore[attr-defined]
    assert centre == ["WePROTECT Global Alliance"]
    assert page.locator("#legend li").count() >= 2  # type: ignore[attr-defined]
    page.fill("#search", "Honduras")  # type: ignore[attr-defined]
    assert page.evaluate("window.kgCy.nodes('.match').map((n) => n.data('label'))") == ["Honduras"]  # type: ignore[attr-defined]
    assert page.evaluate("window.kgCy.nodes('.dimmed').length") >= 1  # type: ignore[attr-defined]
    page.wait_for_timeout(500)  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "explore-search.png"), full_page=True)  # type: ignore[attr-defined]


def test_explorer_reads_a_cytoscape_export(page: object, server: str) -> None:
    page.goto(server + "/explore")  # type: ignore[attr-defined]
    count = page.evaluate(  # type: ignore[attr-defined]
        """async () => {
          const data = await (await fetch('/export/cytoscape')).json();
          const cy = window.cytoscape({ headless: true, elements: data.elements });
          return [cy.nodes().length, cy.edges().length];
        }"""
    )
    assert count[0] > 10 and count[1] > 5


JAVASCRIPT_NODE = (
    "CONSTRUCT { <javascript:alert(document.domain)> <http://www.w3.org/2000/01/rdf-schema#label>"
    ' "click me" . <data:text/html,%3Cscript%3Ealert(2)%3C/script%3E>'
    ' <http://www.w3.org/2000/01/rdf-schema#label> "me too" } WHERE {}'
)


def test_a_javascript_iri_in_the_explorer_runs_no_script(page: object, server: str) -> None:
    """Issue 11, item 5: a node whose IRI is javascript: (or data:) navigates nowhere."""
    from urllib.parse import quote

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))  # type: ignore[attr-defined]
    response = page.goto(server + "/explore?query=" + quote(JAVASCRIPT_NODE))  # type: ignore[attr-defined]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_function("() => window.kgCy && window.kgCy.nodes().length === 2")  # type: ignore[attr-defined]
    before = page.url  # type: ignore[attr-defined]
    box = page.locator("#cy").bounding_box()  # type: ignore[attr-defined]
    for index in range(2):
        spot = page.evaluate(f"window.kgCy.nodes()[{index}].renderedPosition()")  # type: ignore[attr-defined]
        page.mouse.click(box["x"] + spot["x"], box["y"] + spot["y"])  # type: ignore[attr-defined]
        page.wait_for_timeout(300)  # type: ignore[attr-defined]
    hrefs = page.evaluate("window.kgCy.nodes().map((n) => n.data('href'))")  # type: ignore[attr-defined]
    assert hrefs == [None, None]
    assert dialogs == [] and page.url == before  # type: ignore[attr-defined]


def test_the_policy_refuses_javascript_links(page: object, server: str) -> None:
    """Even a javascript: link that slipped into a page runs nothing: the CSP refuses it."""
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))  # type: ignore[attr-defined]
    page.goto(server + "/id/country/honduras")  # type: ignore[attr-defined]
    page.evaluate(  # type: ignore[attr-defined]
        """() => { const a = document.createElement('a'); a.id = 'evil';
                   a.href = 'javascript:alert(1)'; a.textContent = 'evil';
                   document.body.prepend(a); }"""
    )
    # Waits for the browser's report of the refusal, not a fixed 500 ms (a busy machine's
    # chromium may report later); no report at all fails with Playwright's timeout.
    with page.expect_console_message(  # type: ignore[attr-defined]
        lambda message: "javascript:" in message.text, timeout=15000
    ) as refused:
        page.click("#evil")  # type: ignore[attr-defined]
    assert "Content Security Policy" in refused.value.text
    assert dialogs == []


def test_search_box_suggests_and_follows_to_the_page(page: object, server: str) -> None:
    """Issue 15: type part of a name in the header's box, pick the suggestion, land on its page."""
    page.goto(server + "/explore")  # type: ignore[attr-defined]
    # On a busy machine keystrokes come slower than the box's 150 ms pause, so it asks for
    # shorter prefixes on the way: the click waits for the answer to the whole one.
    with page.expect_response(  # type: ignore[attr-defined]
        lambda answer: "prefix=global%20weprot" in answer.url, timeout=15000
    ):
        page.type("#site-search", "global weprot", delay=30)  # type: ignore[attr-defined]
    from playwright.sync_api import expect  # the page fixture has skipped without it

    suggestion = page.locator("#site-search-list a").first  # type: ignore[attr-defined]
    expect(suggestion).to_contain_text("WePROTECT Global Alliance", timeout=10000)
    page.screenshot(path=str(ARTIFACTS / "search-box.png"))  # type: ignore[attr-defined]
    suggestion.click()
    page.wait_for_url("**/doc/organization/weprotect.html")  # type: ignore[attr-defined]
    assert "WePROTECT" in page.inner_text("h1")  # type: ignore[attr-defined]
    page.fill("#site-search", "hondura")  # type: ignore[attr-defined]
    page.press("#site-search", "Enter")  # type: ignore[attr-defined]
    page.wait_for_url("**/search?q=hondura")  # type: ignore[attr-defined]
    assert page.locator(".search-results a").first.inner_text() == "Honduras"  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "search-page.png"), full_page=True)  # type: ignore[attr-defined]


def test_an_answer_naming_the_same_suggestions_leaves_the_list_alone(
    page: object, server: str
) -> None:
    """Rebuilding the list under the pointer between mousedown and mouseup swallows a click
    (a CI run under load lost one so): an answer with the suggestions already shown is a no-op."""
    from playwright.sync_api import expect  # the page fixture has skipped without it

    page.goto(server + "/explore")  # type: ignore[attr-defined]
    page.fill("#site-search", "honduras")  # type: ignore[attr-defined]
    first = page.locator("#site-search-list a").first  # type: ignore[attr-defined]
    expect(first).to_contain_text("Honduras", timeout=10000)
    # Count the list's rebuilds, and say so on the console once the next answer and what
    # follows it have run: show() runs in the continuation of response.json(), mutation
    # records are delivered as microtasks, and a timer set when json() resolves fires after
    # both. (No wait_for_function: the pages' policy forbids the eval it needs.)
    page.evaluate(  # type: ignore[attr-defined]
        """() => {
          window.rebuilt = 0;
          new MutationObserver(() => { window.rebuilt += 1; })
            .observe(document.querySelector('#site-search-list'), {childList: true});
          const json = Response.prototype.json;
          Response.prototype.json = async function () {
            const value = await json.call(this);
            setTimeout(() => console.log('answered, rebuilt ' + window.rebuilt), 0);
            return value;
          };
        }"""
    )
    with page.expect_console_message(  # type: ignore[attr-defined]
        lambda message: message.text.startswith("answered"), timeout=10000
    ) as answered:
        page.dispatch_event("#site-search", "input")  # type: ignore[attr-defined]
    assert answered.value.text == "answered, rebuilt 0"
    assert page.is_visible("#site-search-list a")  # type: ignore[attr-defined]


def test_a_preview_card_shows_in_another_sites_frame(page: object, server: str) -> None:
    """Issue 15: OpenRefine shows /reconcile/preview in a frame of its own page, on another
    origin (here a second local server's page)."""
    import http.server
    import threading

    host = f'<iframe id="card" src="{server}/reconcile/preview?id=country/honduras"></iframe>'

    class Host(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(host.encode())

        def log_message(self, *args: object) -> None:
            pass

    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Host)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{other.server_port}/")  # type: ignore[attr-defined]
        card = page.frame_locator("#card")  # type: ignore[attr-defined]
        assert card.locator("h1").inner_text(timeout=10000) == "Honduras"
        assert "Country" in card.locator(".types").inner_text()
        page.screenshot(path=str(ARTIFACTS / "preview-card.png"))  # type: ignore[attr-defined]
    finally:
        other.shutdown()
