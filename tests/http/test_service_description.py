"""Service Description at GET /sparql and VoID at /.well-known/void."""

from __future__ import annotations

from graph.store import RdfFormat, memory_store, parse_bytes, run_query
from tests.http.test_endpoint import BASE, G1, G2, make_app

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"


def ask(data: bytes, fmt: RdfFormat, query: str) -> bool:
    store = memory_store(parse_bytes(data, fmt, None, BASE))
    return bool(run_query(store, query, union_default_graph=False))


def test_service_description_names_endpoint_features_formats_and_graphs() -> None:
    response = make_app().test_client().get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    query = f"""PREFIX sd: <{SD}> PREFIX void: <{VOID}>
    ASK {{ ?s a sd:Service ; sd:endpoint <http://localhost/sparql> ;
              sd:supportedLanguage sd:SPARQL11Query ; sd:feature sd:UnionDefaultGraph ;
              sd:resultFormat <http://www.w3.org/ns/formats/SPARQL_Results_JSON> ;
              sd:defaultDataset [ sd:defaultGraph [ void:triples 3 ] ;
                                  sd:namedGraph [ sd:name <{G2}> ; sd:graph [ void:triples 1 ] ] ]
       FILTER NOT EXISTS {{ ?s sd:supportedLanguage sd:SPARQL11Update }} }}"""
    assert ask(response.data, RdfFormat.TURTLE, query)


def test_service_description_by_negotiation() -> None:
    response = make_app().test_client().get("/sparql", headers={"Accept": "application/ld+json"})
    assert response.mimetype == "application/ld+json"
    assert ask(response.data, RdfFormat.JSON_LD, f"ASK {{ ?s a <{SD}Service> }}")


def test_void_counts_subsets_endpoint_and_dumps() -> None:
    response = make_app().test_client().get("/.well-known/void")
    assert response.status_code == 200
    query = f"""PREFIX void: <{VOID}>
    ASK {{ <{BASE}dataset> a void:Dataset ; void:triples 3 ; void:distinctSubjects 2 ;
              void:sparqlEndpoint <http://localhost/sparql> ;
              void:dataDump <http://localhost/dumps/alliance-graph.nq> ;
              void:subset <{G1}>, <{G2}> .
           <{G1}> void:triples 2 . <{G2}> void:triples 1 . }}"""
    assert ask(response.data, RdfFormat.TURTLE, query)


def test_service_description_lists_the_declared_prefixes() -> None:
    """Issue 14: the prefixes every query gets, as SHACL prefix declarations (sh:declare)."""
    response = make_app().test_client().get("/sparql", headers={"Accept": "text/turtle"})
    assert response.data.startswith(b"@prefix ")  # written with prefixes, readable
    store = memory_store(parse_bytes(response.data, RdfFormat.TURTLE, None, BASE))
    rows = run_query(
        store,
        """PREFIX sh: <http://www.w3.org/ns/shacl#>
        SELECT ?prefix ?namespace { ?service sh:declare [ sh:prefix ?prefix ;
                                                          sh:namespace ?namespace ] }""",
        union_default_graph=False,
    )
    declared = {row["prefix"].value: row["namespace"].value for row in rows}
    assert declared["ag"] == "https://w3id.org/alliance-graph/ontology#"
    assert declared["skos"] == "http://www.w3.org/2004/02/skos/core#"
    assert len(declared) >= 17


def test_a_browser_gets_the_editor_and_a_machine_the_description() -> None:
    client = make_app().test_client()
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = client.get("/sparql", headers={"Accept": browser})
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert 'id="yasgui"' in page.text and "Accept" in page.headers["Vary"]
    for accept in ("*/*", "text/turtle", None):
        headers = {"Accept": accept} if accept else {}
        assert client.get("/sparql", headers=headers).mimetype == "text/turtle"
