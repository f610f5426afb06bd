"""The default graph is a set of triples, whatever the number of graphs stating one (issue 17).

On the real project (where source documents repeat each other's statements), queries, counts,
VoID, the Graph Store's ``?default`` and the pages agree, with no duplicate row; writes keep the
default graph in step with the named graphs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph

from graph.store import DefaultGraph, NamedNode, Quad, Store, maintain_change, memory_store
from graph.store.change import Change

AG = "https://w3id.org/alliance-graph/ontology#"
TOKEN = {"Authorization": "Bearer t0ken"}
A, P, B = NamedNode("http://e.org/a"), NamedNode("http://e.org/p"), NamedNode("http://e.org/o")
G1, G2 = NamedNode("http://e.org/g1"), NamedNode("http://e.org/g2")
DEFAULT = DefaultGraph()
DISTINCT_NAMED = (
    "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"
)


def rows(client: FlaskClient, query: str) -> list[dict[str, str]]:
    answer = client.get(
        "/sparql",
        query_string={"query": query},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert answer.status_code == 200, answer.data
    bindings = answer.get_json()["results"]["bindings"]
    return [{name: cell["value"] for name, cell in row.items()} for row in bindings]


def number(client: FlaskClient, query: str) -> int:
    return int(rows(client, query)[0]["n"])


def test_the_project_states_some_triples_in_several_graphs(client: FlaskClient) -> None:
    """The premise: without a set, these would be duplicates."""
    statements = number(client, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    distinct = number(
        client,
        DISTINCT_NAMED,
    )
    assert statements > distinct


def test_count_star_equals_count_distinct(client: FlaskClient) -> None:
    star = number(client, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    distinct = number(
        client, "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"
    )
    named = number(
        client,
        DISTINCT_NAMED,
    )
    assert star == distinct == named


def test_no_alliance_is_listed_twice(client: FlaskClient) -> None:
    found = [row["s"] for row in rows(client, f"SELECT ?s WHERE {{ ?s a <{AG}Alliance> }}")]
    assert found and len(found) == len(set(found))
    assert any(s.endswith("weprotect-global-alliance") for s in found)


def test_counts_void_and_the_graph_store_agree(client: FlaskClient) -> None:
    star = number(client, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    void = Graph().parse(data=client.get("/.well-known/void").data, format="turtle")
    figures = {str(o) for o in void.objects(None, predicate=_void("triples"))}
    assert str(star) in figures
    default = client.get("/store?default", headers={"Accept": "application/n-triples"}).data
    lines = default.splitlines()
    assert len(lines) == len(set(lines)) == star
    dataset = client.get("/dataset.ttl").data.decode()
    assert re.search(rf"void:triples {star}\b|triples> {star}\b", dataset), dataset[:2000]


def _void(name: str) -> object:
    from rdflib import URIRef

    return URIRef("http://rdfs.org/ns/void#" + name)


def test_pages_show_each_link_and_value_once(client: FlaskClient) -> None:
    page = client.get(
        "/id/country/honduras", headers={"Accept": "text/html"}, follow_redirects=True
    )
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for section in ("inverse", "properties"):
        body = html.split(f'<table class="{section}">', 1)[1].split("</table>", 1)[0]
        cells = re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
        # A row is its value and what points: the source column may name several documents.
        keys = [re.sub(r'<td class="source">.*', "", c, flags=re.DOTALL) for c in cells]
        repeated = [k for k, n in Counter(keys).items() if n > 1 and "rowspan" not in k]
        assert not repeated, repeated


# --- Writes keep the default graph in step (graph.store.default_graph.maintained).


def test_a_triple_leaves_the_default_graph_with_its_last_graph() -> None:
    store = memory_store([Quad(A, P, B, G1), Quad(A, P, B, G2)])
    assert list(store.quads_for_pattern(None, None, None, DEFAULT)) == [Quad(A, P, B, DEFAULT)]
    one = maintain_change(store, Change(removed={Quad(A, P, B, G1)}))
    assert one.removed == {Quad(A, P, B, G1)}  # G2 still states it
    store.remove(Quad(A, P, B, G1))
    last = maintain_change(store, Change(removed={Quad(A, P, B, G2)}))
    assert last.removed == {Quad(A, P, B, G2), Quad(A, P, B, DEFAULT)}


def test_a_stated_triple_cannot_be_removed_from_the_default_graph_alone() -> None:
    store = memory_store([Quad(A, P, B, G1)])
    change = maintain_change(store, Change(removed={Quad(A, P, B, DEFAULT)}))
    assert not change.removed


def test_an_added_triple_enters_the_default_graph_once() -> None:
    store = memory_store([Quad(A, P, B, G1)])
    assert maintain_change(store, Change(added={Quad(A, P, B, G2)})).added == {Quad(A, P, B, G2)}
    fresh = maintain_change(store, Change(added={Quad(B, P, A, G2)}))
    assert fresh.added == {Quad(B, P, A, G2), Quad(B, P, A, DEFAULT)}


def _count_of(client: FlaskClient, triple: str) -> int:
    return number(client, f"SELECT (COUNT(*) AS ?n) WHERE {{ {triple} }}")


@pytest.mark.parametrize("remove", ["graph store delete", "update"])
def test_writes_over_http_keep_the_set(
    write_app: Callable[..., Flask], writable: Store, remove: str
) -> None:
    client = write_app().test_client()
    triple = "<http://e.org/a> <http://e.org/p> <http://e.org/o>"
    headers = {**TOKEN, "Content-Type": "application/n-triples"}
    for graph in ("http://e.org/g1", "http://e.org/g2"):
        put = client.put(
            "/store", query_string={"graph": graph}, data=triple + " .", headers=headers
        )
        assert put.status_code == 201
    assert _count_of(client, triple) == 1
    if remove == "update":
        update = {"update": "DROP GRAPH <http://e.org/g1>"}
        assert client.post("/sparql", data=update, headers=TOKEN).status_code == 204
    else:
        assert client.delete("/store?graph=http://e.org/g1", headers=TOKEN).status_code == 204
    assert _count_of(client, triple) == 1  # g2 still states it
    assert client.delete("/store?graph=http://e.org/g2", headers=TOKEN).status_code == 204
    assert _count_of(client, triple) == 0
    star = number(client, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    distinct = number(
        client,
        DISTINCT_NAMED,
    )
    assert star == distinct


def test_a_store_built_before_the_set_is_refused_read_only(tmp_path: object) -> None:
    from pathlib import Path

    from graph.store import open_store

    location = Path(str(tmp_path)) / "old"
    old = Store(str(location))
    old.extend([Quad(A, P, B, G1)])
    old.flush()
    del old
    with pytest.raises(FileNotFoundError, match="kg build"):
        open_store(location, read_only=True)
    upgraded = open_store(location)  # writable: brought up to date
    assert Quad(A, P, B, DEFAULT) in upgraded


def test_materializing_keeps_blank_nodes_and_literals_as_they_are() -> None:
    """The default graph's copy is the same terms, so it joins with GRAPH patterns."""
    from graph.store import BlankNode, Literal

    blank = BlankNode()
    quads = [
        Quad(blank, P, Literal('é\n"x"', language="fr"), G1),
        Quad(A, P, blank, G2),
        Quad(
            A, P, Literal("1", datatype=NamedNode("http://www.w3.org/2001/XMLSchema#integer")), G1
        ),
    ]
    store = memory_store(quads)
    copied = set(store.quads_for_pattern(None, None, None, DEFAULT))
    assert copied == {Quad(q.subject, q.predicate, q.object, DEFAULT) for q in quads}


def test_graphs_with_and_without_blank_nodes_are_copied_the_same() -> None:
    """The copy is one bulk load of every graph's triples read back (a loader reading text
    would rename blank nodes): a blank node is the same node in its graphs and in the copy,
    a literal spelling a label (``_:x``) stays a literal, a triple stated twice is copied once."""
    from graph.store import BlankNode, Literal

    blank = BlankNode("b0")
    graphs = [NamedNode(f"http://e.org/g{n}") for n in range(6)]
    quads = [
        Quad(A, P, B, graphs[0]),
        Quad(A, P, B, graphs[1]),  # stated twice, copied once
        Quad(blank, P, B, graphs[1]),
        Quad(A, P, Literal("_:x looks like a label"), graphs[2]),
        Quad(B, P, A, graphs[3]),
        Quad(A, P, blank, graphs[4]),
        Quad(B, P, B, DEFAULT),  # the default graph's own
    ]
    store = memory_store(quads)
    copied = set(store.quads_for_pattern(None, None, None, DEFAULT))
    assert copied == {Quad(q.subject, q.predicate, q.object, DEFAULT) for q in quads}
    assert Quad(blank, P, B, DEFAULT) in copied and Quad(A, P, blank, DEFAULT) in copied
