"""The W3C protocol cases that apply to ``kg serve --store URL`` (an external Oxigraph server).

Over an external store ``kg serve`` answers queries and refuses every update and Graph Store
write with 501, by design (docs/scaling-remote.md: the check-then-commit of a write needs a
lock that instances sharing a store cannot hold). So the cases that send no update and no write
apply: the query cases of the SPARQL Protocol (``ut:graphData`` loaded into the external store
directly, through its own Graph Store endpoint) and the Graph Store's HEAD on a missing graph.
The mini fixture project is built into the store first with ``kg build --store URL``'s code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from graph.build.external import build_remote
from graph.core.namespaces import CANONICAL_BASE
from graph.store.external.remote_store import RemoteStore
from tests.http.w3c.manifests import Case, load_cases
from tests.http.w3c.runner import Served, run, writes
from tests.paths import MINI
from tests.processes import free_port, wait_until_healthy
from tests.remote_servers import oxigraph_binary, oxigraph_server

pytestmark = [pytest.mark.slow, pytest.mark.server]

CASES = [case for case in load_cases() if not writes(case)]


def test_the_cases_that_apply() -> None:
    """Every query case of the SPARQL Protocol, and the two HEADs of a missing graph."""
    names = {case.name for case in CASES}
    assert {"query_get", "query_dataset_full", "bad_query_non_utf8"} <= names
    assert {"head_non_existing_direct", "head_non_existing_indirect"} <= names
    assert not any(name.startswith(("update_", "put_", "post_")) for name in names)
    assert len(CASES) == 22


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    binary = oxigraph_binary()
    if binary is None:
        pytest.skip("the oxigraph server (pip install oxigraph)")
    root = tmp_path_factory.mktemp("w3c-external")
    with oxigraph_server(binary, root) as store_url:
        options = {"store_kind": "oxigraph", "base_iri": CANONICAL_BASE}
        build_remote(MINI, RemoteStore.from_settings(store_url, options), CANONICAL_BASE)
        for case in CASES:
            for label, path in case.graph_data.items():
                answer = requests.put(
                    f"{store_url}/store",
                    params={"graph": label},
                    data=path.read_bytes(),
                    headers={"Content-Type": "application/n-triples"},
                    timeout=60,
                )
                assert answer.status_code in (201, 204), answer.text
        port = free_port()
        env = dict(os.environ, KG_PROJECT_DIR=str(MINI), KG_BASE_IRI=CANONICAL_BASE)
        command = [sys.executable, "-m", "graph", "serve", "--no-access-log", "--port", str(port)]
        command += ["--store", store_url, "--store-kind", "oxigraph"]
        log = root / "serve.log"
        with log.open("wb") as output:
            process = subprocess.Popen(command, env=env, stdout=output, stderr=output)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(url, process, log=log)
            yield Served(url)
        finally:
            process.terminate()
            process.wait(timeout=30)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_w3c_case_over_an_external_store(served: Served, case: Case) -> None:
    run(served, case)
