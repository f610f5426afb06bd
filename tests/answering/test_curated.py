"""Curated graphs are not removed over HTTP unless the setting allows it (issue 12, item 6)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from graph.answering.curated import refuse_curated_removal
from graph.core.errors import CuratedGraphProtected
from graph.core.namespaces import CANONICAL_BASE
from graph.store import Store, dump_nquads

TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UPDATE = {"Content-Type": "application/sparql-update", **AUTH}
COUNTRIES = CANONICAL_BASE + "graph/reference-countries"
NEWS = CANONICAL_BASE + "graph/alliance-news"
NOTES = CANONICAL_BASE + "graph/notes"

REMOVALS = {
    "drop all": "DROP ALL",
    "clear all": "CLEAR ALL",
    "drop named": "DROP NAMED",
    "drop one": f"DROP GRAPH <{NEWS}>",
    "clear one": f"CLEAR GRAPH <{NEWS}>",
    "delete where": f"DELETE WHERE {{ GRAPH <{NEWS}> {{ ?s ?p ?o }} }}",
    # The default graph holds every triple now (issue 17): move an empty named graph instead.
    "move an empty graph over it": f"CREATE GRAPH <urn:x:empty> ; MOVE <urn:x:empty> TO <{NEWS}>",
}


@pytest.mark.parametrize("name", sorted(REMOVALS))
def test_updates_that_remove_a_curated_graph_get_409(
    name: str, write_app: Callable[..., Flask], writable: Store
) -> None:
    before = dump_nquads(writable)
    response = write_app().test_client().post("/sparql", data=REMOVALS[name], headers=UPDATE)
    assert response.status_code == 409, response.text
    assert f"<{NEWS}>" in response.text and "KG_ALLOW_CURATED_REMOVAL" in response.text
    assert dump_nquads(writable) == before


@pytest.mark.parametrize("method", ["DELETE", "PUT"])
def test_graph_store_removal_of_a_curated_graph_gets_409(
    method: str, write_app: Callable[..., Flask], writable: Store
) -> None:
    before = dump_nquads(writable)
    headers = {"Content-Type": "text/turtle", **AUTH}
    response = (
        write_app()
        .test_client()
        .open("/graph/reference-countries", method=method, data=b"", headers=headers)
    )
    assert response.status_code == 409, response.text
    assert f"<{COUNTRIES}>" in response.text
    assert dump_nquads(writable) == before


def test_a_graph_written_over_http_can_be_removed(write_app: Callable[..., Flask]) -> None:
    client = write_app().test_client()
    insert = f'INSERT DATA {{ GRAPH <{NOTES}> {{ <urn:n> <urn:p> "v" }} }}'
    assert client.post("/sparql", data=insert, headers=UPDATE).status_code == 204
    assert client.delete("/graph/notes", headers=AUTH).status_code == 204


def test_editing_a_curated_graph_that_keeps_triples_is_allowed(
    write_app: Callable[..., Flask],
) -> None:
    client = write_app().test_client()
    insert = f'INSERT DATA {{ GRAPH <{NEWS}> {{ <urn:n> <urn:p> "v" }} }}'
    assert client.post("/sparql", data=insert, headers=UPDATE).status_code == 204
    delete = f'DELETE DATA {{ GRAPH <{NEWS}> {{ <urn:n> <urn:p> "v" }} }}'
    assert client.post("/sparql", data=delete, headers=UPDATE).status_code == 204


def test_the_setting_lets_drop_all_through(
    write_app: Callable[..., Flask], writable: Store
) -> None:
    client = write_app(ALLOW_CURATED_REMOVAL=True).test_client()
    assert client.post("/sparql", data="DROP ALL", headers=UPDATE).status_code == 204
    assert len(writable) == 0


def test_refusal_names_only_curated_graphs_that_lost_every_triple() -> None:
    curated = {"urn:a", "urn:b"}
    refuse_curated_removal({"urn:a", "urn:x"}, {"urn:a"}, curated, allowed=False)
    refuse_curated_removal({"urn:a", "urn:b"}, set(), curated, allowed=True)
    with pytest.raises(CuratedGraphProtected, match=r"<urn:b>") as refused:
        refuse_curated_removal({"urn:a", "urn:b"}, {"urn:a"}, curated, allowed=False)
    assert "urn:a" not in str(refused.value) and type(refused.value) is CuratedGraphProtected
