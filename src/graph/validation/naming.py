"""Stable names for SHACL shapes in reports: a blank-node shape gets the same name every run.

A property shape is usually a blank node (``sh:property [ sh:path ag:iso3166Alpha2 ... ]``),
whose label (``_:N3f2...``) changes with every parse. It is named by its ``sh:name`` if it has
one, else by the shape that holds it and its path: ``<...#CountryShape> ag:iso3166Alpha2``.
"""

from __future__ import annotations

from rdflib import BNode, Graph, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from graph.core.links import compact
from graph.core.namespaces import CANONICAL_BASE


def shape_name(shapes: Graph, shape: Node | None, depth: int = 0) -> str:
    """A name for ``shape`` that does not change between runs.

    >>> g = Graph().parse(format="turtle", data='''
    ...   @prefix sh: <http://www.w3.org/ns/shacl#> .
    ...   @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
    ...   <http://e.org/S> sh:property [ sh:path skos:prefLabel ] .''')
    >>> shape_name(g, next(g.objects(URIRef("http://e.org/S"), SH.property)))
    'http://e.org/S skos:prefLabel'
    """
    if shape is None:
        return ""
    if not isinstance(shape, BNode):
        return str(shape)
    named = shapes.value(shape, SH.name)
    if named is not None:
        return str(named)
    path = shapes.value(shape, SH.path)
    shown = compact(str(path), CANONICAL_BASE) if isinstance(path, URIRef) else "a complex path"
    parent = next(shapes.subjects(SH.property, shape), None)
    if parent is None or depth > 8:
        return f"property shape on {shown}" if path is not None else "a blank-node shape"
    return f"{shape_name(shapes, parent, depth + 1)} {shown}"
