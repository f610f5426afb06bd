"""One label resolution (issue 14): property order, the reader's languages, passages."""

from __future__ import annotations

import pytest

from graph.answering import labels
from graph.core.namespaces import CANONICAL_BASE
from graph.store import RdfFormat, Store, memory_store, parse_bytes

BASE = CANONICAL_BASE
GRAPH = """
@prefix ag: <https://w3id.org/alliance-graph/ontology#> .
@prefix id: <https://w3id.org/alliance-graph/id/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix schema: <https://schema.org/> .
@prefix dcterms: <http://purl.org/dc/terms/> .

id:government skos:prefLabel "Gobierno de Honduras"@es , "Government of Honduras"@en ;
    rdfs:label "Honduran government"@en ; skos:altLabel "GoH"@en .
id:person foaf:name "Jose Isaias Barahona" ; schema:name "J. I. Barahona"@en .
id:only-spanish rdfs:label "Sólo en español"@es .
id:untagged rdfs:label "Plain" ; skos:prefLabel "Francais"@fr .
id:british skos:prefLabel "Colour"@en-GB .
id:document dcterms:title "Honduras joins"@en .
id:passage ag:lineNumber 7 ; dcterms:isPartOf id:document .
id:labelled-passage rdfs:label "The opening line"@en ;
    ag:lineNumber 1 ; dcterms:isPartOf id:document .
"""


@pytest.fixture(scope="module")
def store() -> Store:
    quads = parse_bytes(GRAPH.encode(), RdfFormat.TURTLE, BASE + "graph/test", BASE)
    return memory_store(quads)


def label(store: Store, name: str, languages: tuple[str, ...] = labels.DEFAULT_LANGUAGES) -> str:
    iri = BASE + "id/" + name
    return labels.best_labels(store, [iri], BASE, languages)[iri]


def test_the_preferred_property_wins_in_the_same_language(store: Store) -> None:
    assert label(store, "government") == "Government of Honduras"


def test_the_readers_language_comes_before_the_property(store: Store) -> None:
    assert label(store, "government", labels.reader_languages(["es"])) == "Gobierno de Honduras"
    assert label(store, "only-spanish") == "Sólo en español"  # any language beats no label


def test_people_are_named_by_foaf_name(store: Store) -> None:
    # An untagged foaf:name ranks after English text only, and schema:name comes after it
    # in the property order; English is what an English reader gets first.
    assert label(store, "person") == "J. I. Barahona"
    assert label(store, "person", labels.reader_languages(["de"])) == "J. I. Barahona"
    assert label(store, "untagged") == "Plain"  # untagged text before another language


def test_a_region_matches_its_language(store: Store) -> None:
    assert label(store, "british", labels.reader_languages(["en-US"])) == "Colour"


def test_a_passage_is_named_by_its_document_and_line(store: Store) -> None:
    assert label(store, "passage") == "Honduras joins, line 7"
    assert label(store, "labelled-passage") == "The opening line"


def test_many_nodes_are_asked_in_chunks_and_broken_iris_skipped(store: Store) -> None:
    iris = [BASE + f"id/none-{n}" for n in range(labels.CHUNK + 5)]
    iris += ["not an iri", BASE + "id/government"]
    found = labels.best_labels(store, iris, BASE)
    assert found == {BASE + "id/government": "Government of Honduras"}


def test_a_node_without_a_label_keeps_its_compact_name(store: Store) -> None:
    assert labels.label_or_name({}, BASE + "id/person/x", BASE) == "id:person/x"
