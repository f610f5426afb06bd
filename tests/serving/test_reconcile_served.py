"""/reconcile as OpenRefine drives it, against a real `kg serve` (issue 15), and a SERVICE
query joining our countries with a Wikidata stand-in (a real `oxigraph serve`) on the allow-list.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import skip_or_fail
from tests.processes import free_port, wait_until_healthy
from tests.readme import README
from tests.reconcile_schemas import check
from tests.remote_servers import oxigraph_binary, oxigraph_server

pytestmark = [pytest.mark.server, pytest.mark.slow]

#: A few triples as Wikidata writes them: population (P1082) and capital (P36) of two countries.
WIKIDATA = """
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix wdt: <http://www.wikidata.org/prop/direct/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
wd:Q783 rdfs:label "Honduras"@en ; wdt:P1082 9904607 ; wdt:P36 wd:Q3238 .
wd:Q3238 rdfs:label "Tegucigalpa"@en .
wd:Q145 rdfs:label "United Kingdom"@en ; wdt:P1082 67326569 ; wdt:P36 wd:Q84 .
wd:Q84 rdfs:label "London"@en .
"""

WIKIDATA_ENDPOINT = "https://query.wikidata.org/sparql"


def federated_query(endpoint: str) -> str:
    """The README's federated query, sent to ``endpoint`` instead of Wikidata's."""
    blocks = re.findall(r"```sparql\n(.*?)```", README, re.S)
    shown = next(block for block in blocks if WIKIDATA_ENDPOINT in block)
    return shown.replace(WIKIDATA_ENDPOINT, endpoint)


@pytest.fixture(scope="module")
def wikidata(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A native ``oxigraph serve`` holding :data:`WIKIDATA`: its query endpoint's URL."""
    binary = oxigraph_binary()
    if binary is None:
        skip_or_fail("the oxigraph server (pip install oxigraph)")
        return
    with oxigraph_server(binary, tmp_path_factory.mktemp("wikidata")) as url:
        loaded = requests.post(
            url + "/store?default",
            data=WIKIDATA.encode(),
            headers={"Content-Type": "text/turtle"},
            timeout=30,
        )
        assert loaded.ok, loaded.text
        yield url + "/query"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, wikidata: str) -> Iterator[str]:
    """`kg serve` over the project's graph, the Wikidata stand-in on its allow-list."""
    from graph.build.embedded import build
    from graph.core.namespaces import CANONICAL_BASE
    from tests.paths import ROOT

    folder = tmp_path_factory.mktemp("reconcile-serve")
    build(ROOT, folder / "store", CANONICAL_BASE)
    port = free_port()
    env = dict(os.environ, KG_WORKERS="1", KG_SERVICE_ALLOWLIST=wikidata)
    log = folder / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "graph",
                "serve",
                "--store",
                str(folder / "store"),
                "--port",
                str(port),
            ],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(url, process, log=log)
    yield url
    process.terminate()
    process.wait(timeout=30)


def test_openrefine_session(server: str) -> None:
    """What OpenRefine does: manifest, batches by POST, suggest, preview, extend."""
    http = requests.Session()
    manifest = http.get(server + "/reconcile", timeout=30).json()
    check(manifest, "manifest.json")
    endpoint = manifest["suggest"]["entity"]["service_url"]
    assert endpoint == server + "/reconcile"
    queries = {
        "q0": {
            "query": "Hondura",
            "type": manifest["defaultTypes"][0]["id"],
            "type_strict": "should",
        },
        "q1": {"query": "International Organisation for Migration", "limit": 3},
        "q2": {"query": "Atlantis Red Cross", "limit": 3},
    }
    answer = http.post(server + "/reconcile", data={"queries": json.dumps(queries)}, timeout=30)
    assert answer.headers["Content-Type"].startswith("application/json")
    batch = answer.json()
    check(batch, "reconciliation-result-batch.json")
    assert (
        batch["q0"]["result"][0]["id"] == "country/honduras" and batch["q0"]["result"][0]["match"]
    )
    assert batch["q1"]["result"][0]["id"] == "organization/iom"
    assert not any(candidate["match"] for candidate in batch["q2"]["result"])
    suggested = http.get(
        endpoint + manifest["suggest"]["entity"]["service_path"],
        params={"prefix": "weprot"},
        timeout=30,
    ).json()
    check(suggested, "suggest-entities-response.json")
    ident = suggested["result"][0]["id"]
    preview = http.get(manifest["preview"]["url"].replace("{{id}}", ident), timeout=30)
    assert preview.ok and "WePROTECT" in preview.text
    view = http.get(manifest["view"]["url"].replace("{{id}}", ident), timeout=30)
    assert view.ok and view.url.endswith(f"/doc/{ident}.html")
    proposal = http.get(
        server + "/reconcile/propose_properties",
        params={"type": manifest["defaultTypes"][0]["id"]},
        timeout=30,
    ).json()
    check(proposal, "data-extension-property-proposal.json")
    extend = {"ids": ["country/honduras"], "properties": proposal["properties"][:3]}
    extended = http.post(
        server + "/reconcile", data={"extend": json.dumps(extend)}, timeout=30
    ).json()
    check(extended, "data-extension-response.json")
    assert extended["rows"]["country/honduras"]["iso3166Alpha2"] == [{"str": "HN"}]


def test_jsonp_from_a_real_server(server: str) -> None:
    answer = requests.get(server + "/reconcile", params={"callback": "cb_1"}, timeout=30)
    assert answer.headers["Content-Type"].startswith("application/javascript")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.text.startswith("/**/cb_1(")
    refused = requests.get(
        server + "/reconcile", params={"callback": "alert(document.cookie)"}, timeout=30
    )
    assert refused.status_code == 400


def test_service_joins_our_countries_with_wikidata(server: str, wikidata: str) -> None:
    """Federation: the README's query, SERVICE to an allow-listed endpoint, joins on owl:sameAs."""
    answer = requests.post(
        server + "/sparql",
        data={"query": federated_query(wikidata)},
        headers={"Accept": "application/sparql-results+json"},
        timeout=60,
    )
    assert answer.ok, answer.text
    rows = [
        (b["name"]["value"], int(b["population"]["value"]), b["capitalName"]["value"])
        for b in answer.json()["results"]["bindings"]
    ]
    assert rows == [("Honduras", 9904607, "Tegucigalpa"), ("United Kingdom", 67326569, "London")]


def test_service_off_the_allow_list_is_refused(server: str) -> None:
    other = f"http://127.0.0.1:{free_port()}/sparql"
    answer = requests.post(server + "/sparql", data={"query": federated_query(other)}, timeout=60)
    assert answer.status_code == 403
