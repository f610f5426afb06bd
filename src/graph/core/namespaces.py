"""IRIs of the project and of the vocabularies it reuses, declared once.

The canonical base IRI is the persistent one the curated files are written with. A deployment
that publishes under another base sets ``KG_BASE_IRI`` (see :mod:`graph.core.settings`); the build
rewrites the canonical base to it while loading.
"""

from __future__ import annotations

from typing import Final

CANONICAL_BASE: Final = "https://w3id.org/alliance-graph/"

AG: Final = CANONICAL_BASE + "ontology#"
ONTOLOGY_IRI: Final = CANONICAL_BASE + "ontology"
ID: Final = CANONICAL_BASE + "id/"
GRAPH: Final = CANONICAL_BASE + "graph/"

RDF: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS: Final = "http://www.w3.org/2000/01/rdf-schema#"
OWL: Final = "http://www.w3.org/2002/07/owl#"
XSD: Final = "http://www.w3.org/2001/XMLSchema#"
SH: Final = "http://www.w3.org/ns/shacl#"
SKOS: Final = "http://www.w3.org/2004/02/skos/core#"
PROV: Final = "http://www.w3.org/ns/prov#"
DCTERMS: Final = "http://purl.org/dc/terms/"
DCAT: Final = "http://www.w3.org/ns/dcat#"
VOID: Final = "http://rdfs.org/ns/void#"
ORG: Final = "http://www.w3.org/ns/org#"
SCHEMA: Final = "https://schema.org/"
FOAF: Final = "http://xmlns.com/foaf/0.1/"
TIME: Final = "http://www.w3.org/2006/time#"
SD: Final = "http://www.w3.org/ns/sparql-service-description#"
WIKIDATA: Final = "http://www.wikidata.org/entity/"

#: Prefixes offered to query writers and used when printing IRIs compactly.
PREFIXES: Final[dict[str, str]] = {
    "ag": AG,
    "id": ID,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "sh": SH,
    "skos": SKOS,
    "prov": PROV,
    "dcterms": DCTERMS,
    "dcat": DCAT,
    "void": VOID,
    "org": ORG,
    "schema": SCHEMA,
    "foaf": FOAF,
    "time": TIME,
    "wd": WIKIDATA,
}


def graph_iri(name: str, base: str = CANONICAL_BASE) -> str:
    """Return the IRI of the named graph that holds one source file.

    >>> graph_iri("ontology")
    'https://w3id.org/alliance-graph/graph/ontology'
    """
    return f"{base}graph/{name}"


def rebase(iri: str, base: str) -> str:
    """Move an IRI from the canonical base to ``base``; other IRIs are returned unchanged.

    >>> rebase("https://w3id.org/alliance-graph/id/country/honduras", "http://localhost:5000/")
    'http://localhost:5000/id/country/honduras'
    >>> rebase("http://www.wikidata.org/entity/Q783", "http://localhost:5000/")
    'http://www.wikidata.org/entity/Q783'
    """
    if base != CANONICAL_BASE and iri.startswith(CANONICAL_BASE):
        return base + iri[len(CANONICAL_BASE) :]
    return iri
