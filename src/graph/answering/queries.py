"""SPARQL the application itself runs, kept out of the code that runs it."""

from __future__ import annotations

from typing import Final

#: Triples of the default graph: each once, however many named graphs state it (issue 17).
COUNT_TRIPLES: Final = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"

COUNT_GRAPHS: Final = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"

TRIPLES_PER_GRAPH: Final = """
SELECT ?graph (COUNT(*) AS ?triples) WHERE { GRAPH ?graph { ?s ?p ?o } }
GROUP BY ?graph ORDER BY ?graph
"""

INSTANCES_PER_CLASS: Final = """
SELECT ?class (COUNT(DISTINCT ?instance) AS ?instances)
WHERE { ?instance a ?class }
GROUP BY ?class ORDER BY DESC(?instances) ?class
"""

# Updates the Graph Store Protocol runs (https://www.w3.org/TR/sparql11-http-rdf-update/#http-put
# and following), each written as one SPARQL update so that Oxigraph applies it in one
# transaction. ``graph`` is ``DEFAULT`` or ``GRAPH <iri>``; ``data`` is ground quads.
CREATE_GRAPH: Final = "CREATE SILENT GRAPH {graph}"
CLEAR_GRAPH: Final = "CLEAR SILENT {graph}"
DROP_GRAPH: Final = "DROP SILENT {graph}"
INSERT_DATA: Final = "INSERT DATA {{\n{data}\n}}"

#: Figures VoID asks for (https://www.w3.org/TR/void/#statistics), over the default graph (the
#: set of every triple: void:triples counts a triple once, however many graphs state it).
DATASET_FIGURES: Final = """
SELECT (COUNT(*) AS ?triples)
       (COUNT(DISTINCT ?s) AS ?subjects)
       (COUNT(DISTINCT ?p) AS ?properties)
       (COUNT(DISTINCT ?o) AS ?objects)
WHERE { ?s ?p ?o }
"""

DATASET_TYPES: Final = """
SELECT (COUNT(DISTINCT ?class) AS ?classes) (COUNT(DISTINCT ?entity) AS ?entities)
WHERE { ?entity a ?class }
"""

#: Is the store reachable and not empty?
ANY_TRIPLE: Final = "ASK { GRAPH ?g { ?s ?p ?o } }"

# --- Resource pages (graph.http.pages.resource). ?resource is bound by the caller, never pasted in;
# Oxigraph substitutes only projected variables, so SELECTs project it. Prefixes (ag:, rdfs:...)
# come from graph.core.links.prefixes(base) so that they follow the base IRI setting.

RESOURCE_EXISTS: Final = "ASK { { ?resource ?p ?o } UNION { ?s ?p ?resource } }"

#: What a resource says (with the graph each statement is in and a label for the value).
RESOURCE_OUT: Final = """
SELECT ?resource ?graph ?property ?value (SAMPLE(?label) AS ?valueLabel) WHERE {
  GRAPH ?graph { ?resource ?property ?value }
  OPTIONAL { ?value skos:prefLabel|rdfs:label|dcterms:title ?label
             FILTER(LANGMATCHES(LANG(?label), "en") || LANG(?label) = "") }
} GROUP BY ?resource ?graph ?property ?value ORDER BY ?property ?value LIMIT 2000
"""

#: What points to a resource: each link once, however many graphs state it (issue 17).
RESOURCE_IN: Final = """
SELECT ?resource ?subject ?property (SAMPLE(?label) AS ?subjectLabel) WHERE {
  ?subject ?property ?resource
  OPTIONAL { ?subject skos:prefLabel|rdfs:label|dcterms:title ?label
             FILTER(LANGMATCHES(LANG(?label), "en") || LANG(?label) = "") }
} GROUP BY ?resource ?subject ?property ORDER BY ?property ?subject LIMIT 2000
"""

#: The source documents described in the named graphs a resource's statements are in.
RESOURCE_GRAPH_SOURCES: Final = """
SELECT DISTINCT ?resource ?graph ?document ?title WHERE {
  GRAPH ?graph { { ?resource ?p ?o } UNION { ?s ?p ?resource } }
  GRAPH ?graph { ?document a ?documentClass
                 VALUES ?documentClass { ag:SourceDocument ag:ReferenceSource } }
  OPTIONAL { ?document dcterms:title ?title }
} ORDER BY ?graph ?document
"""

#: The passages (lines of source documents) a resource was derived from.
RESOURCE_PASSAGES: Final = """
SELECT ?resource ?passage ?line ?document ?title WHERE {
  ?resource prov:wasDerivedFrom ?passage .
  OPTIONAL { ?passage ag:lineNumber ?line }
  OPTIONAL { ?passage dcterms:isPartOf ?document OPTIONAL { ?document dcterms:title ?title } }
} ORDER BY ?document ?line ?passage
"""

#: The linked-data document of a resource: its statements, what points to it, one level of
#: blank nodes, and the labels of its neighbours (so a client can show them).
RESOURCE_DESCRIPTION: Final = """
CONSTRUCT {
  ?resource ?p ?o . ?o ?bp ?bo . ?s ?ip ?resource . ?n ?lp ?nl .
} WHERE {
  { ?resource ?p ?o OPTIONAL { FILTER(isBlank(?o)) ?o ?bp ?bo } }
  UNION { ?s ?ip ?resource }
  UNION { { ?resource ?x ?n } UNION { ?n ?x ?resource } FILTER(isIRI(?n))
          VALUES ?lp { rdfs:label skos:prefLabel } ?n ?lp ?nl }
}
"""

#: Everything in one named graph (the ontology's document is its graph).
GRAPH_CONTENT: Final = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?graph { ?s ?p ?o } }"

#: The labels of every IRI in one named graph (for the ontology page's table of contents).
GRAPH_SUBJECTS: Final = """
SELECT ?graph ?term (SAMPLE(?type) AS ?termType) (SAMPLE(?label) AS ?termLabel) WHERE {
  GRAPH ?graph { ?term ?p ?o FILTER(isIRI(?term)) }
  OPTIONAL { GRAPH ?graph { ?term a ?type } }
  OPTIONAL { GRAPH ?graph { ?term rdfs:label|skos:prefLabel ?label
                            FILTER(LANGMATCHES(LANG(?label), "en") || LANG(?label) = "") } }
} GROUP BY ?graph ?term ORDER BY ?term
"""

# --- Graph pictures and exports (graph.answering.export).

#: The whole graph as triples (the default graph: every triple of the named graphs, once).
ALL_TRIPLES: Final = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"

# --- Dataset description (graph.http.pages.dataset).

COUNT_ENTITIES: Final = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o FILTER(isIRI(?s)) }"

DISTINCT_PREDICATES: Final = "SELECT DISTINCT ?p WHERE { ?s ?p ?o } ORDER BY ?p"

#: One instance each of a few classes readers start from (a country, an alliance, a source).
EXAMPLE_RESOURCES: Final = """
SELECT ?class (MIN(STR(?resource)) AS ?example) WHERE {
  VALUES ?class { ag:Country ag:Alliance ag:Organization ag:SourceDocument ag:Agreement }
  ?resource a ?class FILTER(isIRI(?resource))
} GROUP BY ?class ORDER BY ?class
"""
