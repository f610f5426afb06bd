"""Shapes the per-change validation tests share (test_change, test_process)."""

from __future__ import annotations

import pytest
import rdflib

from graph.answering.writes import Shapes, load_shapes
from graph.core.namespaces import CANONICAL_BASE
from tests.paths import MINI

EXTRA_SHAPES = """
@prefix ag: <https://w3id.org/alliance-graph/ontology#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ag:OrganizationShape a sh:NodeShape ;
    sh:targetClass ag:Organization ;
    sh:property [ sh:path rdfs:label ; sh:uniqueLang true ; sh:datatype rdf:langString ] ;
    sh:property [ sh:path ag:member ; sh:nodeKind sh:IRI ;
        sh:or ( [ sh:class ag:Country ] [ sh:class ag:Organization ] ) ] .
"""


@pytest.fixture(scope="module")
def mini_shapes() -> Shapes:
    """The mini project's shapes and ontology."""
    return load_shapes(str(MINI), CANONICAL_BASE)


@pytest.fixture(scope="module")
def rich_shapes(mini_shapes: Shapes) -> Shapes:
    """The mini project's shapes and more: sh:uniqueLang, sh:datatype, sh:or of sh:class."""
    graph = rdflib.Graph()
    graph += mini_shapes.shapes
    graph.parse(data=EXTRA_SHAPES, format="turtle")
    return Shapes(graph, mini_shapes.ontology)
