"""Passage and document pages list the facts each line supports, with a citation (issue 14)."""

from __future__ import annotations

import json
import re

from flask.testing import FlaskClient

PASSAGE = "/doc/passage/alliance-news-line-3.html"
DOCUMENT = "/doc/source/alliance-news.html"


def test_a_passage_lists_its_facts_and_its_citation(web_client: FlaskClient) -> None:
    page = web_client.get(PASSAGE).get_data(as_text=True)
    assert "<h1>Honduras joins the alliance, line 3</h1>" in page
    supports = page[page.index('class="supports"') :]
    facts = re.findall(r'<h3><a href="([^"]+)">', supports)
    assert sorted(facts) == ["/id/country/honduras", "/id/organization/weprotect"]
    assert '<a href="/id/source/alliance-news">Honduras joins the alliance</a>' in supports
    citation = re.search(r'<pre class="citation" id="cite-text">([^<]*)</pre>', page)
    assert citation is not None
    assert citation.group(1) == (
        "Unknown publisher (2017-11-14). Honduras joins the alliance, line 3. "
        "https://w3id.org/alliance-graph/id/passage/alliance-news-line-3"
    )
    csl = re.search(r'<pre id="cite-csl">([^<]*)</pre>', page)
    assert csl is not None
    [item] = json.loads(csl.group(1).replace("&#34;", '"').replace("&quot;", '"'))
    assert item["issued"] == {"date-parts": [[2017, 11, 14]]} and item["locator"] == "3"


def test_a_document_lists_its_passages_with_their_facts(web_client: FlaskClient) -> None:
    page = web_client.get(DOCUMENT).get_data(as_text=True)
    table = page[page.index('<table class="passages">') : page.index("</table>")]
    rows = table.split("<tr>")[2:]
    assert len(rows) == 2
    assert 'href="/id/passage/alliance-news-line-3">line 3</a>' in rows[0]
    assert "/id/country/honduras" in rows[0] and "/id/organization/weprotect" in rows[0]
    assert 'href="/id/passage/alliance-news-line-7">line 7</a>' in rows[1]
    assert "/id/country/honduras" not in rows[1] and "/id/organization/weprotect" in rows[1]
    assert "@misc{alliance-news," in page


def test_labels_follow_the_readers_language(web_client: FlaskClient) -> None:
    spanish = web_client.get("/doc/country/honduras.html", headers={"Accept-Language": "es"})
    assert "Alianza Global WePROTECT" in spanish.get_data(as_text=True)
    assert "Accept-Language" in spanish.headers["Vary"]
    english = web_client.get("/doc/country/honduras.html", headers={"Accept-Language": "en"})
    assert "Alianza Global WePROTECT" not in english.get_data(as_text=True)
