"""What a focus node's conformance reads, worked out from the shapes (graph.validation.reach)."""

from __future__ import annotations

import pytest
import rdflib

from graph.validation.reach import MAX_DEPTH, reach

PREFIXES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
"""
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def shapes(text: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=PREFIXES + text, format="turtle")


def test_a_value_read_through_sh_not_and_an_alternative_path() -> None:
    found = reach(
        shapes("""
        ex:S sh:targetClass ex:C ;
            sh:property [ sh:path [ sh:alternativePath ( ex:a ex:b ) ] ; sh:languageIn ( "en" ) ] ;
            sh:not [ sh:property [ sh:path ex:from ;
                sh:not [ sh:property [ sh:path ex:lang ; sh:hasValue "es" ] ] ] ] .
        """)
    )
    assert found is not None
    # ex:a and ex:b's values are terms only: no step; ex:from's values have their ex:lang read.
    assert found.steps == {0: frozenset({"http://example.org/from"})}
    assert found.reads == {1: frozenset({"http://example.org/lang"})}
    assert found.depth == 1


def test_a_sequence_path_and_sh_class_read_two_steps_away() -> None:
    found = reach(
        shapes("""
        ex:S sh:targetSubjectsOf ex:p ;
            sh:property [ sh:path ( ex:p ex:q ) ; sh:class ex:D ] ;
            sh:property [ sh:path ex:r ; sh:node ex:T ] .
        ex:T sh:closed true .
        """)
    )
    assert found is not None
    assert found.steps == {
        0: frozenset({"http://example.org/p", "http://example.org/r"}),
        1: frozenset({"http://example.org/q"}),
    }
    assert found.reads[1] == frozenset({"http://example.org/q"})
    assert found.reads[2] == frozenset({TYPE})
    assert found.everything == frozenset({1})
    assert found.read_at(1, "http://example.org/anything")
    assert not found.read_at(2, "http://example.org/anything")


@pytest.mark.parametrize(
    "text",
    [
        "ex:S sh:targetClass ex:C ;"
        " sh:property [ sh:path [ sh:inversePath ex:p ] ; sh:minCount 1 ] .",
        "ex:S sh:targetClass ex:C ;"
        " sh:property [ sh:path [ sh:zeroOrMorePath ex:p ] ; sh:class ex:D ] .",
        "ex:S sh:targetObjectsOf ex:p ; sh:class ex:D .",
        "ex:S sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:node ex:S ] .",
        "ex:S sh:targetClass ex:C ; sh:sparql [ sh:select 'SELECT $this WHERE {}' ] .",
        "ex:S sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:qualifiedValueShape ex:T ;"
        " sh:qualifiedMinCount 1 ] . ex:T sh:class ex:D .",
        "ex:S sh:targetClass ex:C ; sh:property [ sh:path ( "
        + " ".join(["ex:p"] * (MAX_DEPTH + 2))
        + " ) ; sh:minCount 1 ] .",
    ],
    ids=["inverse", "zero-or-more", "target-objects", "recursive", "sparql", "qualified", "deep"],
)
def test_shapes_outside_the_subset_have_no_reach(text: str) -> None:
    """These read the nodes pointing at the focus node, or without bound, or are not listed:
    such writes are validated on the whole store."""
    assert reach(shapes(text)) is None
